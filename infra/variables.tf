# ---------------------------------------------------------------------------
# Functions
# ---------------------------------------------------------------------------

variable "topic_functions" {
  description = "Kafka topic -> function (crate and binary) name. One Lambda function, log group, IAM role, event source mapping and alarm pair is created per entry. Topic names may be changed; function names must be binaries that `make build` produces."
  type        = map(string)
  default = {
    user_auth_logs     = "auth-logs"
    user_session_logs  = "session-logs"
    user_activity_logs = "activity-logs"
  }

  validation {
    condition     = length(var.topic_functions) > 0
    error_message = "topic_functions must name at least one topic."
  }

  validation {
    condition     = alltrue([for topic in keys(var.topic_functions) : can(regex("^[a-zA-Z0-9._-]{1,249}$", topic))])
    error_message = "Every key of topic_functions must be a valid Kafka topic name (1-249 of [a-zA-Z0-9._-])."
  }

  validation {
    condition     = alltrue([for f in values(var.topic_functions) : contains(["auth-logs", "session-logs", "activity-logs"], f)])
    error_message = "Every value of topic_functions must be one of the function binaries: auth-logs, session-logs, activity-logs."
  }

  validation {
    condition     = length(distinct(values(var.topic_functions))) == length(var.topic_functions)
    error_message = "A function may own only one topic: the values of topic_functions must be distinct."
  }
}

variable "function_name_prefix" {
  description = "Prefix for the Lambda function, IAM role and alarm names (for example \"staging-\"). Empty by default, so the Lambda functions are named exactly like the binaries."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{0,40}$", var.function_name_prefix))
    error_message = "function_name_prefix may hold at most 40 of [a-zA-Z0-9_-]."
  }
}

variable "lambda_architecture" {
  description = "Instruction set of the functions: arm64 (the default, what `make build` produces) or x86_64."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.lambda_architecture)
    error_message = "lambda_architecture must be arm64 or x86_64."
  }
}

variable "lambda_artifacts_dir" {
  description = "Directory that holds <function>/bootstrap.zip. Null means target/lambda/<lambda_architecture> of this repository (relative to this module), where `make build` writes the zips. An absolute path is used as it is; a relative one is resolved against the root module (path.root, the directory terraform runs in), so the module also works when fetched from another source. `make plan` and `make deploy-local` set it, with lambda_architecture, from ARCH."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_artifacts_dir == null || try(length(trimspace(var.lambda_artifacts_dir)) > 0, false)
    error_message = "lambda_artifacts_dir must be null or a non-empty path."
  }
}

variable "alias_name" {
  description = "Name of the alias each function gets and each event source mapping invokes. Every apply that changes a function publishes a new version and moves this alias to it, unless live_function_versions pins the topic."
  type        = string
  default     = "live"

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,128}$", var.alias_name)) && !can(regex("^[0-9]+$", var.alias_name))
    error_message = "alias_name must be 1-128 of [a-zA-Z0-9_-] and not only digits (digits name versions)."
  }
}

variable "live_function_versions" {
  description = "Topic -> published version number the alias points at instead of the version this apply publishes. Rolling back a topic is setting it to an earlier version (see the function_versions and live_versions outputs) and applying; remove the entry to follow the newest version again."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for v in values(var.live_function_versions) : can(regex("^[1-9][0-9]*$", v))])
    error_message = "live_function_versions values must be published version numbers (1, 2, ...), not $LATEST or an alias."
  }
}

variable "memory_size" {
  description = "Memory of each function in MB (128-10240). CPU share grows with memory."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be between 128 and 10240 MB."
  }
}

variable "timeout" {
  description = "Timeout of each function in seconds (1-900). A batch that times out is retried by the event source mapping."
  type        = number
  default     = 60

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900
    error_message = "timeout must be between 1 and 900 seconds."
  }
}

variable "reserved_concurrent_executions" {
  description = "Reserved concurrency of each function; -1 (the default) leaves it unreserved, 0 stops it. The Kafka poller already invokes at most one batch per partition at a time, so a reservation below the partition count of a topic slows that topic down."
  type        = number
  default     = -1

  validation {
    condition     = var.reserved_concurrent_executions >= -1
    error_message = "reserved_concurrent_executions must be -1 (unreserved) or a non-negative number."
  }
}

