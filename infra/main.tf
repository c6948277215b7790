# One Lambda function per Kafka topic. `local.functions` is the only list of
# topics and functions in this module: the functions, their aliases, log
# groups, IAM roles, event source mappings and alarms all iterate over it.

data "aws_region" "current" {}

locals {
  region = data.aws_region.current.region

  # Where <function>/bootstrap.zip is read. Null: target/lambda/<architecture>
  # of this repository, found from the module's own directory (what
  # `make build` writes; works while the module is used from this checkout).
  # Set: an absolute path is taken as it is, a relative one is resolved
  # against the root module (path.root, where terraform runs), so the module
  # also works when it is fetched from another source (git, registry) into
  # .terraform/modules.
  artifacts_dir = (
    var.lambda_artifacts_dir == null ? "${path.module}/../target/lambda/${var.lambda_architecture}" :
    can(regex("^([A-Za-z]:)?[/\\\\]", var.lambda_artifacts_dir)) ? trimsuffix(var.lambda_artifacts_dir, "/") :
    "${path.root}/${trimsuffix(var.lambda_artifacts_dir, "/")}"
  )

  # topic -> everything derived from it.
  functions = {
    for topic, function in var.topic_functions : topic => {
      topic             = topic
      function          = function
      lambda_name       = "${var.function_name_prefix}${function}"
      role_name         = "${var.function_name_prefix}${function}-lambda"
      consumer_group_id = lookup(var.consumer_group_ids, topic, "${var.consumer_group_prefix}${function}")
      log_group_name    = "/aws/lambda/${var.function_name_prefix}${function}"
      zip_path          = "${local.artifacts_dir}/${function}/bootstrap.zip"
    }
  }

  keyspaces = var.storage_backend == "keyspaces"

  contact_points = local.keyspaces ? [coalesce(var.keyspaces_endpoint, "cassandra.${local.region}.amazonaws.com:9142")] : var.cassandra_contact_points
  local_dc       = local.keyspaces ? coalesce(var.cassandra_local_dc, local.region) : var.cassandra_local_dc
  cassandra_tls  = local.keyspaces ? true : var.cassandra_tls

  # The ARNs are sensitive inputs; whether they are set is not.
  has_credentials_secret = nonsensitive(var.cassandra_credentials_secret_arn != null)

  # Configuration shared by every function (the Lambda way: environment
  # variables). Credentials are never placed here, only the ARN of the
  # secret that holds them.
  common_environment = merge(
    {
      LOGPIPE_CASSANDRA_CONTACT_POINTS = join(",", local.contact_points)
      LOGPIPE_CASSANDRA_KEYSPACE       = var.cassandra_keyspace
      LOGPIPE_CASSANDRA_CONSISTENCY    = var.cassandra_consistency
      LOGPIPE_CASSANDRA_TLS            = tostring(local.cassandra_tls)
      LOGPIPE_TTL_SECONDS              = tostring(var.ttl_seconds)
      LOGPIPE_WRITE_CONCURRENCY        = tostring(var.write_concurrency)
      LOGPIPE_WRITE_MAX_ATTEMPTS       = tostring(var.write_max_attempts)
      LOGPIPE_RETRY_BACKOFF_MS         = tostring(var.retry_backoff_ms)
      LOGPIPE_REQUEST_TIMEOUT_MS       = tostring(var.request_timeout_ms)
      LOGPIPE_METRICS                  = var.metrics_enabled ? "on" : "off"
      LOGPIPE_METRICS_NAMESPACE        = var.metrics_namespace
    },
    # The log level is Lambda's application_log_level (AWS_LAMBDA_LOG_LEVEL)
    # unless the user sets rust_log: RUST_LOG would override it.
    var.rust_log == null ? {} : { RUST_LOG = var.rust_log },
    local.local_dc == null ? {} : { LOGPIPE_CASSANDRA_LOCAL_DC = local.local_dc },
    var.cassandra_tls_ca_file == null ? {} : { LOGPIPE_CASSANDRA_TLS_CA_FILE = var.cassandra_tls_ca_file },
    var.cassandra_tls_server_name == null ? {} : { LOGPIPE_CASSANDRA_TLS_SERVER_NAME = var.cassandra_tls_server_name },
    local.has_credentials_secret ? { LOGPIPE_CASSANDRA_CREDENTIALS_SECRET_ARN = var.cassandra_credentials_secret_arn } : {},
  )

  in_vpc = length(var.vpc_subnet_ids) > 0
}

