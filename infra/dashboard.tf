# One CloudWatch dashboard for the pipeline: per function invocations,
# errors, throttles, duration and concurrency; with metrics_enabled, the
# batch metrics the functions print (emf_metrics.json: records, written,
# dead-lettered in all and by reason, the dead-letter rate, oldest record
# age, batch latency, write retries and failed batches); and per mapping the
# consumer lag (OffsetLag) and, when metrics_config is on, the mapping's
# event counts. Each graph has one line per topic; the alarm thresholds are
# drawn on it.

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
      title = "Event source mapping ${topic} (events)"
      stat  = "Sum"
      metrics = [
        for name in local.dashboard_esm_metric_names :
        ["AWS/Lambda", name, "EventSourceMappingUUID", aws_lambda_event_source_mapping.this[topic].uuid]
      ]
    }
  ] : []

  # The batch metrics, as the functions print them: name, unit and
  # dimension sets. Every one is reported under Function alone (the Lambda
  # function name), which is what the graphs and alarms read: it also
  # counts a function's records of a topic it does not own.
  emf_metrics               = jsondecode(file("${path.module}/emf_metrics.json")).metrics
  emf_dead_letter_by_reason = [for m in local.emf_metrics : m.name if startswith(m.name, "DeadLettered.")]

  # One line per function of each batch metric.
  dashboard_emf_lines = {
    for m in local.emf_metrics : m.name => [
      for topic, f in local.functions :
      [var.metrics_namespace, m.name, "Function", f.lambda_name, { label = "${topic} ${m.name}" }]
    ]
  }

  dashboard_emf_widgets = [
    {
      title      = "Records read and written"
      metrics    = ["Records", "Written"]
      stat       = "Sum"
      thresholds = []
    },
    {
      title      = "Dead-lettered records"
      metrics    = ["DeadLettered"]
      stat       = "Sum"
      thresholds = []
    },
    {
      title      = "Oldest record age in a batch (ms)"
      metrics    = ["OldestRecordAge"]
      stat       = "Maximum"
      thresholds = var.record_age_alarm_threshold_seconds == null ? [] : [{ label = "record age alarm", value = coalesce(var.record_age_alarm_threshold_seconds, 0) * 1000 }]
    },
    {
      title      = "Batch latency, p99 (ms)"
      metrics    = ["BatchLatency"]
      stat       = "p99"
      thresholds = []
    },
    {
      title      = "Write retries and failed batches"
      metrics    = ["WriteRetries", "Failed"]
      stat       = "Sum"
      thresholds = []
    },
  ]

  # 100 * DeadLettered / Records per function, as the dead-letter-rate
  # alarm computes it (without its minimum of records).
  dashboard_dead_letter_rate_widget = {
    title = "Dead-letter rate (% of records)"
    stat  = "Sum"
    metrics = concat(
      [for i, topic in keys(local.functions) : [{ id = "rate${i}", expression = "100 * FILL(dead${i}, 0) / records${i}", label = topic }]],
      [for i, topic in keys(local.functions) : [var.metrics_namespace, "DeadLettered", "Function", local.functions[topic].lambda_name, { id = "dead${i}", visible = false }]],
      [for i, topic in keys(local.functions) : [var.metrics_namespace, "Records", "Function", local.functions[topic].lambda_name, { id = "records${i}", visible = false }]],
    )
    annotations = {
      horizontal = [{ label = "dead-letter rate alarm", value = var.dead_letter_rate_alarm_threshold_percent }]
    }
  }

  # One graph per function of its dead letters by reason code.
  dashboard_reason_widgets = [
    for topic, f in local.functions : {
      title = "Dead letters by reason, ${topic}"
      stat  = "Sum"
      metrics = [
        for name in local.emf_dead_letter_by_reason :
        [var.metrics_namespace, name, "Function", f.lambda_name, { label = trimprefix(name, "DeadLettered.") }]
      ]
    }
  ]

  # The graphs with their alarm thresholds drawn in: the function-wide
  # AWS/Lambda metrics, then the batch metrics.
  dashboard_function_graphs = [
    for w in concat(local.dashboard_function_widgets, local.dashboard_lag_widgets) :
    merge(w, { metrics = local.dashboard_function_metric[w.metric] })
  ]
  dashboard_emf_graphs = [
    for w in local.dashboard_emf_widgets :
    merge(w, { metrics = concat([for name in w.metrics : local.dashboard_emf_lines[name]]...) })
    if var.metrics_enabled
  ]
  dashboard_threshold_graphs = [
    for w in concat(local.dashboard_function_graphs, local.dashboard_emf_graphs) : {
      title   = w.title
      stat    = w.stat
      metrics = w.metrics
      annotations = {
        horizontal = w.thresholds
      }
    }
  ]

  # The batch metrics' graphs are `for ... if` rather than `? ... : []`:
  # they differ in shape, and a conditional needs one type on both sides.
  dashboard_batch_widgets = [for w in concat(
    [local.dashboard_dead_letter_rate_widget],
    local.dashboard_reason_widgets,
  ) : w if var.metrics_enabled]

  # Every graph is a 12 x 6 time series in this region over
  # alarm_period_seconds; the lists above give its title, statistic, lines
  # and thresholds.
  dashboard_widgets = [
    for properties in concat(local.dashboard_threshold_graphs, local.dashboard_batch_widgets, local.dashboard_esm_widgets) : {
      type       = "metric"
      width      = 12
      height     = 6
      properties = merge({ view = "timeSeries", region = local.region, period = var.alarm_period_seconds }, properties)
    }
  ]
}

resource "aws_cloudwatch_dashboard" "this" {
  count = var.create_dashboard ? 1 : 0

  dashboard_name = local.dashboard_name
  dashboard_body = jsonencode({ widgets = local.dashboard_widgets })

  # The lines name the functions; create the dashboard once they exist.
  depends_on = [aws_lambda_function.this]
}
