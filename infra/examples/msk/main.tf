# logpipe on Amazon MSK with IAM authentication, writing to Amazon Keyspaces.
# The module creates the keyspace and tables; the functions read their
# Keyspaces service-specific credentials from Secrets Manager.

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      project = "logpipe"
    }
  }
}

module "logpipe" {
  source = "../.."

  function_name_prefix = var.function_name_prefix

  lambda_architecture    = var.lambda_architecture
  lambda_artifacts_dir   = var.lambda_artifacts_dir
  live_function_versions = var.live_function_versions

  # Kafka
  kafka_source                       = "msk"
  msk_cluster_arn                    = var.msk_cluster_arn
  kafka_auth                         = "IAM"
  batch_size                         = var.batch_size
  starting_position                  = "TRIM_HORIZON"
  provisioned_pollers                = var.provisioned_pollers
  maximum_retry_attempts             = var.provisioned_pollers == null ? -1 : 100
  bisect_batch_on_function_error     = var.provisioned_pollers != null
  on_failure_destination_arn         = var.on_failure_destination_arn
  on_failure_destination_kms_key_arn = var.on_failure_destination_kms_key_arn

  # Amazon Keyspaces
  storage_backend                  = "keyspaces"
  create_keyspaces_tables          = true
  keyspaces_kms_key_arn            = var.keyspaces_kms_key_arn
  cassandra_credentials_secret_arn = var.keyspaces_credentials_secret_arn
  secrets_kms_key_arns             = var.secrets_kms_key_arns
  cassandra_consistency            = "LOCAL_QUORUM"

  alarm_actions = var.alarm_actions
}
