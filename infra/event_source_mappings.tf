# One Kafka event source mapping per topic, each with its own consumer group,
# invoking the function's `live` alias (aws_lambda_alias.live in main.tf).
#
# Amazon MSK:        event_source_arn + amazon_managed_kafka_event_source_config;
#                    auth IAM (execution role), SASL/SCRAM-512 or mTLS (secret).
# Self-managed Kafka: self_managed_event_source + self_managed_kafka_event_source_config;
#                    auth SASL/SCRAM-256/512, SASL/PLAIN or mTLS (secret),
#                    VPC subnets and security groups, optional broker root CA.

locals {
  provisioned = var.provisioned_pollers != null

  # source_access_configuration type for the secret of each kafka_auth.
  auth_access_type = {
    SASL_SCRAM_512 = "SASL_SCRAM_512_AUTH"
    SASL_SCRAM_256 = "SASL_SCRAM_256_AUTH"
    SASL_PLAIN     = "BASIC_AUTH"
    MTLS           = "CLIENT_CERTIFICATE_TLS_AUTH"
  }

  source_access_configurations = concat(
    local.uses_kafka_auth_secret ? [
      { type = local.auth_access_type[var.kafka_auth], uri = var.kafka_auth_secret_arn }
    ] : [],
    local.uses_kafka_ca_secret ? [
      { type = "SERVER_ROOT_CA_CERTIFICATE", uri = var.kafka_server_root_ca_secret_arn }
    ] : [],
    local.is_msk ? [] : [for id in var.kafka_subnet_ids : { type = "VPC_SUBNET", uri = "subnet:${id}" }],
    local.is_msk ? [] : [for id in var.kafka_security_group_ids : { type = "VPC_SECURITY_GROUP", uri = "security_group:${id}" }],
  )

  esm_metrics_enabled = local.provisioned && length(var.event_source_mapping_metrics) > 0

  retry_settings_customised = var.maximum_retry_attempts != -1 || var.maximum_record_age_in_seconds != -1 || var.bisect_batch_on_function_error
}

resource "aws_lambda_event_source_mapping" "this" {
  for_each = var.create_event_source_mappings ? local.functions : {}

  # The alias, not the unqualified function: a deploy publishes a version
  # and moves the alias; a rollback moves it back (live_function_versions).
  function_name = aws_lambda_alias.live[each.key].arn
  topics        = [each.key]
  enabled       = var.event_source_mapping_enabled

  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = var.maximum_batching_window_in_seconds
  starting_position                  = var.starting_position
  starting_position_timestamp        = var.starting_position == "AT_TIMESTAMP" ? var.starting_position_timestamp : null

  # Amazon MSK
  event_source_arn = local.is_msk ? var.msk_cluster_arn : null

  dynamic "amazon_managed_kafka_event_source_config" {
    for_each = local.is_msk ? [1] : []
    content {
      consumer_group_id = each.value.consumer_group_id
    }
  }

  # Self-managed Apache Kafka
  dynamic "self_managed_event_source" {
    for_each = local.is_msk ? [] : [1]
    content {
      endpoints = {
        KAFKA_BOOTSTRAP_SERVERS = join(",", var.kafka_bootstrap_servers)
      }
    }
  }

  dynamic "self_managed_kafka_event_source_config" {
    for_each = local.is_msk ? [] : [1]
    content {
      consumer_group_id = each.value.consumer_group_id
    }
  }

  # Authentication secrets (both kinds) and VPC placement (self-managed).
  dynamic "source_access_configuration" {
    for_each = local.source_access_configurations
    content {
      type = source_access_configuration.value.type
      uri  = source_access_configuration.value.uri
    }
  }

  dynamic "provisioned_poller_config" {
    for_each = local.provisioned ? [var.provisioned_pollers] : []
    content {
      minimum_pollers = provisioned_poller_config.value.minimum_pollers
      maximum_pollers = provisioned_poller_config.value.maximum_pollers
    }
  }

  # Mapping metrics (AWS/Lambda, dimension EventSourceMappingUUID):
  # var.event_source_mapping_metrics, EventCount by default (ErrorCount and
  # KafkaMetrics need a provider from 2026, see variables.tf). AWS produces
  # them for Kafka mappings in provisioned mode, so the block is set only
  # there; OffsetLag is emitted in both modes without it.
  dynamic "metrics_config" {
    for_each = local.esm_metrics_enabled ? [var.event_source_mapping_metrics] : []
    content {
      metrics = metrics_config.value
    }
  }

  # Kafka honours these only in provisioned mode.
  maximum_retry_attempts         = local.provisioned ? var.maximum_retry_attempts : null
  maximum_record_age_in_seconds  = local.provisioned ? var.maximum_record_age_in_seconds : null
  bisect_batch_on_function_error = local.provisioned ? var.bisect_batch_on_function_error : null

  dynamic "destination_config" {
    for_each = var.on_failure_destination_arn == null ? [] : [var.on_failure_destination_arn]
    content {
      on_failure {
        destination_arn = destination_config.value
      }
    }
  }

  dynamic "filter_criteria" {
    for_each = length(var.filter_patterns) > 0 ? [1] : []
    content {
      dynamic "filter" {
        for_each = var.filter_patterns
        content {
          pattern = filter.value
        }
      }
    }
  }

  tags = var.tags

  # The pollers use the function's role: its policy must be in place first.
  depends_on = [aws_iam_role_policy.function]

  lifecycle {
    precondition {
      condition     = !local.is_msk || var.msk_cluster_arn != null
      error_message = "kafka_source = \"msk\" needs msk_cluster_arn."
    }
    precondition {
      condition     = local.is_msk || length(var.kafka_bootstrap_servers) > 0
      error_message = "kafka_source = \"self_managed\" needs kafka_bootstrap_servers."
    }
    precondition {
      condition     = local.is_msk ? contains(["IAM", "SASL_SCRAM_512", "MTLS", "NONE"], var.kafka_auth) : var.kafka_auth != "IAM"
      error_message = "MSK takes kafka_auth IAM, SASL_SCRAM_512, MTLS or NONE; a self-managed cluster takes SASL_SCRAM_512, SASL_SCRAM_256, SASL_PLAIN, MTLS or NONE."
    }
    precondition {
      condition     = contains(["IAM", "NONE"], var.kafka_auth) || local.has_kafka_auth_secret
      error_message = "kafka_auth = ${var.kafka_auth} needs kafka_auth_secret_arn."
    }
    precondition {
      condition     = length(var.kafka_subnet_ids) == 0 || length(var.kafka_security_group_ids) > 0
      error_message = "kafka_security_group_ids must be set when kafka_subnet_ids is."
    }
    precondition {
      condition     = var.starting_position != "AT_TIMESTAMP" || var.starting_position_timestamp != null
      error_message = "starting_position = AT_TIMESTAMP needs starting_position_timestamp."
    }
    precondition {
      condition     = local.provisioned || !local.retry_settings_customised
      error_message = "maximum_retry_attempts, maximum_record_age_in_seconds and bisect_batch_on_function_error apply to Kafka only in provisioned mode: set provisioned_pollers."
    }
  }
}
