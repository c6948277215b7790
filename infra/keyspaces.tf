# Optional Amazon Keyspaces keyspace and tables, column for column the
# tables of cassandra/schema.cql (tests/infra checks that they agree).
# Rows are partitioned by user and UTC day and clustered newest first.

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
        offset           = "bigint"
        record_timestamp = "timestamp"
        reason           = "text"
        detail           = "text"
        function         = "text"
        key              = "blob"
        value            = "blob"
      }
      partition_key = ["topic", "partition"]
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

  point_in_time_recovery {
    status = var.keyspaces_point_in_time_recovery ? "ENABLED" : "DISABLED"
  }

  # USING TTL is accepted only by tables with TTL turned on.
  dynamic "ttl" {
    for_each = var.ttl_seconds > 0 ? [1] : []
    content {
      status = "ENABLED"
    }
  }

  tags = var.tags

  #checkov:skip=CKV_AWS_265:Keyspaces always encrypts at rest; a customer managed key is opt-in through var.keyspaces_kms_key_arn.
}