variable "lambda_kms_key_arn" {
  description = "Customer managed KMS key that encrypts the functions' environment variables. Null uses the AWS managed Lambda key (the environment carries no secret: credentials come from Secrets Manager)."
  type        = string
  default     = null
}

variable "tracing_mode" {
  description = "X-Ray tracing mode of the functions: PassThrough or Active (Active adds xray:PutTraceSegments to the roles)."
  type        = string
  default     = "PassThrough"

  validation {
    condition     = contains(["PassThrough", "Active"], var.tracing_mode)
    error_message = "tracing_mode must be PassThrough or Active."
  }
}

variable "vpc_subnet_ids" {
  description = "Subnets to attach the functions to, so they reach Cassandra or ScyllaDB inside a VPC. Empty runs the functions outside any VPC (enough for Amazon Keyspaces over its public endpoint). A function in a VPC reaches Secrets Manager and Keyspaces only through a NAT gateway or VPC endpoints."
  type        = list(string)
  default     = []
}

variable "vpc_security_group_ids" {
  description = "Security groups of the functions' network interfaces; required when vpc_subnet_ids is set."
  type        = list(string)
  default     = []
}

variable "iam_role_permissions_boundary" {
  description = "ARN of a permissions boundary policy to attach to every function role, or null."
  type        = string
  default     = null
}

variable "rust_log" {
  description = "RUST_LOG filter of the functions (for example \"info,logpipe_core=debug\"), or null to leave the level to application_log_level. When set it overrides application_log_level inside the function (Lambda still drops lines below application_log_level)."
  type        = string
  default     = null

  validation {
    condition     = var.rust_log == null || try(length(trimspace(var.rust_log)) > 0, false)
    error_message = "rust_log must be null or a non-empty filter such as \"info\" or \"warn,logpipe_core=debug\"."
  }
}

variable "application_log_level" {
  description = "Lambda's application log level (logging_config.application_log_level): TRACE, DEBUG, INFO, WARN, ERROR or FATAL. Lambda passes it to the functions as AWS_LAMBDA_LOG_LEVEL, which sets their level unless rust_log is set, and drops JSON log lines below it. Above INFO it would also drop the metric lines (see metrics_enabled)."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"], var.application_log_level)
    error_message = "application_log_level must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL."
  }
}

variable "system_log_level" {
  description = "Lambda's system log level (logging_config.system_log_level) for the platform's own lines (START, END, REPORT): DEBUG, INFO or WARN."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARN"], var.system_log_level)
    error_message = "system_log_level must be one of DEBUG, INFO, WARN."
  }
}

