output "function_arns" {
  description = "Lambda function ARN per topic."
  value       = module.logpipe.function_arns
}

output "event_source_mapping_uuids" {
  description = "Kafka event source mapping UUID per topic."
  value       = module.logpipe.event_source_mapping_uuids
}

output "consumer_group_ids" {
  description = "Kafka consumer group per topic."
  value       = module.logpipe.consumer_group_ids
}

output "alias_arns" {
  description = "ARN per topic of the live alias the event source mapping invokes."
  value       = module.logpipe.alias_arns
}

output "function_versions" {
  description = "Newest published version per topic."
  value       = module.logpipe.function_versions
}

output "live_versions" {
  description = "Version per topic the live alias points at (roll back with live_function_versions)."
  value       = module.logpipe.live_versions
}

output "dashboard_name" {
  description = "CloudWatch dashboard of the functions and mappings."
  value       = module.logpipe.dashboard_name
}
