"""Static checks of how infra/ is rolled out and watched: function versions
and the `live` alias, Kafka mapping metrics, VPC and KMS permissions,
Keyspaces client-side timestamps, alarms and the dashboard, the artifact
directory, and the `logpipe esm` command lines the LocalStack example
prints (checked against the flags the CLI's clap structs declare).
"""

import os
import re
import shlex
import subprocess

import pytest

import tfparse
from tfparse import blocks, dynamic_blocks, dynamic_for_each

REPO = tfparse.REPO
DOC = (REPO / "docs/infra.md").read_text()


def _statement_block(root, sid):
    """The raw statement block (with its conditions) of the function policy."""
    doc = root.data[("aws_iam_policy_document", "function")]
    (st,) = [b for b in blocks(doc, "statement") if b.get("sid") == sid]
    return st


def _statement_for_each(root, sid):
    """for_each of the dynamic statement whose content has this sid."""
    doc = root.data[("aws_iam_policy_document", "function")]
    found = []
    for entry in doc.get("dynamic", []):
        if "statement" in entry:
            contents = [tfparse.attrs(c) for c in entry["statement"].get("content", [])]
            if any(c.get("sid") == sid for c in contents):
                found.append(entry["statement"]["for_each"])
    assert len(found) == 1, sid
    return found[0]


# ---------------------------------------------------------------------------
# Versions and the live alias
# ---------------------------------------------------------------------------


def test_functions_publish_versions(root):
    fn = root.resource("aws_lambda_function", "this")
    assert fn["publish"] is True


def test_alias_follows_the_published_version_unless_pinned(root):
    alias = root.resource("aws_lambda_alias", "live")
    assert alias["for_each"] == "${local.functions}"
    assert alias["name"] == "${var.alias_name}"
    assert alias["function_name"] == "${aws_lambda_function.this[each.key].function_name}"
    assert alias["function_version"] == (
        "${lookup(var.live_function_versions, each.key, aws_lambda_function.this[each.key].version)}"
    )
    conditions = [p["condition"] for lc in alias["lifecycle"] for p in lc["precondition"]]
    assert any("var.live_function_versions" in c and "local.functions" in c for c in conditions)
    assert root.variables["alias_name"]["default"] == "live"
    assert root.variables["live_function_versions"]["default"] == {}


def test_mappings_invoke_the_alias(root):
    esm = root.resource("aws_lambda_event_source_mapping", "this")
    assert esm["function_name"] == "${aws_lambda_alias.live[each.key].arn}"
    assert "aws_lambda_function.this" not in esm["function_name"]


def test_outputs_name_versions_and_alias_arns(root, examples):
    outputs = root.outputs
    assert re.search(r"aws_lambda_alias\.live\b.*\.arn", outputs["alias_arns"]["value"])
    assert ".function_version" in outputs["live_versions"]["value"]
    assert ".version" in outputs["function_versions"]["value"]
    for name in ("msk", "self-managed"):
        assert "module.logpipe.alias_arns" in examples[name].outputs["alias_arns"]["value"]


def test_alias_and_pin_validations():
    v = tfparse.load_module(tfparse.INFRA).variables
    alias_cond = " ".join(tfparse.validation_conditions(v["alias_name"]))
    assert "^[a-zA-Z0-9_-]{1,128}$" in alias_cond and '!can(regex("^[0-9]+$"' in alias_cond
    pin_cond = " ".join(tfparse.validation_conditions(v["live_function_versions"]))
    (pattern,) = re.findall(r'regex\("([^"]+)"', pin_cond)
    for ok in ("1", "42"):
        assert re.fullmatch(pattern, ok)
    for bad in ("$LATEST", "live", "0", ""):
        assert not re.fullmatch(pattern, bad)


# ---------------------------------------------------------------------------
# Kafka event source mappings
# ---------------------------------------------------------------------------