variable "metrics_enabled" {
  description = "Have the functions print their batch metrics (CloudWatch Embedded Metric Format: records, written, dead-lettered by reason, latency, oldest record age, write retries, failures) to stdout, which CloudWatch turns into metrics (LOGPIPE_METRICS). The dashboard's batch graphs and the dead-letter-rate and record-age alarms read them. Needs application_log_level at INFO or below."
  type        = bool
  default     = true
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the batch metrics (LOGPIPE_METRICS_NAMESPACE)."
  type        = string
  default     = "logpipe"

  validation {
    condition     = can(regex("^[a-zA-Z0-9._/#: -]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/") && trimspace(var.metrics_namespace) != ""
    error_message = "metrics_namespace must be 1-255 of letters, digits and . _ / # : - or space, and must not start with AWS/."
  }
}

variable "log_retention_days" {
  description = "Retention of each function's CloudWatch log group, in days (one of the values CloudWatch Logs accepts; 0 keeps logs forever)."
  type        = number
  default     = 30

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of 0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "log_kms_key_arn" {
  description = "Customer managed KMS key that encrypts the log groups, or null for CloudWatch Logs' own encryption. The key policy must allow the logs service principal."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource that takes tags."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------
# Storage: Cassandra, ScyllaDB or Amazon Keyspaces
# ---------------------------------------------------------------------------

variable "storage_backend" {
  description = "Where rows are written: \"cassandra\" (Apache Cassandra or ScyllaDB at cassandra_contact_points) or \"keyspaces\" (Amazon Keyspaces in this region: port 9142, TLS, LOCAL_QUORUM)."
  type        = string
  default     = "cassandra"

  validation {
    condition     = contains(["cassandra", "keyspaces"], var.storage_backend)
    error_message = "storage_backend must be cassandra or keyspaces."
  }
}

variable "cassandra_contact_points" {
  description = "host:port contact points of the Cassandra or ScyllaDB cluster. Ignored for Amazon Keyspaces, whose regional endpoint is used unless keyspaces_endpoint overrides it."
  type        = list(string)
  default     = ["127.0.0.1:9042"]

  validation {
    condition     = length(var.cassandra_contact_points) > 0 && alltrue([for cp in var.cassandra_contact_points : can(regex("^[^,:\\s]+:[0-9]{1,5}$", cp))])
    error_message = "cassandra_contact_points must be a non-empty list of host:port."
  }
}

variable "keyspaces_endpoint" {
  description = "host:port of Amazon Keyspaces, for example an interface VPC endpoint's DNS name. Null uses cassandra.<region>.amazonaws.com:9142."
  type        = string
  default     = null
}

variable "cassandra_keyspace" {
  description = "Keyspace the functions write to."
  type        = string
  default     = "user_db"

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_]{0,47}$", var.cassandra_keyspace))
    error_message = "cassandra_keyspace must start with a letter and hold at most 48 of [a-zA-Z0-9_]."
  }
}

variable "cassandra_local_dc" {
  description = "Local datacenter for the driver's load balancing, or null. Amazon Keyspaces uses the region name, which is the default for storage_backend = \"keyspaces\"."
  type        = string
  default     = null
}

variable "cassandra_consistency" {
  description = "Consistency level of the writes. Amazon Keyspaces accepts only LOCAL_QUORUM for writes (it rejects QUORUM)."
  type        = string
  default     = "LOCAL_QUORUM"

  validation {
    condition     = contains(["ONE", "TWO", "THREE", "QUORUM", "ALL", "LOCAL_QUORUM", "EACH_QUORUM", "LOCAL_ONE"], var.cassandra_consistency)
    error_message = "cassandra_consistency must be a CQL write consistency: ONE, TWO, THREE, QUORUM, ALL, LOCAL_QUORUM, EACH_QUORUM or LOCAL_ONE."
  }
}

variable "cassandra_credentials_secret_arn" {
  description = "ARN of the Secrets Manager secret whose SecretString is {\"username\": \"...\", \"password\": \"...\"} (for Amazon Keyspaces: service-specific credentials). The function reads it at start and caches it; only this secret is readable by the function role. Null connects without authentication."
  type        = string
  default     = null
  sensitive   = true
}

variable "cassandra_tls" {
  description = "Whether the functions connect to Cassandra over TLS. Always on for Amazon Keyspaces."
  type        = bool
  default     = false
}

variable "cassandra_tls_ca_file" {
  description = "Path, inside the function, of a PEM bundle to trust instead of the built-in web roots (for a private CA), or null."
  type        = string
  default     = null
}

variable "cassandra_tls_server_name" {
  description = "Host name to check the server certificate against instead of the contact point's host, or null."
  type        = string
  default     = null
}

variable "ttl_seconds" {
  description = "TTL written with every row, in seconds; 0 writes rows without TTL. With Amazon Keyspaces a non-zero TTL also turns on TTL for the tables this module creates."
  type        = number
  default     = 0

  validation {
    condition     = var.ttl_seconds >= 0 && var.ttl_seconds <= 630720000
    error_message = "ttl_seconds must be between 0 and 630720000 (20 years, the CQL maximum)."
  }
}

variable "write_concurrency" {
  description = "Maximum number of row writes in flight per invocation."
  type        = number
  default     = 64

  validation {
    condition     = var.write_concurrency >= 1 && var.write_concurrency <= 4096
    error_message = "write_concurrency must be between 1 and 4096."
  }
}

variable "write_max_attempts" {
  description = "Attempts per row write (the first one included) before the invocation fails and the event source mapping retries the batch."
  type        = number
  default     = 4

  validation {
    condition     = var.write_max_attempts >= 1 && var.write_max_attempts <= 100
    error_message = "write_max_attempts must be between 1 and 100."
  }
}

variable "retry_backoff_ms" {
  description = "Base backoff between write attempts, in milliseconds (doubled on each retry)."
  type        = number
  default     = 100

  validation {
    condition     = var.retry_backoff_ms >= 0 && var.retry_backoff_ms <= 60000
    error_message = "retry_backoff_ms must be between 0 and 60000."
  }
}

variable "request_timeout_ms" {
  description = "Timeout of a single CQL request, in milliseconds."
  type        = number
  default     = 2000

  validation {
    condition     = var.request_timeout_ms >= 100 && var.request_timeout_ms <= 120000
    error_message = "request_timeout_ms must be between 100 and 120000."
  }
}

variable "create_keyspaces_tables" {
  description = "With storage_backend = \"keyspaces\", create the keyspace and the four tables of cassandra/schema.cql in Amazon Keyspaces. Leave false when they already exist."
  type        = bool
  default     = false
}

variable "keyspaces_kms_key_arn" {
  description = "Customer managed KMS key for the Keyspaces tables this module creates, or null for the AWS owned key."
  type        = string
  default     = null
}

variable "keyspaces_point_in_time_recovery" {
  description = "Turn on point-in-time recovery for the Keyspaces tables this module creates."
  type        = bool
  default     = true
}

variable "secrets_kms_key_arns" {
  description = "Customer managed KMS keys that encrypt the secrets the functions or their event source mappings read (MSK SASL/SCRAM secrets always use one). The roles get kms:Decrypt on these keys through Secrets Manager only."
  type        = list(string)
  default     = []
}

# ---------------------------------------------------------------------------
# Kafka event source mappings
# ---------------------------------------------------------------------------

variable "create_event_source_mappings" {
  description = "Create one Kafka event source mapping per topic. Set false where no Kafka trigger exists (LocalStack's free edition); `logpipe esm` then plays the trigger."
  type        = bool
  default     = true
}

variable "event_source_mapping_enabled" {
  description = "Whether the event source mappings poll (false creates them paused)."
  type        = bool
  default     = true
}

variable "kafka_source" {
  description = "Kind of Kafka cluster: \"msk\" (Amazon MSK, msk_cluster_arn) or \"self_managed\" (kafka_bootstrap_servers)."
  type        = string
  default     = "self_managed"

  validation {
    condition     = contains(["msk", "self_managed"], var.kafka_source)
    error_message = "kafka_source must be msk or self_managed."
  }
}

variable "msk_cluster_arn" {
  description = "ARN of the Amazon MSK cluster (kafka_source = \"msk\"). The roles are scoped to this cluster and to their own topic and consumer group in it."
  type        = string
  default     = null

  validation {
    condition     = var.msk_cluster_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kafka:[a-z0-9-]+:[0-9]{12}:cluster/[^/]+/[^/]+$", var.msk_cluster_arn))
    error_message = "msk_cluster_arn must look like arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>."
  }
}

variable "kafka_bootstrap_servers" {
  description = "host:port bootstrap brokers of a self-managed Kafka cluster (kafka_source = \"self_managed\")."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for b in var.kafka_bootstrap_servers : can(regex("^[^,:\\s]+:[0-9]{1,5}$", b))])
    error_message = "kafka_bootstrap_servers must be host:port entries."
  }
}

