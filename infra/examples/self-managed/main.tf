# logpipe on a self-managed Apache Kafka cluster inside a VPC, writing to
# Cassandra or ScyllaDB in the same VPC. The event source mappings
# authenticate with SASL/SCRAM-512; the functions read their Cassandra
# credentials from Secrets Manager.

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
  kafka_source                       = "self_managed"
  kafka_bootstrap_servers            = var.kafka_bootstrap_servers
  kafka_auth                         = "SASL_SCRAM_512"
  kafka_auth_secret_arn              = var.kafka_auth_secret_arn
  kafka_subnet_ids                   = var.subnet_ids
  kafka_security_group_ids           = var.security_group_ids
  secrets_kms_key_arns               = var.secrets_kms_key_arns
  batch_size                         = var.batch_size
  starting_position                  = "TRIM_HORIZON"
  on_failure_destination_arn         = var.on_failure_destination_arn
  on_failure_destination_kms_key_arn = var.on_failure_destination_kms_key_arn

  # Cassandra / ScyllaDB
  storage_backend                  = "cassandra"
  cassandra_contact_points         = var.cassandra_contact_points
  cassandra_local_dc               = var.cassandra_local_dc
  cassandra_credentials_secret_arn = var.cassandra_credentials_secret_arn
  cassandra_tls                    = var.cassandra_tls

  # The functions run in the same subnets to reach the cluster.
  vpc_subnet_ids         = var.subnet_ids
  vpc_security_group_ids = var.security_group_ids

  alarm_actions = var.alarm_actions
}