def test_mapping_metrics_config(root):
    esm = root.resource("aws_lambda_event_source_mapping", "this")
    (content,) = dynamic_blocks(esm, "metrics_config")
    assert content == {"metrics": "${metrics_config.value}"}
    (for_each,) = dynamic_for_each(esm, "metrics_config")
    assert "local.esm_metrics_enabled" in for_each and "var.event_source_mapping_metrics" in for_each
    # AWS produces Kafka mapping metrics in provisioned mode only.
    assert "local.provisioned" in root.locals["esm_metrics_enabled"]
    var = root.variables["event_source_mapping_metrics"]
    # The provider validates the values against its SDK: releases of the
    # pinned 6.x range before 2026 (and 5.100) accept only EventCount.
    assert var["default"] == ["EventCount"]
    cond = " ".join(tfparse.validation_conditions(var))
    for metric in ("EventCount", "ErrorCount", "KafkaMetrics"):
        assert f'"{metric}"' in cond
    assert "distinct" in cond


def test_kafka_options_are_variables(root):
    esm = root.resource("aws_lambda_event_source_mapping", "this")
    assert esm["batch_size"] == "${var.batch_size}"
    assert esm["maximum_batching_window_in_seconds"] == "${var.maximum_batching_window_in_seconds}"
    assert esm["starting_position"] == "${var.starting_position}"
    (pollers,) = dynamic_for_each(esm, "provisioned_poller_config")
    assert "var.provisioned_pollers" in pollers
    (dest,) = dynamic_for_each(esm, "destination_config")
    assert "var.on_failure_destination_arn" in dest
    assert "var.consumer_group_ids" in root.locals["functions"]
    assert "var.consumer_group_prefix" in root.locals["functions"]
    for name in ("kafka_subnet_ids", "kafka_security_group_ids", "consumer_group_ids"):
        assert tfparse.validation_conditions(root.variables[name]), name


# ---------------------------------------------------------------------------
# IAM: VPC network interfaces and the on-failure destination's key
# ---------------------------------------------------------------------------


def test_vpc_permissions_follow_the_managed_vpc_access_policy(root):
    from test_terraform import VPC_ACCESS_EXECUTION_ROLE_EC2_ACTIONS

    st = tfparse.statement(root, "ManageVpcNetworkInterfaces")
    assert VPC_ACCESS_EXECUTION_ROLE_EC2_ACTIONS <= set(st.actions)
    assert st.resources == ["*"]
    assert "condition" not in _statement_block(root, "ManageVpcNetworkInterfaces")
    # No statement anywhere scopes the interface actions to ARNs.
    for other in tfparse.policy_statements(root):
        if set(other.actions) & {"ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses",
                                 "ec2:UnassignPrivateIpAddresses"}:
            assert other.sid == "ManageVpcNetworkInterfaces" and other.resources == ["*"], other


def test_failure_destination_key(root):
    st = tfparse.statement(root, "EncryptDiscardedBatches")
    assert set(st.actions) == {"kms:GenerateDataKey", "kms:Decrypt"}
    assert st.resources == ["${var.on_failure_destination_kms_key_arn}"]
    (cond,) = _statement_block(root, "EncryptDiscardedBatches")["condition"]
    assert cond["variable"] == "kms:ViaService"
    assert cond["values"] == ["${local.failure_service}.${local.region}.amazonaws.com"]
    assert _statement_for_each(root, "EncryptDiscardedBatches") == "${local.uses_failure_kms_key ? [1] : []}"
    uses = root.locals["uses_failure_kms_key"]
    assert "var.on_failure_destination_kms_key_arn != null" in uses and "var.on_failure_destination_arn" in uses
    assert root.variables["on_failure_destination_kms_key_arn"]["default"] is None


# ---------------------------------------------------------------------------
# Amazon Keyspaces
# ---------------------------------------------------------------------------


def test_keyspaces_tables_have_client_side_timestamps(root):
    table = root.resource("aws_keyspaces_table", "this")
    # A static block: every table, whatever the variables.
    assert [tfparse.attrs(b) for b in table.get("client_side_timestamps", [])] == [{"status": "ENABLED"}]
    assert not dynamic_for_each(table, "client_side_timestamps")
    # Every insert binds USING TTL ?, which Keyspaces refuses on a table
    # without TTL on, so TTL is on whatever var.ttl_seconds says.
    assert [tfparse.attrs(b) for b in table.get("ttl", [])] == [{"status": "ENABLED"}]
    assert not dynamic_for_each(table, "ttl")