variable "kafka_auth" {
  description = "How the event source mapping authenticates to Kafka. MSK: IAM, SASL_SCRAM_512, MTLS or NONE. Self-managed: SASL_SCRAM_512, SASL_SCRAM_256, SASL_PLAIN, MTLS or NONE."
  type        = string
  default     = "NONE"

  validation {
    condition     = contains(["IAM", "SASL_SCRAM_512", "SASL_SCRAM_256", "SASL_PLAIN", "MTLS", "NONE"], var.kafka_auth)
    error_message = "kafka_auth must be IAM, SASL_SCRAM_512, SASL_SCRAM_256, SASL_PLAIN, MTLS or NONE."
  }
}

variable "kafka_auth_secret_arn" {
  description = "Secrets Manager secret the event source mapping authenticates with: {\"username\",\"password\"} for SASL, or the client certificate and key for MTLS. Required unless kafka_auth is IAM or NONE."
  type        = string
  default     = null
  sensitive   = true
}

variable "kafka_server_root_ca_secret_arn" {
  description = "Secrets Manager secret holding the root CA certificate of a self-managed cluster's brokers (SERVER_ROOT_CA_CERTIFICATE), or null when they use a public CA."
  type        = string
  default     = null
  sensitive   = true
}

variable "kafka_subnet_ids" {
  description = "Subnets from which the event source mapping reaches a self-managed cluster (VPC_SUBNET). Empty when the brokers are reachable over the internet. MSK takes the network from the cluster."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.kafka_subnet_ids : can(regex("^subnet-[0-9a-f]+$", id))])
    error_message = "kafka_subnet_ids must be subnet IDs (subnet-...)."
  }
}