resource "aws_cloudwatch_log_group" "function" {
  for_each = local.functions

  name              = each.value.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn

  tags = var.tags

  #checkov:skip=CKV_AWS_158:Encryption with a customer managed key is opt-in through var.log_kms_key_arn; by default CloudWatch Logs encrypts the group with its own key.
  #checkov:skip=CKV_AWS_338:Retention is var.log_retention_days; these are operational logs of a pipeline whose data of record lives in Cassandra, so a year is not imposed by default.
}

resource "aws_lambda_function" "this" {
  for_each = local.functions

  function_name = each.value.lambda_name
  description   = "logpipe: validates ${each.key} batches and writes them to ${var.cassandra_keyspace}"
  role          = aws_iam_role.function[each.key].arn

  filename         = each.value.zip_path
  source_code_hash = filebase64sha256(each.value.zip_path)
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = [var.lambda_architecture]

  # Every apply that changes the code or configuration publishes a new,
  # immutable version; the mappings invoke the `live` alias, which points at
  # one of them (see aws_lambda_alias.live).
  publish = true

  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrent_executions
  kms_key_arn                    = var.lambda_kms_key_arn

  environment {
    variables = merge(local.common_environment, { LOGPIPE_TOPIC = each.key })
  }

  # JSON logs, which Lambda filters by level: application_log_level also
  # reaches the function as AWS_LAMBDA_LOG_LEVEL, its level unless rust_log
  # is set. The metric lines on stdout carry no level and count as INFO.
  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.function[each.key].name
    application_log_level = var.application_log_level
    system_log_level      = var.system_log_level
  }

  tracing_config {
    mode = var.tracing_mode
  }

  dynamic "vpc_config" {
    for_each = local.in_vpc ? [1] : []
    content {
      subnet_ids         = var.vpc_subnet_ids
      security_group_ids = var.vpc_security_group_ids
    }
  }

  tags = var.tags

  # The role's policy must exist before the function first runs.
  depends_on = [aws_iam_role_policy.function]

  lifecycle {
    precondition {
      condition     = !local.keyspaces || var.cassandra_consistency == "LOCAL_QUORUM"
      error_message = "Amazon Keyspaces accepts only LOCAL_QUORUM for writes: set cassandra_consistency = \"LOCAL_QUORUM\"."
    }
    precondition {
      condition     = !local.in_vpc || length(var.vpc_security_group_ids) > 0
      error_message = "vpc_security_group_ids must be set when vpc_subnet_ids is."
    }
    precondition {
      condition     = !var.metrics_enabled || contains(["TRACE", "DEBUG", "INFO"], var.application_log_level)
      error_message = "With metrics_enabled, application_log_level must be TRACE, DEBUG or INFO: Lambda counts the metric lines as INFO and would drop them (and the dashboard's batch graphs and the dead-letter-rate alarm with them). Set metrics_enabled = false to log at WARN or above."
    }
  }

  #checkov:skip=CKV_AWS_116:The functions are invoked synchronously by a Kafka event source mapping, which never uses a function DLQ; failed batches go to the mapping's on-failure destination (var.on_failure_destination_arn).
  #checkov:skip=CKV_AWS_117:A VPC is needed only to reach a cluster inside one (var.vpc_subnet_ids); Amazon Keyspaces is reached over its public TLS endpoint.
  #checkov:skip=CKV_AWS_173:The environment carries configuration only; credentials stay in Secrets Manager. A customer managed key is opt-in through var.lambda_kms_key_arn.
  #checkov:skip=CKV_AWS_272:The zips are built from this repository by `make build` and deployed by the same pipeline; AWS Signer code signing is not part of that flow.
  #checkov:skip=CKV_AWS_115:The Kafka poller already bounds concurrency to one batch per partition; a reservation is opt-in through var.reserved_concurrent_executions.
}

# The alias the event source mappings invoke. It follows the version this
# apply publishes, unless live_function_versions pins a topic to an earlier
# one: rolling back is moving the alias, and the mapping, its consumer group
# and its offsets stay as they are.
resource "aws_lambda_alias" "live" {
  for_each = local.functions

  name             = var.alias_name
  description      = "Version of ${each.value.lambda_name} that the ${each.key} event source mapping invokes"
  function_name    = aws_lambda_function.this[each.key].function_name
  function_version = lookup(var.live_function_versions, each.key, aws_lambda_function.this[each.key].version)

  lifecycle {
    precondition {
      condition     = alltrue([for topic in keys(var.live_function_versions) : contains(keys(local.functions), topic)])
      error_message = "Every key of live_function_versions must be a topic of topic_functions."
    }
  }
}
