# One CloudWatch dashboard for the pipeline: per function invocations,
# errors, throttles, duration and concurrency, and per mapping the consumer
# lag (OffsetLag) and, when metrics_config is on, the mapping's event counts.
# Each graph has one line per topic; the alarm thresholds are drawn on it.

locals {
  dashboard_name = coalesce(var.dashboard_name, "${var.function_name_prefix}logpipe")

  # One line per function of a function-wide AWS/Lambda metric.
  dashboard_function_metric = {
    for metric in ["Invocations", "Errors", "Throttles", "Duration", "ConcurrentExecutions", "OffsetLag"] : metric => [
      for topic, f in local.functions : ["AWS/Lambda", metric, "FunctionName", f.lambda_name, { label = topic }]
    ]
  }

  dashboard_function_widgets = [
    {
      title      = "Invocations (batches)"
      metric     = "Invocations"
      stat       = "Sum"
      thresholds = []
    },
    {
      title      = "Errors (batches retried)"
      metric     = "Errors"
      stat       = "Sum"
      thresholds = [{ label = "errors alarm", value = var.errors_alarm_threshold }]
    },
    {
      title      = "Throttles"
      metric     = "Throttles"
      stat       = "Sum"
      thresholds = [{ label = "throttles alarm", value = var.throttles_alarm_threshold }]
    },
    {
      title  = "Duration, slowest invocation (ms)"
      metric = "Duration"
      stat   = "Maximum"
      thresholds = [
        { label = "duration alarm", value = local.duration_alarm_threshold_ms },
        { label = "timeout", value = var.timeout * 1000 },
      ]
    },
    {
      title      = "Concurrent executions"
      metric     = "ConcurrentExecutions"
      stat       = "Maximum"
      thresholds = []
    },
  ]

  dashboard_lag_widgets = var.create_event_source_mappings ? [
    {
      title      = "OffsetLag, consumer lag (records)"
      metric     = "OffsetLag"
      stat       = "Maximum"
      thresholds = [{ label = "offset lag alarm", value = var.offset_lag_alarm_threshold }]
    },
  ] : []

  # Event source mapping metrics (dimension EventSourceMappingUUID), produced
  # only with metrics_config (see event_source_mappings.tf).
  dashboard_esm_metric_names = contains(var.event_source_mapping_metrics, "EventCount") ? [
    "PolledEventCount", "InvokedEventCount", "FailedInvokeEventCount", "DroppedEventCount", "OnFailureDestinationDeliveredEventCount",
  ] : []

  dashboard_esm_widgets = var.create_event_source_mappings && local.esm_metrics_enabled && length(local.dashboard_esm_metric_names) > 0 ? [
    for topic in keys(local.functions) : {
      type   = "metric"
      width  = 12
      height = 6
      properties = {
        title  = "Event source mapping ${topic} (events)"
        view   = "timeSeries"
        region = local.region
        stat   = "Sum"
        period = var.alarm_period_seconds
        metrics = [
          for name in local.dashboard_esm_metric_names :
          ["AWS/Lambda", name, "EventSourceMappingUUID", aws_lambda_event_source_mapping.this[topic].uuid]
        ]
      }
    }
  ] : []

  dashboard_widgets = concat(
    [
      for w in concat(local.dashboard_function_widgets, local.dashboard_lag_widgets) : {
        type   = "metric"
        width  = 12
        height = 6
        properties = {
          title   = w.title
          view    = "timeSeries"
          region  = local.region
          stat    = w.stat
          period  = var.alarm_period_seconds
          metrics = local.dashboard_function_metric[w.metric]
          annotations = {
            horizontal = w.thresholds
          }
        }
      }
    ],
    local.dashboard_esm_widgets,
  )
}

resource "aws_cloudwatch_dashboard" "this" {
  count = var.create_dashboard ? 1 : 0

  dashboard_name = local.dashboard_name
  dashboard_body = jsonencode({ widgets = local.dashboard_widgets })

  # The lines name the functions; create the dashboard once they exist.
  depends_on = [aws_lambda_function.this]
}
