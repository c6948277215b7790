"""Observability of the deployed functions: the batch metrics (CloudWatch
Embedded Metric Format) the dashboard and alarms read, the log level knobs,
and that Terraform names the metrics exactly as the functions print them.

One list is the truth for metric names: infra/emf_metrics.json. The Rust
test functions/core/tests/metrics.rs holds it equal to what
logpipe_core::metrics emits; these tests hold the Terraform (which also
reads it) and the Rust constants to it, so a rename on either side fails.
"""

import json
import re

import pytest

import tfparse
from tfparse import blocks

EMF_FILE = tfparse.INFRA / "emf_metrics.json"
METRICS_RS = tfparse.REPO / "functions" / "core" / "src" / "metrics.rs"
INFRA_DOC = tfparse.REPO / "docs" / "infra.md"

LAMBDA_APPLICATION_LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]


@pytest.fixture(scope="module")
def emf():
    doc = json.loads(EMF_FILE.read_text())
    return doc


@pytest.fixture(scope="module")
def emf_metrics(emf):
    """name -> {unit, dimensions}."""
    return {m["name"]: m for m in emf["metrics"]}


def _text(root, name):
    return re.sub(r"(?m)^\s*#.*$", "", root.texts[name])


# ---------------------------------------------------------------------------
# The list itself, and the Rust that emits it
# ---------------------------------------------------------------------------


def test_metric_list_is_well_formed(emf, emf_metrics):
    assert emf["namespace"] == "logpipe"
    assert len(emf_metrics) == len(emf["metrics"]), "a metric listed twice"
    for name, m in emf_metrics.items():
        assert m["unit"] in ("Count", "Milliseconds"), name
        # Every metric is rolled up under Function alone: what Terraform reads.
        assert ["Function"] in m["dimensions"], name
        for dims in m["dimensions"]:
            assert 1 <= len(dims) <= 30, name
    base = {"Records", "Written", "DeadLettered", "OldestRecordAge", "BatchLatency", "WriteRetries", "Failed"}
    assert base <= set(emf_metrics)
    reasons = {n.removeprefix("DeadLettered.") for n in emf_metrics if n.startswith("DeadLettered.")}
    contract_reasons = {"wrong_topic", "empty_value", "invalid_base64", "too_large", "invalid_utf8",
                        "invalid_json", "not_an_object", "missing_field", "invalid_field"}
    assert reasons == contract_reasons


def test_rust_constants_name_the_listed_metrics(emf, emf_metrics):
    """The metric name constants of metrics.rs are the listed names (the Rust
    test compares the whole catalogue; this catches a rename from this side)."""
    source = METRICS_RS.read_text()
    consts = dict(re.findall(r'pub const ([A-Z_]+): &str = "([^"]*)";', source))
    names = {consts[c] for c in ("RECORDS", "WRITTEN", "DEAD_LETTERED", "OLDEST_RECORD_AGE",
                                  "BATCH_LATENCY", "WRITE_RETRIES", "FAILED")}
    assert names == {n for n in emf_metrics if "." not in n}
    assert consts["DEFAULT_NAMESPACE"] == emf["namespace"]
    assert consts["DEAD_LETTERED_REASON_PREFIX"] == "DeadLettered."
    assert consts["METRICS_ENV"] == "LOGPIPE_METRICS"
    assert consts["NAMESPACE_ENV"] == "LOGPIPE_METRICS_NAMESPACE"
    assert (consts["FUNCTION"], consts["TOPIC"]) == ("Function", "Topic")


# ---------------------------------------------------------------------------
# Function configuration: metrics switch, namespace, log levels
# ---------------------------------------------------------------------------


def test_functions_get_the_metrics_switch_and_namespace(root, emf):
    env = root.locals["common_environment"]
    assert re.search(r'\bLOGPIPE_METRICS\s*=\s*var\.metrics_enabled\s*\?\s*"on"\s*:\s*"off"', env), env
    assert re.search(r"\bLOGPIPE_METRICS_NAMESPACE\s*=\s*var\.metrics_namespace\b", env), env
    assert root.variables["metrics_enabled"]["default"] is True
    assert root.variables["metrics_namespace"]["default"] == emf["namespace"]


def test_namespace_validation_follows_cloudwatch(root):
    (condition,) = tfparse.validation_conditions(root.variables["metrics_namespace"])
    pattern = re.search(r'regex\("([^"]+)"', condition).group(1).replace("\\\\", "\\")
    assert 'startswith(var.metrics_namespace, "AWS/")' in condition
    for good in ("logpipe", "team/logpipe-prod", "a.b_c#d:e f"):
        assert re.fullmatch(pattern, good), good
    for bad in ("", "log{pipe}", "n" * 256, "é"):
        assert not re.fullmatch(pattern, bad), bad


