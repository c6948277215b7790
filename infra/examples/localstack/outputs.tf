output "function_arns" {
  description = "Lambda function ARN per topic."
  value       = module.logpipe.function_arns
}

output "event_source_mapping_uuids" {
  description = "Kafka event source mapping UUID per topic (empty unless create_event_source_mappings)."
  value       = module.logpipe.event_source_mapping_uuids
}

output "esm_commands" {
  description = "The local trigger: one `logpipe esm` per topic, polling the compose Kafka and invoking the LocalStack functions."
  value = [
    for topic, name in module.logpipe.function_names :
    "logpipe esm --topic ${topic} --function ${name} --endpoint-url ${var.localstack_endpoint}"
  ]
}