def test_dead_letters_keyed_by_topic_partition_day_then_offset(root):
    table = root.locals["keyspaces_tables"]["dead_letters"]
    assert table["columns"] == {
        "topic": "text", "partition": "int", "day": "date", "offset": "bigint",
        "record_timestamp": "timestamp", "reason": "text", "detail": "text",
        "function": "text", "key": "blob", "value": "blob",
    }
    assert table["partition_key"] == ["topic", "partition", "day"]
    assert table["clustering_key"] == [{"name": "offset", "order_by": "ASC"}]


# ---------------------------------------------------------------------------
# Alarms and dashboard
# ---------------------------------------------------------------------------

ALARMS = {
    # resource: (metric, statistic, threshold expression)
    "errors": ("Errors", "Sum", "${var.errors_alarm_threshold}"),
    "throttles": ("Throttles", "Sum", "${var.throttles_alarm_threshold}"),
    "duration": ("Duration", "Maximum", "${local.duration_alarm_threshold_ms}"),
    "offset_lag": ("OffsetLag", "Maximum", "${var.offset_lag_alarm_threshold}"),
}


@pytest.mark.parametrize("name", sorted(ALARMS))
def test_alarm(root, name):
    metric, statistic, threshold = ALARMS[name]
    alarm = root.resource("aws_cloudwatch_metric_alarm", name)
    assert alarm["namespace"] == "AWS/Lambda"
    assert alarm["metric_name"] == metric
    assert alarm["statistic"] == statistic
    assert alarm["threshold"] == threshold
    assert alarm["dimensions"] == {"FunctionName": "${aws_lambda_function.this[each.key].function_name}"}
    assert alarm["alarm_actions"] == alarm["ok_actions"] == "${var.alarm_actions}"
    assert alarm["period"] == "${var.alarm_period_seconds}"


def test_one_alarm_per_metric(root):
    # The alarms on the functions' own batch metrics: test_observability.py.
    metrics = [
        a["metric_name"]
        for a in root.resources_of("aws_cloudwatch_metric_alarm").values()
        if a.get("namespace") == "AWS/Lambda"
    ]
    assert sorted(metrics) == sorted(m for m, _, _ in ALARMS.values()), metrics


def test_duration_alarm_is_a_share_of_the_timeout(root):
    expr = root.locals["duration_alarm_threshold_ms"]
    assert expr == "${var.timeout * 1000 * var.duration_alarm_threshold_percent / 100}"
    assert root.variables["duration_alarm_threshold_percent"]["default"] == 80


def test_dashboard(root):
    dash = root.resource("aws_cloudwatch_dashboard", "this")
    assert dash["count"] == "${var.create_dashboard ? 1 : 0}"
    assert dash["dashboard_body"] == "${jsonencode({widgets = local.dashboard_widgets})}"
    assert root.variables["create_dashboard"]["default"] is True
    by_metric = {w["metric"]: w for w in root.locals["dashboard_function_widgets"]}
    # The lag widget exists with the mappings: a conditional expression.
    lag = root.locals["dashboard_lag_widgets"]
    assert lag.startswith("${var.create_event_source_mappings ?")
    assert '"OffsetLag"' in lag and "var.offset_lag_alarm_threshold" in lag
    for metric in ("Invocations", "Errors", "Throttles", "Duration"):
        assert metric in by_metric, metric
        assert metric in str(root.locals["dashboard_function_metric"])
    assert "var.errors_alarm_threshold" in str(by_metric["Errors"]["thresholds"])
    assert "var.throttles_alarm_threshold" in str(by_metric["Throttles"]["thresholds"])
    assert "local.duration_alarm_threshold_ms" in str(by_metric["Duration"]["thresholds"])
    assert '"OffsetLag"' in root.locals["dashboard_function_metric"]
    graphs = root.locals["dashboard_function_graphs"]
    for part in ("local.dashboard_function_widgets", "local.dashboard_lag_widgets",
                 "local.dashboard_function_metric[w.metric]"):
        assert part in graphs, part
    drawn = root.locals["dashboard_threshold_graphs"]
    for part in ("local.dashboard_function_graphs", "local.dashboard_emf_graphs", "metrics = w.metrics",
                 "horizontal = w.thresholds"):
        assert part in drawn, part
    widgets = root.locals["dashboard_widgets"]
    for part in ("local.dashboard_threshold_graphs", "local.dashboard_batch_widgets", "local.dashboard_esm_widgets",
                 'view = "timeSeries"', "period = var.alarm_period_seconds"):
        assert part in widgets, part
    esm = root.locals["dashboard_esm_widgets"]
    assert "EventSourceMappingUUID" in esm and "aws_lambda_event_source_mapping.this[topic].uuid" in esm
    assert "local.esm_metrics_enabled" in esm
    assert "dashboard_name" in root.outputs