def test_rust_log_is_set_only_when_given(root):
    assert root.variables["rust_log"].get("default") is None
    env = root.locals["common_environment"]
    # Not among the settings always present, only in its own conditional map.
    assert re.search(r"var\.rust_log\s*==\s*null\s*\?\s*\{\}\s*:\s*\{\s*RUST_LOG\s*=\s*var\.rust_log\s*\}", env), env
    assert len(re.findall(r"\bRUST_LOG\s*=", env)) == 1, env
    (condition,) = tfparse.validation_conditions(root.variables["rust_log"])
    assert condition.startswith("${var.rust_log == null || "), condition


def test_logging_config_takes_lambdas_levels(root):
    fn = root.resource("aws_lambda_function", "this")
    (logging,) = blocks(fn, "logging_config")
    assert logging["log_format"] == "JSON"
    assert logging["application_log_level"] == "${var.application_log_level}"
    assert logging["system_log_level"] == "${var.system_log_level}"
    app = root.variables["application_log_level"]
    system = root.variables["system_log_level"]
    assert app["default"] == "INFO" and system["default"] == "INFO"
    tfparse.check_validation("application_log_level", app, LAMBDA_APPLICATION_LEVELS,
                             ["info", "WARNING", "CRITICAL", ""])
    tfparse.check_validation("system_log_level", system, ["DEBUG", "INFO", "WARN"], ["TRACE", "ERROR", "FATAL", "warn"])


def test_metrics_refuse_an_application_level_that_drops_them(root):
    """Lambda counts a JSON line without a level (the metric lines) as INFO
    and drops it below application_log_level."""
    fn = root.resource("aws_lambda_function", "this")
    (lifecycle,) = blocks(fn, "lifecycle")
    conditions = [p["condition"] for p in blocks(lifecycle, "precondition")]
    assert any(
        "var.metrics_enabled" in c and "var.application_log_level" in c and '"INFO"' in c and '"WARN"' not in c
        for c in conditions
    ), conditions


# ---------------------------------------------------------------------------
# Alarms
# ---------------------------------------------------------------------------


def _emf_metric_blocks(alarm):
    """(metric_name, namespace, dimensions) the alarm reads, simple or metric math."""
    if "metric_name" in alarm:
        return [(alarm["metric_name"], alarm["namespace"], alarm["dimensions"])]
    out = []
    for query in blocks(alarm, "metric_query"):
        for metric in blocks(query, "metric"):
            out.append((metric["metric_name"], metric["namespace"], metric["dimensions"]))
    return out


def test_existing_alarms_remain(root):
    alarms = root.resources_of("aws_cloudwatch_metric_alarm")
    for name, metric in (("errors", "Errors"), ("throttles", "Throttles"), ("duration", "Duration"),
                         ("offset_lag", "OffsetLag")):
        assert alarms[name]["metric_name"] == metric
        assert alarms[name]["namespace"] == "AWS/Lambda"


def test_dead_letter_rate_alarm_is_metric_math_over_the_emitted_metrics(root, emf_metrics):
    alarm = root.resource("aws_cloudwatch_metric_alarm", "dead_letter_rate")
    assert alarm["for_each"] == "${var.metrics_enabled ? local.functions : {}}"
    queries = {q["id"]: q for q in blocks(alarm, "metric_query")}
    rate = queries["rate"]
    assert rate["return_data"] is True
    expression = rate["expression"]
    assert "100 * FILL(dead, 0) / records" in expression, expression
    assert "var.dead_letter_rate_alarm_min_records" in expression, expression
    read = {}
    for query_id in ("dead", "records"):
        (metric,) = blocks(queries[query_id], "metric")
        read[query_id] = metric["metric_name"]
        assert metric["stat"] == "Sum"
        assert metric["period"] == "${var.alarm_period_seconds}"
    assert read == {"dead": "DeadLettered", "records": "Records"}
    assert alarm["threshold"] == "${var.dead_letter_rate_alarm_threshold_percent}"
    assert alarm["comparison_operator"] == "GreaterThanThreshold"
    assert alarm["treat_missing_data"] == "notBreaching"
    assert alarm["alarm_actions"] == "${var.alarm_actions}"
    assert "metric_name" not in alarm and "namespace" not in alarm


def test_record_age_alarm_is_optional_and_in_milliseconds(root):
    alarm = root.resource("aws_cloudwatch_metric_alarm", "record_age")
    assert "var.record_age_alarm_threshold_seconds != null" in alarm["for_each"]
    assert "var.metrics_enabled" in alarm["for_each"]
    assert alarm["metric_name"] == "OldestRecordAge"
    assert alarm["statistic"] == "Maximum"
    assert "* 1000" in alarm["threshold"]
    assert root.variables["record_age_alarm_threshold_seconds"].get("default") is None


