output "function_arns" {
  description = "Lambda function ARN per topic."
  value       = { for topic, f in aws_lambda_function.this : topic => f.arn }
}

output "function_names" {
  description = "Lambda function name per topic (what `logpipe esm --function-name` and the invoke API take)."
  value       = { for topic, f in aws_lambda_function.this : topic => f.function_name }
}

output "topic_functions" {
  description = "Function binary per topic (what `logpipe esm --topics` and the KIND of `--topic-name KIND=TOPIC` accept)."
  value       = { for topic, f in local.functions : topic => f.function }
}

output "function_versions" {
  description = "Newest published version per topic (published by this apply when the code or configuration changed)."
  value       = { for topic, f in aws_lambda_function.this : topic => f.version }
}

output "alias_arns" {
  description = "ARN per topic of the alias the event source mapping invokes (the function ARN qualified with alias_name)."
  value       = { for topic, a in aws_lambda_alias.live : topic => a.arn }
}

output "live_versions" {
  description = "Version per topic that the alias points at now; differs from function_versions while live_function_versions pins a topic."
  value       = { for topic, a in aws_lambda_alias.live : topic => a.function_version }
}

output "event_source_mapping_uuids" {
  description = "Kafka event source mapping UUID per topic (empty when create_event_source_mappings is false)."
  value       = { for topic, m in aws_lambda_event_source_mapping.this : topic => m.uuid }
}

output "consumer_group_ids" {
  description = "Kafka consumer group per topic."
  value       = { for topic, f in local.functions : topic => f.consumer_group_id }
}

output "role_arns" {
  description = "Execution role ARN per topic."
  value       = { for topic, r in aws_iam_role.function : topic => r.arn }
}

output "log_group_names" {
  description = "CloudWatch log group per topic."
  value       = { for topic, g in aws_cloudwatch_log_group.function : topic => g.name }
}

output "alarm_arns" {
  description = "Alarm ARNs per topic: errors, throttles, duration, offset lag (with mappings), dead-letter rate (with metrics_enabled) and record age (with record_age_alarm_threshold_seconds)."
  value = {
    for topic in keys(local.functions) : topic => compact([
      aws_cloudwatch_metric_alarm.errors[topic].arn,
      aws_cloudwatch_metric_alarm.throttles[topic].arn,
      aws_cloudwatch_metric_alarm.duration[topic].arn,
      try(aws_cloudwatch_metric_alarm.offset_lag[topic].arn, ""),
      try(aws_cloudwatch_metric_alarm.dead_letter_rate[topic].arn, ""),
      try(aws_cloudwatch_metric_alarm.record_age[topic].arn, ""),
    ])
  }
}

output "metrics_namespace" {
  description = "CloudWatch namespace of the functions' batch metrics (null when metrics_enabled is false)."
  value       = var.metrics_enabled ? var.metrics_namespace : null
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard (null when create_dashboard is false)."
  value       = try(aws_cloudwatch_dashboard.this[0].dashboard_name, null)
}

output "keyspaces_table_arns" {
  description = "ARN per Amazon Keyspaces table created by this module (empty unless create_keyspaces_tables)."
  value       = { for name, t in aws_keyspaces_table.this : name => t.arn }
}