# ---------------------------------------------------------------------------
# Artifacts: one ARCH, zips found from any root module
# ---------------------------------------------------------------------------


def test_artifacts_dir_default_and_resolution(root):
    expr = root.locals["artifacts_dir"]
    assert '"${path.module}/../target/lambda/${var.lambda_architecture}"' in expr
    assert "var.lambda_artifacts_dir == null" in expr
    assert '"${path.root}/' in expr, "a relative lambda_artifacts_dir resolves against the root module"
    assert root.variables["lambda_artifacts_dir"]["default"] is None


def test_examples_take_architecture_and_artifacts_from_make(examples):
    # mk/infra.mk passes -var lambda_architecture and -var lambda_artifacts_dir
    # to every example; Terraform refuses a -var the root module does not declare.
    for name, module in examples.items():
        for var in ("lambda_architecture", "lambda_artifacts_dir"):
            assert var in module.variables, f"{name} lacks variable {var}"
            call = next(iter(module.modules.values()))
            assert call[var] == "${var.%s}" % var, f"{name} does not pass {var} to the module"


# ---------------------------------------------------------------------------
# `logpipe esm` command lines printed by the LocalStack example and the docs
# ---------------------------------------------------------------------------

# Where the clap structs of `logpipe esm` live: EsmArgs and what it flattens.
ESM_CLI_SOURCES = [
    "logpipe/src/cmd/esm.rs",
    "logpipe/src/esm/connection.rs",
    "generator/src/flags.rs",
    "generator/src/security.rs",
]


def clap_long_flags(text):
    """Long flags of the `#[arg(...)]` fields of clap derive structs."""
    flags = set()
    for m in re.finditer(r"#\[arg\(", text):
        close = tfparse.matching_paren(text, m.end() - 1)
        attr = text[m.end():close]
        field = re.search(r"\)\]\s*(?:(?:#\[[^\]]*\]|///[^\n]*)\s*)*(?:pub(?:\([^)]*\))?\s+)?([a-z_][a-z0-9_]*)\s*:",
                          text[close:])
        assert field, f"no field after #[arg({attr[:40]}...)]"
        named = re.search(r'\blong\s*=\s*"([^"]+)"', attr)
        if named:
            flags.add("--" + named.group(1))
        elif re.search(r"\blong\b", attr):
            flags.add("--" + field.group(1).replace("_", "-"))
    return flags


@pytest.fixture(scope="module")
def esm_flags():
    flags = {"--help"}
    for rel in ESM_CLI_SOURCES:
        path = REPO / rel
        assert path.is_file(), f"{rel} moved: update ESM_CLI_SOURCES"
        flags |= clap_long_flags(path.read_text())
    return flags


def test_clap_flag_reader():
    text = '''
    #[arg(help_heading = "Kafka", long, value_name = "SERVERS", default_value = "x")]
    pub bootstrap: String,
    /// doc
    #[arg(help_heading = "Function", long = "function-name", value_parser = f(a, b))]
    function_names: Vec<String>,
    #[arg(short)]
    quiet: bool,
    '''
    assert clap_long_flags(text) == {"--bootstrap", "--function-name"}


def test_cli_sources_declare_the_flags_the_commands_use(esm_flags):
    for flag in ("--bootstrap", "--topics", "--topic-name", "--function-name", "--endpoint-url", "--region"):
        assert flag in esm_flags, flag


def _localstack_template(examples):
    value = examples["localstack"].outputs["esm_commands"]["value"]
    m = re.search(r'in module\.logpipe\.topic_functions\s*:\s*"(logpipe esm [^"]*)"', value)
    assert m, value
    return m.group(1)


