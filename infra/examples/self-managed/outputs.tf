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