variable "kafka_security_group_ids" {
  description = "Security groups of the event source mapping's network interfaces for a self-managed cluster (VPC_SECURITY_GROUP)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.kafka_security_group_ids : can(regex("^sg-[0-9a-f]+$", id))])
    error_message = "kafka_security_group_ids must be security group IDs (sg-...)."
  }
}

variable "consumer_group_prefix" {
  description = "Consumer group of each mapping is <prefix><function>, so MSK IAM permissions can name the group. Changing it after creation replaces the mappings (and starts the new group at starting_position)."
  type        = string
  default     = "logpipe-"

  validation {
    condition     = can(regex("^[a-zA-Z0-9/*:_+=.@-]{0,180}$", var.consumer_group_prefix))
    error_message = "consumer_group_prefix must hold at most 180 of [a-zA-Z0-9-/*:_+=.@]."
  }
}

variable "consumer_group_ids" {
  description = "Topic -> consumer group id, overriding <consumer_group_prefix><function> for that topic (for example to take over the offsets of an existing group). Fixed when a mapping is created: changing it replaces the mapping."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for g in values(var.consumer_group_ids) : can(regex("^[a-zA-Z0-9/*:_+=.@-]{1,200}$", g))])
    error_message = "consumer_group_ids values must be 1-200 of [a-zA-Z0-9-/*:_+=.@]."
  }
}

variable "batch_size" {
  description = "Largest number of records in one invocation (1-10000)."
  type        = number
  default     = 500

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10000
    error_message = "batch_size must be between 1 and 10000."
  }
}

variable "maximum_batching_window_in_seconds" {
  description = "How long the poller gathers records before it invokes the function (0-300 s)."
  type        = number
  default     = 1

  validation {
    condition     = var.maximum_batching_window_in_seconds >= 0 && var.maximum_batching_window_in_seconds <= 300
    error_message = "maximum_batching_window_in_seconds must be between 0 and 300."
  }
}

variable "starting_position" {
  description = "Where a new consumer group starts reading: TRIM_HORIZON (oldest record), LATEST or AT_TIMESTAMP (with starting_position_timestamp)."
  type        = string
  default     = "TRIM_HORIZON"

  validation {
    condition     = contains(["TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"], var.starting_position)
    error_message = "starting_position must be TRIM_HORIZON, LATEST or AT_TIMESTAMP."
  }
}

variable "starting_position_timestamp" {
  description = "RFC 3339 timestamp to start from when starting_position is AT_TIMESTAMP."
  type        = string
  default     = null

  validation {
    condition     = var.starting_position_timestamp == null || can(formatdate("YYYY", var.starting_position_timestamp))
    error_message = "starting_position_timestamp must be an RFC 3339 timestamp."
  }
}

variable "on_failure_destination_arn" {
  description = "SQS queue, SNS topic or S3 bucket ARN that receives a record of each batch the mapping discards (after maximum_retry_attempts or maximum_record_age_in_seconds). The roles get send rights on it only."
  type        = string
  default     = null

  validation {
    condition     = var.on_failure_destination_arn == null || can(regex("^arn:aws[a-zA-Z-]*:(sqs|sns|s3):", var.on_failure_destination_arn))
    error_message = "on_failure_destination_arn must be an SQS queue, SNS topic or S3 bucket ARN."
  }
}

