variable "region" {
  description = "AWS region of the MSK cluster (Keyspaces is used in the same region)."
  type        = string
  default     = "us-east-1"
}

variable "function_name_prefix" {
  description = "Prefix for function, role and alarm names."
  type        = string
  default     = ""
}

variable "msk_cluster_arn" {
  description = "ARN of the MSK cluster (IAM access control enabled)."
  type        = string
}

variable "batch_size" {
  description = "Records per invocation."
  type        = number
  default     = 500
}

variable "provisioned_pollers" {
  description = "Minimum and maximum pollers for provisioned mode, or null for on-demand pollers. With provisioned mode this example retries a failing batch 100 times, bisecting it, before it goes to the on-failure destination."
  type = object({
    minimum_pollers = number
    maximum_pollers = number
  })
  default = null
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

variable "keyspaces_credentials_secret_arn" {
  description = "Secrets Manager secret holding Keyspaces service-specific credentials as {\"username\",\"password\"}."
  type        = string
  sensitive   = true
}

variable "secrets_kms_key_arns" {
  description = "Customer managed KMS keys of the secrets, if any."
  type        = list(string)
  default     = []
}

variable "keyspaces_kms_key_arn" {
  description = "Customer managed KMS key for the Keyspaces tables, or null for the AWS owned key."
  type        = string
  default     = null
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