@pytest.mark.parametrize("name", ["dead_letter_rate", "record_age"])
def test_alarms_read_metrics_as_the_functions_print_them(root, emf_metrics, name):
    alarm = root.resource("aws_cloudwatch_metric_alarm", name)
    read = _emf_metric_blocks(alarm)
    assert read
    for metric_name, namespace, dimensions in read:
        assert metric_name in emf_metrics, f"{name}: {metric_name} is not a metric the functions emit"
        assert namespace == "${var.metrics_namespace}", name
        assert sorted(dimensions) in emf_metrics[metric_name]["dimensions"], (name, dimensions)
        assert dimensions["Function"] == "${aws_lambda_function.this[each.key].function_name}"


@pytest.mark.parametrize("name,accepted,rejected", [
    ("dead_letter_rate_alarm_threshold_percent", [0.1, 5, 100], [0, -1, 101]),
    ("dead_letter_rate_alarm_min_records", [1, 10, 1000], [0, -1]),
    ("record_age_alarm_threshold_seconds", [None, 1, 3600], [0, -5]),
])
def test_observability_thresholds_are_validated(root, name, accepted, rejected):
    var = root.variables[name]
    tfparse.check_validation(name, var, accepted, rejected)
    assert tfparse.validation_accepts(name, var, var.get("default")), name


def test_alarm_arns_output_lists_the_new_alarms(root):
    value = root.outputs["alarm_arns"]["value"]
    for name in ("errors", "throttles", "duration", "offset_lag", "dead_letter_rate", "record_age"):
        assert f"aws_cloudwatch_metric_alarm.{name}" in value, name


# ---------------------------------------------------------------------------
# Dashboard
# ---------------------------------------------------------------------------


def test_dashboard_reads_the_metric_list(root):
    assert 'jsondecode(file("${path.module}/emf_metrics.json"))' in root.locals["emf_metrics"]
    assert 'startswith(m.name, "DeadLettered.")' in root.locals["emf_dead_letter_by_reason"]
    assert "local.emf_dead_letter_by_reason" in str(root.locals["dashboard_reason_widgets"])
    assert "local.dashboard_batch_widgets" in root.locals["dashboard_widgets"]
    assert "var.metrics_enabled" in root.locals["dashboard_batch_widgets"]
    graphs = root.locals["dashboard_emf_graphs"]
    assert "local.dashboard_emf_widgets" in graphs and "local.dashboard_emf_lines[name]" in graphs
    assert "var.metrics_enabled" in graphs


def test_dashboard_names_only_emitted_metrics_and_draws_them_all(root, emf_metrics):
    code = _text(root, "dashboard.tf")
    literal = set(re.findall(r'var\.metrics_namespace,\s*"([^"]+)"', code))
    graphed = {name for w in root.locals["dashboard_emf_widgets"] for name in w["metrics"]}
    for name in literal | graphed:
        assert name in emf_metrics, f"the dashboard draws {name}, which the functions do not emit"
    # Lines are drawn under the Function roll-up, which every metric has.
    assert not re.search(r'var\.metrics_namespace,[^\]]*"Topic"', code)
    drawn = literal | graphed | {n for n in emf_metrics if n.startswith("DeadLettered.")}
    assert drawn == set(emf_metrics), set(emf_metrics) - drawn


def test_dashboard_draws_the_dead_letter_rate_with_its_threshold(root):
    widget = str(root.locals["dashboard_dead_letter_rate_widget"])
    assert "100 * FILL(dead${i}, 0) / records${i}" in widget
    assert "var.dead_letter_rate_alarm_threshold_percent" in widget
    assert "visible = false" in widget or "'visible': False" in widget


def test_dashboard_keeps_the_mapping_metrics(root):
    assert "OffsetLag" in root.locals["dashboard_function_metric"]
    names = root.locals["dashboard_esm_metric_names"]
    for name in ("PolledEventCount", "InvokedEventCount", "FailedInvokeEventCount"):
        assert name in names


# ---------------------------------------------------------------------------
# Docs
# ---------------------------------------------------------------------------


def test_infra_doc_names_every_metric_and_knob(emf_metrics):
    doc = INFRA_DOC.read_text()
    for name in emf_metrics:
        if not name.startswith("DeadLettered."):
            assert f"`{name}`" in doc, name
    assert "`DeadLettered.<reason>`" in doc
    for knob in ("application_log_level", "system_log_level", "rust_log", "metrics_enabled", "metrics_namespace",
                 "dead_letter_rate_alarm_threshold_percent", "dead_letter_rate_alarm_min_records",
                 "record_age_alarm_threshold_seconds", "LOGPIPE_METRICS", "LOGPIPE_METRICS_NAMESPACE",
                 "AWS_LAMBDA_LOG_LEVEL", "RUST_LOG"):
        assert f"`{knob}`" in doc, knob