variable "on_failure_destination_kms_key_arn" {
  description = "Customer managed KMS key that encrypts the on-failure destination (SQS SSE-KMS, SNS or S3 SSE-KMS), or null. The roles get kms:GenerateDataKey and kms:Decrypt on this key only, through that destination's service."
  type        = string
  default     = null

  validation {
    condition     = var.on_failure_destination_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.on_failure_destination_kms_key_arn))
    error_message = "on_failure_destination_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "event_source_mapping_metrics" {
  description = "Metrics the event source mappings produce (metrics_config, set only with provisioned_pollers: AWS produces them for Kafka mappings in provisioned mode). AWS accepts EventCount, ErrorCount and KafkaMetrics, but an AWS provider validates them against the SDK it was built with: 6.x releases from before the January 2026 Kafka observability launch (and 5.x) accept only EventCount, the default. With a newer provider add ErrorCount and KafkaMetrics. Empty turns metrics_config off."
  type        = list(string)
  default     = ["EventCount"]

  validation {
    condition     = alltrue([for m in var.event_source_mapping_metrics : contains(["EventCount", "ErrorCount", "KafkaMetrics"], m)]) && length(distinct(var.event_source_mapping_metrics)) == length(var.event_source_mapping_metrics)
    error_message = "event_source_mapping_metrics takes each of EventCount, ErrorCount and KafkaMetrics at most once."
  }
}

variable "filter_patterns" {
  description = "Event filtering patterns (at most 5, each at most 4096 characters), applied to every mapping. A record that matches none is dropped before the function sees it."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.filter_patterns) <= 5 && alltrue([for p in var.filter_patterns : length(p) <= 4096])
    error_message = "filter_patterns takes at most 5 patterns of at most 4096 characters."
  }
}

variable "provisioned_pollers" {
  description = "Provisioned mode: minimum (1-200) and maximum (1-2000) event pollers per mapping, or null for on-demand pollers. Retry limits, maximum record age and bisect on error need provisioned mode on Kafka."
  type = object({
    minimum_pollers = number
    maximum_pollers = number
  })
  default = null

  validation {
    condition     = var.provisioned_pollers == null || try(var.provisioned_pollers.minimum_pollers >= 1 && var.provisioned_pollers.minimum_pollers <= 200, false)
    error_message = "provisioned_pollers.minimum_pollers must be between 1 and 200."
  }

  validation {
    condition     = var.provisioned_pollers == null || try(var.provisioned_pollers.maximum_pollers >= 1 && var.provisioned_pollers.maximum_pollers <= 2000, false)
    error_message = "provisioned_pollers.maximum_pollers must be between 1 and 2000."
  }

  validation {
    condition     = var.provisioned_pollers == null || try(var.provisioned_pollers.minimum_pollers <= var.provisioned_pollers.maximum_pollers, false)
    error_message = "provisioned_pollers.minimum_pollers must not exceed maximum_pollers."
  }
}

variable "maximum_retry_attempts" {
  description = "Retries of a failed batch before it is discarded to the on-failure destination; -1 retries until the record expires (-1..10000). Needs provisioned_pollers on Kafka."
  type        = number
  default     = -1

  validation {
    condition     = var.maximum_retry_attempts >= -1 && var.maximum_retry_attempts <= 10000
    error_message = "maximum_retry_attempts must be between -1 and 10000."
  }
}

variable "maximum_record_age_in_seconds" {
  description = "Records older than this are discarded instead of retried: -1 (never) or 60..604800. Needs provisioned_pollers on Kafka."
  type        = number
  default     = -1

  validation {
    condition     = var.maximum_record_age_in_seconds == -1 || (var.maximum_record_age_in_seconds >= 60 && var.maximum_record_age_in_seconds <= 604800)
    error_message = "maximum_record_age_in_seconds must be -1 or between 60 and 604800."
  }
}

