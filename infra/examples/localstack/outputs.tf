output "function_arns" {
  description = "Lambda function ARN per topic."
  value       = module.logpipe.function_arns
}

output "alias_arns" {
  description = "ARN per topic of the live alias (what event source mappings invoke on LocalStack Pro)."
  value       = module.logpipe.alias_arns
}

output "event_source_mapping_uuids" {
  description = "Kafka event source mapping UUID per topic (empty unless create_event_source_mappings)."
  value       = module.logpipe.event_source_mapping_uuids
}

# Only flags of `logpipe esm` (logpipe/src/cmd/esm.rs): --bootstrap,
# --topics KIND, --topic-name KIND=TOPIC, --function-name NAME,
# --endpoint-url URL, --region REGION. The function binary name is a KIND
# the CLI accepts, so a renamed topic is polled under its own name.
output "esm_commands" {
  description = "The local trigger: one `logpipe esm` per topic, polling the compose Kafka and invoking the LocalStack functions."
  value = [
    for topic, function in module.logpipe.topic_functions :
    "logpipe esm --bootstrap ${var.host_kafka_bootstrap} --topics ${function} --topic-name ${function}=${topic} --function-name ${module.logpipe.function_names[topic]} --endpoint-url ${var.localstack_endpoint} --region ${var.region}"
  ]
}
