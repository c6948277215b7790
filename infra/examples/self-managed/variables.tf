variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "us-east-1"
}

variable "function_name_prefix" {
  description = "Prefix for function, role and alarm names."
  type        = string
  default     = ""
}

variable "kafka_bootstrap_servers" {
  description = "host:port bootstrap brokers of the Kafka cluster."
  type        = list(string)
}

variable "kafka_auth_secret_arn" {
  description = "Secrets Manager secret with the SASL/SCRAM {\"username\",\"password\"} of the consumer."
  type        = string
  sensitive   = true
}

variable "secrets_kms_key_arns" {
  description = "Customer managed KMS keys of the secrets, if any."
  type        = list(string)
  default     = []
}

variable "subnet_ids" {
  description = "Private subnets that reach both the brokers and the Cassandra nodes."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups allowed to reach the brokers and the Cassandra nodes."
  type        = list(string)
}

variable "batch_size" {
  description = "Records per invocation."
  type        = number
  default     = 500
}

variable "on_failure_destination_arn" {
  description = "SQS queue, SNS topic or S3 bucket for discarded batches, or null."
  type        = string
  default     = null
}

variable "on_failure_destination_kms_key_arn" {
  description = "Customer managed KMS key of the on-failure destination, or null (AWS managed or no encryption)."
  type        = string
  default     = null
}

variable "cassandra_contact_points" {
  description = "host:port contact points of the Cassandra or ScyllaDB cluster."
  type        = list(string)
}

variable "cassandra_local_dc" {
  description = "Datacenter the functions write to."
  type        = string
  default     = null
}

variable "cassandra_credentials_secret_arn" {
  description = "Secrets Manager secret with the Cassandra {\"username\",\"password\"}, or null for a cluster without authentication."
  type        = string
  default     = null
  sensitive   = true
}

variable "cassandra_tls" {
  description = "Connect to Cassandra over TLS."
  type        = bool
  default     = false
}

variable "alarm_actions" {
  description = "SNS topic ARNs notified by the alarms."
  type        = list(string)
  default     = []
}

variable "lambda_architecture" {
  description = "arm64 or x86_64: the architecture of the functions and of the zips read. `make plan` and `make deploy-local` set it from ARCH (default arm64)."
  type        = string
  default     = "arm64"
}

variable "lambda_artifacts_dir" {
  description = "Directory holding <function>/bootstrap.zip (absolute, or relative to this directory), or null for target/lambda/<lambda_architecture> of the repository. `make plan` and `make deploy-local` set it to the directory `make build` wrote for ARCH."
  type        = string
  default     = null
}

variable "live_function_versions" {
  description = "Topic -> published version the live alias points at instead of the newest one: set it to roll a topic back, remove the entry to roll forward."
  type        = map(string)
  default     = {}
}
