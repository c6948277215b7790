variable "region" {
  description = "Region LocalStack emulates."
  type        = string
  default     = "us-east-1"
}

variable "localstack_endpoint" {
  description = "LocalStack edge endpoint as seen from the host (the --endpoint-url of the esm_commands output)."
  type        = string
  default     = "http://localhost:4566"
}

variable "host_kafka_bootstrap" {
  description = "The compose Kafka as seen from the host (the --bootstrap of the esm_commands output)."
  type        = string
  default     = "localhost:9092"
}

variable "lambda_architecture" {
  description = "arm64 (needs arm64 emulation such as binfmt/QEMU on an x86_64 Docker host) or x86_64. `make deploy-local ARCH=x86_64` builds x86_64 zips and sets this and lambda_artifacts_dir to match."
  type        = string
  default     = "arm64"
}

variable "lambda_artifacts_dir" {
  description = "Directory holding <function>/bootstrap.zip (absolute, or relative to this directory), or null for target/lambda/<lambda_architecture> of the repository. `make deploy-local` sets it from ARCH."
  type        = string
  default     = null
}

variable "create_event_source_mappings" {
  description = "Create Kafka event source mappings (needs LocalStack Pro). Off: run `logpipe esm` instead."
  type        = bool
  default     = false
}

variable "kafka_bootstrap_servers" {
  description = "Brokers as seen from inside the compose network, for event source mappings on LocalStack Pro."
  type        = list(string)
  default     = ["kafka:19092"]
}

variable "batch_size" {
  description = "Records per invocation."
  type        = number
  default     = 100
}

variable "cassandra_contact_points" {
  description = "Contact points as seen from the Lambda containers on the compose network (use cassandra:9042 with the `cassandra` profile)."
  type        = list(string)
  default     = ["scylla:9042"]
}

variable "credentials_from_secrets_manager" {
  description = "Hand the functions the Secrets Manager secret that the LocalStack init hook creates, to exercise the credentials path."
  type        = bool
  default     = true
}

variable "cassandra_credentials_secret_name" {
  description = "Name of the Secrets Manager secret the LocalStack init hook creates."
  type        = string
  default     = "logpipe/cassandra"
}

variable "rust_log" {
  description = "RUST_LOG of the functions."
  type        = string
  default     = "info"
}
