# Optional Amazon Keyspaces keyspace and tables, column for column the
# tables of cassandra/schema.cql (tests/infra checks that they agree).
# Log rows are partitioned by user and UTC day and clustered newest first;
# dead letters by topic, Kafka partition and UTC day, clustered by offset.
#
# Every table has client-side timestamps on: the functions write each row
# `USING TIMESTAMP ?`, which Keyspaces accepts only on such tables. Keyspaces
# cannot turn them off again once on.

locals {
  create_keyspaces = local.keyspaces && var.create_keyspaces_tables

  keyspaces_tables = {
    auth_logs = {
      columns = {
        user_id          = "text"
        day              = "date"
        event_time       = "timestamp"
        event_id         = "uuid"
        event_type       = "text"
        success          = "boolean"
        ip_address       = "inet"
        auth_method      = "text"
        failure_reason   = "text"
        user_agent       = "text"
        country          = "text"
        city             = "text"
        source_partition = "int"
        source_offset    = "bigint"
      }
      partition_key = ["user_id", "day"]
      clustering_key = [
        { name = "event_time", order_by = "DESC" },
        { name = "event_id", order_by = "ASC" },
      ]
    }

    session_logs = {
      columns = {
        user_id          = "text"
        day              = "date"
        event_time       = "timestamp"
        session_id       = "uuid"
        event_type       = "text"
        ip_address       = "inet"
        device_type      = "text"
        os               = "text"
        browser          = "text"
        duration_ms      = "bigint"
        pages_viewed     = "int"
        source_partition = "int"
        source_offset    = "bigint"
      }
      partition_key = ["user_id", "day"]
      clustering_key = [
        { name = "event_time", order_by = "DESC" },
        { name = "session_id", order_by = "ASC" },
        { name = "event_type", order_by = "ASC" },
      ]
    }

    activity_logs = {
      columns = {
        user_id          = "text"
        day              = "date"
        event_time       = "timestamp"
        event_id         = "uuid"
        session_id       = "uuid"
        action           = "text"
        resource         = "text"
        duration_ms      = "bigint"
        metadata         = "map<text, text>"
        source_partition = "int"
        source_offset    = "bigint"
      }
      partition_key = ["user_id", "day"]
      clustering_key = [
        { name = "event_time", order_by = "DESC" },
        { name = "event_id", order_by = "ASC" },
      ]
    }

    dead_letters = {
      columns = {
        topic            = "text"
        partition        = "int"
        day              = "date"
        offset           = "bigint"
        record_timestamp = "timestamp"
        reason           = "text"
        detail           = "text"
        function         = "text"
        key              = "blob"
        value            = "blob"
      }
      partition_key = ["topic", "partition", "day"]
      clustering_key = [
        { name = "offset", order_by = "ASC" },
      ]
    }
  }
}

resource "aws_keyspaces_keyspace" "this" {
  count = local.create_keyspaces ? 1 : 0

  name = var.cassandra_keyspace

  replication_specification {
    replication_strategy = "SINGLE_REGION"
  }

  tags = var.tags
}

resource "aws_keyspaces_table" "this" {
  for_each = local.create_keyspaces ? local.keyspaces_tables : {}

  keyspace_name = aws_keyspaces_keyspace.this[0].name
  table_name    = each.key

  schema_definition {
    dynamic "column" {
      for_each = each.value.columns
      content {
        name = column.key
        type = column.value
      }
    }

    dynamic "partition_key" {
      for_each = each.value.partition_key
      content {
        name = partition_key.value
      }
    }

    dynamic "clustering_key" {
      for_each = each.value.clustering_key
      content {
        name     = clustering_key.value.name
        order_by = clustering_key.value.order_by
      }
    }
  }

  capacity_specification {
    throughput_mode = "PAY_PER_REQUEST"
  }

  encryption_specification {
    type               = var.keyspaces_kms_key_arn == null ? "AWS_OWNED_KMS_KEY" : "CUSTOMER_MANAGED_KMS_KEY"
    kms_key_identifier = var.keyspaces_kms_key_arn
  }

  # The functions send `USING TIMESTAMP ?` on every insert.
  client_side_timestamps {
    status = "ENABLED"
  }

  point_in_time_recovery {
    status = var.keyspaces_point_in_time_recovery ? "ENABLED" : "DISABLED"
  }

  # Every insert binds `USING TTL ?` (0 when var.ttl_seconds is 0), and
  # Keyspaces takes USING TTL only on tables with TTL turned on. Turning it
  # on sets no default TTL: rows expire only when an insert says so.
  ttl {
    status = "ENABLED"
  }

  tags = var.tags

  #checkov:skip=CKV_AWS_265:Keyspaces always encrypts at rest; a customer managed key is opt-in through var.keyspaces_kms_key_arn.
}
