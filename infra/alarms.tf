# Four alarms per function, each with its own threshold variable:
#   errors      failed invocations (each one is a batch the mapping retries),
#   throttles   invocations Lambda refused for lack of concurrency,
#   duration    the slowest invocation near the function's timeout,
#   offset_lag  consumer lag of its Kafka consumer group (with a mapping).
#
# They read the function-wide metrics (dimension FunctionName only), which
# add up every version, so they keep watching across a deploy and a
# rollback of the `live` alias.

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