def rendered_esm_commands(root, examples):
    """The esm_commands output for the default topics, as Terraform prints it."""
    ls = examples["localstack"]
    template = _localstack_template(examples)
    prefix = root.variables["function_name_prefix"]["default"]
    out = []
    for topic, function in sorted(root.variables["topic_functions"]["default"].items()):
        values = {
            "${var.host_kafka_bootstrap}": ls.variables["host_kafka_bootstrap"]["default"],
            "${function}": function,
            "${topic}": topic,
            "${module.logpipe.function_names[topic]}": prefix + function,
            "${var.localstack_endpoint}": ls.variables["localstack_endpoint"]["default"],
            "${var.region}": ls.variables["region"]["default"],
        }
        line = template
        for k, v in values.items():
            line = line.replace(k, v)
        assert "${" not in line, line
        out.append(line)
    return out


def test_localstack_esm_commands_use_only_existing_flags(root, examples, esm_flags):
    assert "module.logpipe.topic_functions" in examples["localstack"].outputs["esm_commands"]["value"]
    assert "topic_functions" in root.outputs
    for line in rendered_esm_commands(root, examples):
        argv = shlex.split(line)
        assert argv[:2] == ["logpipe", "esm"]
        flags = [a for a in argv if a.startswith("--")]
        assert set(flags) <= esm_flags, set(flags) - esm_flags
        args = dict(zip(argv[2::2], argv[3::2]))
        # --topics takes the function binary name, a KIND the CLI accepts;
        # --topic-name binds that KIND to the topic; one topic, so a bare
        # --function-name NAME is allowed.
        assert args["--topics"] in ("auth-logs", "session-logs", "activity-logs")
        kind, topic = args["--topic-name"].split("=")
        assert kind == args["--topics"] and re.fullmatch(r"[a-zA-Z0-9._-]{1,249}", topic)
        assert "=" not in args["--function-name"]


def test_docs_esm_commands_use_only_existing_flags(root, examples, esm_flags):
    lines = [line.strip() for line in DOC.splitlines() if line.strip().startswith("logpipe esm")]
    assert lines, "docs/infra.md shows no logpipe esm command"
    for line in lines:
        flags = set(re.findall(r"(?<!\S)--[a-z][a-z0-9-]*", line))
        assert flags <= esm_flags, f"{line}: {flags - esm_flags}"
    # The docs show exactly what the LocalStack example prints.
    for command in rendered_esm_commands(root, examples):
        assert command in DOC, f"docs/infra.md does not show: {command}"


def _logpipe_binary():
    """The most recently built logpipe (make test builds the workspace before infra-test)."""
    built = [c for c in (REPO / "target/release/logpipe", REPO / "target/debug/logpipe")
             if c.is_file() and os.access(c, os.X_OK)]
    return max(built, key=lambda c: c.stat().st_mtime, default=None)


@pytest.mark.skipif(_logpipe_binary() is None, reason="no built logpipe binary (cargo build -p logpipe)")
def test_real_cli_parses_the_printed_commands(root, examples):
    binary = _logpipe_binary()
    for line in rendered_esm_commands(root, examples):
        argv = shlex.split(line)
        # Appending --help makes clap parse (and validate) everything before
        # it, then print help instead of running.
        run = subprocess.run([str(binary), *argv[1:], "--help"], capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, f"{line}\n{run.stderr}"


# ---------------------------------------------------------------------------
# docs/infra.md describes what the code does
# ---------------------------------------------------------------------------


def test_docs_describe_the_deploy_flow_and_rollout():
    for needle in ("logpipe.tfplan", "make plan", "make deploy", "ARCH=x86_64", "client-side timestamps",
                   "client_side_timestamps", "`live`", "live_function_versions", "AWSLambdaVPCAccessExecutionRole",
                   "on_failure_destination_kms_key_arn", "KafkaMetrics", "dashboard"):
        assert needle in DOC, needle
    assert "asks before applying" not in DOC
    assert "TF_VAR_lambda_architecture" not in DOC, "ARCH sets the architecture; -var overrides TF_VAR_"
