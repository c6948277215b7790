# Alarms per function, each with its own threshold variable:
#   errors           failed invocations (each one is a batch the mapping retries),
#   throttles        invocations Lambda refused for lack of concurrency,
#   duration         the slowest invocation near the function's timeout,
#   offset_lag       consumer lag of its Kafka consumer group (with a mapping),
#   dead_letter_rate share of the records dead-lettered (with metrics_enabled),
#   record_age       age of the oldest record handled (with metrics_enabled and
#                    record_age_alarm_threshold_seconds).
#
# The first four read the function-wide AWS/Lambda metrics (dimension
# FunctionName only), which add up every version, so they keep watching
# across a deploy and a rollback of the `live` alias. The last two read the
# batch metrics the functions print (emf_metrics.json lists them), in
# var.metrics_namespace, under the dimension Function (the Lambda function
# name) alone, which also counts records of a topic the function does not
# own.

locals {
  # Duration (milliseconds) that raises the duration alarm.
  duration_alarm_threshold_ms = var.timeout * 1000 * var.duration_alarm_threshold_percent / 100
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  for_each = local.functions

  alarm_name        = "${each.value.lambda_name}-errors"
  alarm_description = "${each.value.lambda_name} failed invocations on topic ${each.key}: batches are being retried and the topic is not advancing."

  namespace   = "AWS/Lambda"
  metric_name = "Errors"
  dimensions = {
    FunctionName = aws_lambda_function.this[each.key].function_name
  }
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  threshold           = var.errors_alarm_threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"

  actions_enabled = true
  alarm_actions   = var.alarm_actions
  ok_actions      = var.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "throttles" {
  for_each = local.functions

  alarm_name        = "${each.value.lambda_name}-throttles"
  alarm_description = "${each.value.lambda_name} invocations on topic ${each.key} were throttled: the poller is held back by the concurrency limit and the topic falls behind."

  namespace   = "AWS/Lambda"
  metric_name = "Throttles"
  dimensions = {
    FunctionName = aws_lambda_function.this[each.key].function_name
  }
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  threshold           = var.throttles_alarm_threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"

  actions_enabled = true
  alarm_actions   = var.alarm_actions
  ok_actions      = var.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "duration" {
  for_each = local.functions

  alarm_name        = "${each.value.lambda_name}-duration"
  alarm_description = "An invocation of ${each.value.lambda_name} on topic ${each.key} took more than ${var.duration_alarm_threshold_percent}% of its ${var.timeout} s timeout: batches risk timing out and being retried."

  namespace   = "AWS/Lambda"
  metric_name = "Duration"
  dimensions = {
    FunctionName = aws_lambda_function.this[each.key].function_name
  }
  statistic           = "Maximum"
  period              = var.alarm_period_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  threshold           = local.duration_alarm_threshold_ms
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"

  actions_enabled = true
  alarm_actions   = var.alarm_actions
  ok_actions      = var.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "offset_lag" {
  for_each = var.create_event_source_mappings ? local.functions : {}

  alarm_name        = "${each.value.lambda_name}-offset-lag"
  alarm_description = "Consumer group ${each.value.consumer_group_id} of ${each.value.lambda_name} lags topic ${each.key} by more than ${var.offset_lag_alarm_threshold} records."

  namespace   = "AWS/Lambda"
  metric_name = "OffsetLag"
  dimensions = {
    FunctionName = aws_lambda_function.this[each.key].function_name
  }
  statistic           = "Maximum"
  period              = var.alarm_period_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  threshold           = var.offset_lag_alarm_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"

  actions_enabled = true
  alarm_actions   = var.alarm_actions
  ok_actions      = var.alarm_actions

  tags = var.tags

  depends_on = [aws_lambda_event_source_mapping.this]
}

resource "aws_cloudwatch_metric_alarm" "dead_letter_rate" {
  for_each = var.metrics_enabled ? local.functions : {}

  alarm_name        = "${each.value.lambda_name}-dead-letter-rate"
  alarm_description = "More than ${var.dead_letter_rate_alarm_threshold_percent}% of the records ${each.value.lambda_name} read from topic ${each.key} went to ${var.cassandra_keyspace}.dead_letters (periods of at least ${var.dead_letter_rate_alarm_min_records} records): producers are sending logs the function rejects; the reason column says why."

  # 100 * DeadLettered / Records over the period, 0 below the minimum of
  # records.
  metric_query {
    id          = "rate"
    label       = "dead-lettered (% of records)"
    expression  = "IF(records >= ${var.dead_letter_rate_alarm_min_records}, 100 * FILL(dead, 0) / records, 0)"
    return_data = true
  }

  metric_query {
    id = "dead"
    metric {
      namespace   = var.metrics_namespace
      metric_name = "DeadLettered"
      dimensions = {
        Function = aws_lambda_function.this[each.key].function_name
      }
      stat   = "Sum"
      period = var.alarm_period_seconds
    }
  }

  metric_query {
    id = "records"
    metric {
      namespace   = var.metrics_namespace
      metric_name = "Records"
      dimensions = {
        Function = aws_lambda_function.this[each.key].function_name
      }
      stat   = "Sum"
      period = var.alarm_period_seconds
    }
  }

  evaluation_periods  = var.alarm_evaluation_periods
  threshold           = var.dead_letter_rate_alarm_threshold_percent
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"

  actions_enabled = true
  alarm_actions   = var.alarm_actions
  ok_actions      = var.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "record_age" {
  for_each = var.metrics_enabled && var.record_age_alarm_threshold_seconds != null ? local.functions : {}

  alarm_name        = "${each.value.lambda_name}-record-age"
  alarm_description = "${each.value.lambda_name} is handling records of topic ${each.key} older than ${coalesce(var.record_age_alarm_threshold_seconds, 0)} s: it falls behind the producers, or a batch is being retried."

  namespace   = var.metrics_namespace
  metric_name = "OldestRecordAge"
  dimensions = {
    Function = aws_lambda_function.this[each.key].function_name
  }
  statistic           = "Maximum"
  period              = var.alarm_period_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  threshold           = coalesce(var.record_age_alarm_threshold_seconds, 0) * 1000
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"

  actions_enabled = true
  alarm_actions   = var.alarm_actions
  ok_actions      = var.alarm_actions

  tags = var.tags
}