variable "bisect_batch_on_function_error" {
  description = "Split a failing batch in two and retry each half. Needs provisioned_pollers on Kafka."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------------------
# Alarms
# ---------------------------------------------------------------------------

variable "alarm_actions" {
  description = "ARNs (for example SNS topics) notified when an alarm fires and when it recovers."
  type        = list(string)
  default     = []
}

variable "errors_alarm_threshold" {
  description = "Function errors per alarm_period_seconds that raise the errors alarm. Every error is a batch the mapping retries."
  type        = number
  default     = 1

  validation {
    condition     = var.errors_alarm_threshold >= 1
    error_message = "errors_alarm_threshold must be at least 1."
  }
}

variable "throttles_alarm_threshold" {
  description = "Throttled invocations per alarm_period_seconds that raise the throttles alarm."
  type        = number
  default     = 1

  validation {
    condition     = var.throttles_alarm_threshold >= 1
    error_message = "throttles_alarm_threshold must be at least 1."
  }
}

variable "duration_alarm_threshold_percent" {
  description = "Percentage of the function timeout that the slowest invocation of a period (Maximum Duration) must exceed to raise the duration alarm."
  type        = number
  default     = 80

  validation {
    condition     = var.duration_alarm_threshold_percent >= 1 && var.duration_alarm_threshold_percent <= 100
    error_message = "duration_alarm_threshold_percent must be between 1 and 100."
  }
}

variable "offset_lag_alarm_threshold" {
  description = "Consumer lag (AWS/Lambda OffsetLag, in records) that raises the lag alarm."
  type        = number
  default     = 10000

  validation {
    condition     = var.offset_lag_alarm_threshold >= 1
    error_message = "offset_lag_alarm_threshold must be at least 1."
  }
}

variable "dead_letter_rate_alarm_threshold_percent" {
  description = "Share of a period's records (per function, 100 * DeadLettered / Records of the batch metrics) that, once dead-lettered, raises the dead-letter-rate alarm."
  type        = number
  default     = 5

  validation {
    condition     = var.dead_letter_rate_alarm_threshold_percent > 0 && var.dead_letter_rate_alarm_threshold_percent <= 100
    error_message = "dead_letter_rate_alarm_threshold_percent must be above 0 and at most 100."
  }
}

variable "dead_letter_rate_alarm_min_records" {
  description = "Records a period must hold before the dead-letter-rate alarm judges it, so that one bad record in a quiet minute does not raise it."
  type        = number
  default     = 10

  validation {
    condition     = var.dead_letter_rate_alarm_min_records >= 1
    error_message = "dead_letter_rate_alarm_min_records must be at least 1."
  }
}

variable "record_age_alarm_threshold_seconds" {
  description = "Age (seconds, Maximum of the batch metric OldestRecordAge) of the oldest record a function is handling that raises the record-age alarm, or null for no such alarm. It fires when the pipeline falls behind the producers, or a batch is retried over and over."
  type        = number
  default     = null

  validation {
    condition     = var.record_age_alarm_threshold_seconds == null || try(var.record_age_alarm_threshold_seconds >= 1, false)
    error_message = "record_age_alarm_threshold_seconds must be null or at least 1."
  }
}

variable "alarm_period_seconds" {
  description = "Period over which the alarms aggregate their metric (a multiple of 60)."
  type        = number
  default     = 60

  validation {
    condition     = var.alarm_period_seconds >= 60 && var.alarm_period_seconds % 60 == 0
    error_message = "alarm_period_seconds must be a positive multiple of 60."
  }
}

variable "alarm_evaluation_periods" {
  description = "Consecutive periods the threshold must be breached before an alarm fires."
  type        = number
  default     = 5

  validation {
    condition     = var.alarm_evaluation_periods >= 1 && var.alarm_evaluation_periods <= 100
    error_message = "alarm_evaluation_periods must be between 1 and 100."
  }
}

# ---------------------------------------------------------------------------
# Dashboard
# ---------------------------------------------------------------------------

variable "create_dashboard" {
  description = "Create a CloudWatch dashboard of the functions (invocations, errors, throttles, duration, concurrency), their batch metrics (records, written, dead-lettered by reason, dead-letter rate, latency, oldest record age, write retries; with metrics_enabled) and the mappings (OffsetLag, event counts), with the alarm thresholds drawn in."
  type        = bool
  default     = true
}

variable "dashboard_name" {
  description = "Name of the CloudWatch dashboard; null means <function_name_prefix>logpipe."
  type        = string
  default     = null

  validation {
    condition     = var.dashboard_name == null || can(regex("^[a-zA-Z0-9_-]{1,255}$", var.dashboard_name))
    error_message = "dashboard_name may hold 1-255 of [a-zA-Z0-9_-]."
  }
}
