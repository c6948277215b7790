# logpipe on LocalStack (free edition: Lambda, IAM, Secrets Manager,
# CloudWatch Logs and CloudWatch), applied with `tflocal` by
# `make deploy-local` against the stack of docker-compose.yml.
#
# The free edition has no Kafka event source mapping, so the mappings are
# off by default and `logpipe esm` is the trigger: it consumes each topic
# from the compose Kafka and invokes the functions over LocalStack's Lambda
# API (see the esm_commands output). The functions run in containers on the
# compose network, so they reach ScyllaDB as scylla:9042.

provider "aws" {
  region = var.region
}

# Created by localstack/init/ready.d/10-cassandra-credentials.sh when
# LocalStack starts.
data "aws_secretsmanager_secret" "cassandra" {
  count = var.credentials_from_secrets_manager ? 1 : 0
  name  = var.cassandra_credentials_secret_name
}

module "logpipe" {
  source = "../.."

  lambda_architecture  = var.lambda_architecture
  lambda_artifacts_dir = var.lambda_artifacts_dir

  # Kafka: only LocalStack Pro serves these; `logpipe esm` replaces them.
  create_event_source_mappings = var.create_event_source_mappings
  kafka_source                 = "self_managed"
  kafka_bootstrap_servers      = var.kafka_bootstrap_servers
  batch_size                   = var.batch_size

  # ScyllaDB (or Cassandra with the compose `cassandra` profile).
  storage_backend                  = "cassandra"
  cassandra_contact_points         = var.cassandra_contact_points
  cassandra_local_dc               = "datacenter1"
  cassandra_credentials_secret_arn = var.credentials_from_secrets_manager ? data.aws_secretsmanager_secret.cassandra[0].arn : null

  log_retention_days = 1
  rust_log           = var.rust_log
}
