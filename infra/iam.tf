# One execution role per function. The role is also the one the Kafka event
# source mapping uses to reach the cluster, so it carries exactly:
#   - its own log group (write only),
#   - the secrets it reads (Cassandra credentials, Kafka auth, broker CA),
#   - on MSK: its cluster, its topic and its consumer group,
#   - the on-failure destination, if any (send only), and its KMS key,
#   - the network interface actions Lambda needs in a VPC (those of the AWS
#     managed policy AWSLambdaVPCAccessExecutionRole, on "*" as there).

locals {
  is_msk = var.kafka_source == "msk"

  has_kafka_auth_secret = nonsensitive(var.kafka_auth_secret_arn != null)
  has_kafka_ca_secret   = nonsensitive(var.kafka_server_root_ca_secret_arn != null)

  # Secrets the event source mapping actually presents to Kafka.
  uses_kafka_auth_secret = var.create_event_source_mappings && contains(keys(local.auth_access_type), var.kafka_auth) && local.has_kafka_auth_secret
  uses_kafka_ca_secret   = var.create_event_source_mappings && !local.is_msk && local.has_kafka_ca_secret

  # ARNs of MSK data-plane resources, derived from the cluster ARN
  # arn:<partition>:kafka:<region>:<account>:cluster/<name>/<uuid>.
  msk_topic_arn_prefix = local.is_msk && var.msk_cluster_arn != null ? replace(var.msk_cluster_arn, ":cluster/", ":topic/") : ""
  msk_group_arn_prefix = local.is_msk && var.msk_cluster_arn != null ? replace(var.msk_cluster_arn, ":cluster/", ":group/") : ""

  # Network interfaces are created for a function in a VPC, and by the
  # event source mapping for MSK and for a self-managed cluster in a VPC.
  needs_eni = local.in_vpc || (var.create_event_source_mappings && (local.is_msk || length(var.kafka_subnet_ids) > 0))

  failure_service = var.on_failure_destination_arn == null ? "" : split(":", var.on_failure_destination_arn)[2]
  failure_actions = {
    sqs = ["sqs:SendMessage"]
    sns = ["sns:Publish"]
    s3  = ["s3:PutObject", "s3:ListBucket"]
  }
  # With a customer managed key on the queue, topic or bucket, sending needs
  # kms:GenerateDataKey and kms:Decrypt on that key, through that service.
  uses_failure_kms_key = var.create_event_source_mappings && var.on_failure_destination_arn != null && var.on_failure_destination_kms_key_arn != null

  failure_resources = local.failure_service == "s3" ? [var.on_failure_destination_arn, "${var.on_failure_destination_arn}/*"] : compact([var.on_failure_destination_arn])
}

