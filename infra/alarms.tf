# Two alarms per function: invocation errors (each one is a batch the
# mapping retries) and consumer lag of its Kafka consumer group.

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