data "aws_iam_policy_document" "assume_role" {
  statement {
    sid     = "LambdaAssumeRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "function" {
  for_each = local.functions

  name                 = each.value.role_name
  description          = "Execution role of the ${each.value.lambda_name} function (topic ${each.key})"
  assume_role_policy   = data.aws_iam_policy_document.assume_role.json
  permissions_boundary = var.iam_role_permissions_boundary

  tags = var.tags
}

data "aws_iam_policy_document" "function" {
  for_each = local.functions

  statement {
    sid       = "WriteOwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.function[each.key].arn}:*"]
  }

  dynamic "statement" {
    for_each = local.has_credentials_secret || local.uses_kafka_auth_secret || local.uses_kafka_ca_secret ? [1] : []
    content {
      sid     = "ReadOwnSecrets"
      actions = ["secretsmanager:GetSecretValue"]
      resources = concat(
        local.has_credentials_secret ? [var.cassandra_credentials_secret_arn] : [],
        local.uses_kafka_auth_secret ? [var.kafka_auth_secret_arn] : [],
        local.uses_kafka_ca_secret ? [var.kafka_server_root_ca_secret_arn] : [],
      )
    }
  }

  dynamic "statement" {
    for_each = length(var.secrets_kms_key_arns) > 0 ? [1] : []
    content {
      sid       = "DecryptSecretsThroughSecretsManager"
      actions   = ["kms:Decrypt"]
      resources = var.secrets_kms_key_arns
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${local.region}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.create_event_source_mappings && local.is_msk ? [1] : []
    content {
      sid       = "DescribeOwnMskCluster"
      actions   = ["kafka:DescribeCluster", "kafka:DescribeClusterV2", "kafka:GetBootstrapBrokers"]
      resources = [var.msk_cluster_arn]
    }
  }

  dynamic "statement" {
    for_each = var.create_event_source_mappings && local.is_msk && var.kafka_auth == "IAM" ? [1] : []
    content {
      sid       = "ConnectToOwnMskCluster"
      actions   = ["kafka-cluster:Connect", "kafka-cluster:DescribeClusterDynamicConfiguration"]
      resources = [var.msk_cluster_arn]
    }
  }

  dynamic "statement" {
    for_each = var.create_event_source_mappings && local.is_msk && var.kafka_auth == "IAM" ? [1] : []
    content {
      sid       = "ReadOwnMskTopic"
      actions   = ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"]
      resources = ["${local.msk_topic_arn_prefix}/${each.key}"]
    }
  }

  dynamic "statement" {
    for_each = var.create_event_source_mappings && local.is_msk && var.kafka_auth == "IAM" ? [1] : []
    content {
      sid       = "UseOwnMskConsumerGroup"
      actions   = ["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"]
      resources = ["${local.msk_group_arn_prefix}/${each.value.consumer_group_id}"]
    }
  }

  dynamic "statement" {
    for_each = var.create_event_source_mappings && var.on_failure_destination_arn != null ? [1] : []
    content {
      sid       = "SendDiscardedBatches"
      actions   = lookup(local.failure_actions, local.failure_service, [])
      resources = local.failure_resources
    }
  }

  dynamic "statement" {
    for_each = local.uses_failure_kms_key ? [1] : []
    content {
      sid       = "EncryptDiscardedBatches"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = [var.on_failure_destination_kms_key_arn]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["${local.failure_service}.${local.region}.amazonaws.com"]
      }
    }
  }

  # The EC2 actions of the AWS managed policy AWSLambdaVPCAccessExecutionRole,
  # on Resource "*" as there, plus DescribeSecurityGroups and DescribeVpcs,
  # which the Kafka pollers also call. Lambda validates the role when it
  # creates or updates a function in a VPC and refuses one whose
  # ec2:DeleteNetworkInterface is scoped to ARNs or conditions
  # (hashicorp/terraform-provider-aws#20698): nothing here is scoped.
  dynamic "statement" {
    for_each = local.needs_eni ? [1] : []
    content {
      sid = "ManageVpcNetworkInterfaces"
      actions = [
        "ec2:AssignPrivateIpAddresses",
        "ec2:CreateNetworkInterface",
        "ec2:DeleteNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSubnets",
        "ec2:DescribeVpcs",
        "ec2:UnassignPrivateIpAddresses",
      ]
      resources = ["*"]
    }
  }

  # X-Ray's write actions take no resource ARN.
  dynamic "statement" {
    for_each = var.tracing_mode == "Active" ? [1] : []
    content {
      sid       = "WriteTraces"
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = ["*"]
    }
  }

  lifecycle {
    precondition {
      condition     = !(var.create_event_source_mappings && local.is_msk) || var.msk_cluster_arn != null
      error_message = "kafka_source = \"msk\" needs msk_cluster_arn."
    }
  }
}

resource "aws_iam_role_policy" "function" {
  for_each = local.functions

  name   = "logpipe-${each.value.function}"
  role   = aws_iam_role.function[each.key].id
  policy = data.aws_iam_policy_document.function[each.key].json
}
