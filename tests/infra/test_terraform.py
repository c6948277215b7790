"""Static checks of the Terraform in infra/: structure, validation ranges,
least-privilege IAM, and that no credential is a plain variable or output.

These read the configuration only. What needs AWS (that the provider
accepts every argument, that the roles suffice at run time) is left to
`terraform plan/apply`; see docs/infra.md.
"""

import re

import pytest

import tfparse
from tfparse import blocks, dynamic_blocks

CONTRACT_FUNCTIONS = {
    "user_auth_logs": "auth-logs",
    "user_session_logs": "session-logs",
    "user_activity_logs": "activity-logs",
}

PER_FUNCTION_RESOURCES = [
    ("aws_lambda_function", "this"),
    ("aws_lambda_alias", "live"),
    ("aws_cloudwatch_log_group", "function"),
    ("aws_iam_role", "function"),
    ("aws_iam_role_policy", "function"),
    ("aws_lambda_event_source_mapping", "this"),
    ("aws_cloudwatch_metric_alarm", "errors"),
    ("aws_cloudwatch_metric_alarm", "throttles"),
    ("aws_cloudwatch_metric_alarm", "duration"),
    ("aws_cloudwatch_metric_alarm", "offset_lag"),
]

# aws_lambda_event_source_mapping arguments of AWS provider 6.x
# (website/docs/r/lambda_event_source_mapping.html.markdown).
ESM_ARGUMENTS = {
    "amazon_managed_kafka_event_source_config", "batch_size", "bisect_batch_on_function_error",
    "destination_config", "document_db_event_source_config", "enabled", "event_source_arn",
    "filter_criteria", "function_name", "function_response_types", "kms_key_arn",
    "maximum_batching_window_in_seconds", "maximum_record_age_in_seconds",
    "maximum_retry_attempts", "metrics_config", "parallelization_factor",
    "provisioned_poller_config", "queues", "region", "scaling_config",
    "self_managed_event_source", "self_managed_kafka_event_source_config",
    "source_access_configuration", "starting_position", "starting_position_timestamp",
    "tags", "topics", "tumbling_window_in_seconds",
}
META_ARGUMENTS = {"for_each", "count", "depends_on", "lifecycle", "provider", "dynamic"}

FUNCTION_ENVIRONMENT = {
    "LOGPIPE_TOPIC", "LOGPIPE_CASSANDRA_CONTACT_POINTS", "LOGPIPE_CASSANDRA_KEYSPACE",
    "LOGPIPE_CASSANDRA_LOCAL_DC", "LOGPIPE_CASSANDRA_CONSISTENCY",
    "LOGPIPE_CASSANDRA_CREDENTIALS_SECRET_ARN", "LOGPIPE_CASSANDRA_TLS",
    "LOGPIPE_CASSANDRA_TLS_CA_FILE", "LOGPIPE_CASSANDRA_TLS_SERVER_NAME",
    "LOGPIPE_TTL_SECONDS", "LOGPIPE_WRITE_CONCURRENCY", "LOGPIPE_WRITE_MAX_ATTEMPTS",
    "LOGPIPE_RETRY_BACKOFF_MS", "LOGPIPE_REQUEST_TIMEOUT_MS", "RUST_LOG",
}

# The EC2 actions of the AWS managed policy AWSLambdaVPCAccessExecutionRole,
# which grants them on Resource "*". Lambda refuses a VPC function whose role
# scopes ec2:DeleteNetworkInterface to ARNs (terraform-provider-aws#20698).
VPC_ACCESS_EXECUTION_ROLE_EC2_ACTIONS = {
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
}

# Actions granted on Resource "*": those without resource-level ARNs, and
# the network interface actions Lambda validates on "*".
ACTIONS_ALLOWED_ON_ANY_RESOURCE = VPC_ACCESS_EXECUTION_ROLE_EC2_ACTIONS | {
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeVpcs",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
}


# ---------------------------------------------------------------------------
# Files and providers
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("directory", tfparse.all_tf_dirs(), ids=lambda p: str(p.relative_to(tfparse.REPO)))
def test_every_tf_file_parses(directory):
    module = tfparse.load_module(directory)
    assert module.texts


@pytest.mark.parametrize("directory", tfparse.all_tf_dirs(), ids=lambda p: str(p.relative_to(tfparse.REPO)))
def test_versions_pin_terraform_and_aws_provider_6(directory):
    module = tfparse.load_module(directory)
    assert "versions.tf" in module.texts, f"{directory} has no versions.tf"
    (tf,) = module.terraform
    assert re.match(r">=\s*1\.\d+", tf["required_version"]), tf["required_version"]
    (providers,) = tf["required_providers"]
    aws = providers["aws"]
    assert aws["source"] == "hashicorp/aws"
    constraint = aws["version"]
    assert re.search(r">=\s*6\.", constraint) and re.search(r"<\s*7\.", constraint) or constraint.startswith("~> 6."), constraint


def test_layout_follows_terraform_aws_modules():
    for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf"):
        assert (tfparse.INFRA / name).is_file(), name
    for example in tfparse.EXAMPLE_NAMES:
        for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf"):
            assert (tfparse.EXAMPLES / example / name).is_file(), f"{example}/{name}"


def test_root_module_configures_no_provider(root):
    assert not root.providers, "provider configuration belongs in the examples (root callers)"


# ---------------------------------------------------------------------------
# One map of topics -> functions drives everything
# ---------------------------------------------------------------------------


def test_topic_function_map_default_is_the_contract(root):
    var = root.variables["topic_functions"]
    assert var["default"] == CONTRACT_FUNCTIONS


def test_local_functions_is_derived_from_the_one_map(root):
    functions = root.locals["functions"]
    assert "for topic" in functions and "in var.topic_functions" in functions
    assert "bootstrap.zip" in functions
    # No other local, resource or output iterates the raw variable.
    uses = [n for n, v in root.locals.items() if "var.topic_functions" in str(v)]
    assert uses == ["functions"], uses


@pytest.mark.parametrize("rtype,name", PER_FUNCTION_RESOURCES)
def test_per_function_resources_iterate_local_functions(root, rtype, name):
    body = root.resource(rtype, name)
    for_each = body.get("for_each")
    assert for_each is not None, f"{rtype}.{name} has no for_each"
    assert re.fullmatch(r"\$\{(.+\?\s*)?local\.functions(\s*:\s*\{\})?\}", for_each), (
        f"{rtype}.{name} must iterate local.functions, not {for_each}"
    )
    assert "count" not in body


def test_functions_and_mappings_share_keys(root):
    fn = root.resource("aws_lambda_function", "this")["for_each"]
    esm = root.resource("aws_lambda_event_source_mapping", "this")["for_each"]
    assert fn == "${local.functions}"
    assert "local.functions" in esm
    mapping = root.resource("aws_lambda_event_source_mapping", "this")
    assert mapping["function_name"] == "${aws_lambda_alias.live[each.key].arn}"
    assert mapping["topics"] == ["${each.key}"]


# ---------------------------------------------------------------------------
# Lambda functions
# ---------------------------------------------------------------------------


def test_function_runtime_and_package(root):
    fn = root.resource("aws_lambda_function", "this")
    assert fn["runtime"] == "provided.al2023"
    assert fn["handler"] == "bootstrap"
    assert fn["architectures"] == ["${var.lambda_architecture}"]
    assert root.variables["lambda_architecture"]["default"] == "arm64"
    filename = fn["filename"]
    assert fn["source_code_hash"] == "${filebase64sha256(%s)}" % filename[2:-1]
    artifacts = root.locals["artifacts_dir"]
    assert "target/lambda/${var.lambda_architecture}" in artifacts
    assert "/bootstrap.zip" in root.locals["functions"]


def test_function_sizing_is_variable(root):
    fn = root.resource("aws_lambda_function", "this")
    for arg, var in [("memory_size", "memory_size"), ("timeout", "timeout"),
                     ("reserved_concurrent_executions", "reserved_concurrent_executions")]:
        assert fn[arg] == "${var.%s}" % var


def test_functions_log_json_to_their_own_group(root):
    fn = root.resource("aws_lambda_function", "this")
    (logging,) = blocks(fn, "logging_config")
    assert logging["log_format"] == "JSON"
    assert logging["log_group"] == "${aws_cloudwatch_log_group.function[each.key].name}"
    group = root.resource("aws_cloudwatch_log_group", "function")
    assert group["retention_in_days"] == "${var.log_retention_days}"
    assert "/aws/lambda/" in root.locals["functions"]


def test_function_environment_has_every_setting(root):
    fn = root.resource("aws_lambda_function", "this")
    (env,) = blocks(fn, "environment")
    expression = env["variables"]
    assert "local.common_environment" in expression
    keys = tfparse.env_keys(expression) | tfparse.env_keys(root.locals["common_environment"])
    assert FUNCTION_ENVIRONMENT <= keys, FUNCTION_ENVIRONMENT - keys
    assert re.search(r"\bLOGPIPE_TOPIC\s*=\s*each\.key\b", expression), expression


def test_environment_defaults_match_the_functions(root):
    v = root.variables
    assert v["cassandra_contact_points"]["default"] == ["127.0.0.1:9042"]
    assert v["cassandra_keyspace"]["default"] == "user_db"
    assert v["cassandra_consistency"]["default"] == "LOCAL_QUORUM"
    assert v["ttl_seconds"]["default"] == 0
    assert v["write_concurrency"]["default"] == 64
    assert v["write_max_attempts"]["default"] == 4
    assert v["retry_backoff_ms"]["default"] == 100
    assert v["request_timeout_ms"]["default"] == 2000
    # Unset: the level follows application_log_level (AWS_LAMBDA_LOG_LEVEL).
    assert v["rust_log"].get("default") is None


def test_keyspaces_means_port_9142_tls_and_local_quorum(root):
    assert "amazonaws.com:9142" in root.locals["contact_points"]
    assert re.search(r"local\.keyspaces\s*\?\s*true\b", root.locals["cassandra_tls"])
    fn = root.resource("aws_lambda_function", "this")
    conditions = [p["condition"] for lc in fn["lifecycle"] for p in lc["precondition"]]
    assert any("LOCAL_QUORUM" in c and "local.keyspaces" in c for c in conditions)


def test_credentials_never_reach_terraform(root, examples):
    for module in [root, *examples.values()]:
        for name, text in module.texts.items():
            for forbidden in ("LOGPIPE_CASSANDRA_USERNAME", "LOGPIPE_CASSANDRA_PASSWORD"):
                assert forbidden not in text, f"{module.directory.name}/{name} sets {forbidden}"
            assert not re.search(r"(?i)\bpassword\s*=", text), f"{module.directory.name}/{name} assigns a password"


# ---------------------------------------------------------------------------
# Variables
# ---------------------------------------------------------------------------


def _all_variables(root, examples):
    for module in [root, *examples.values()]:
        for name, var in module.variables.items():
            yield f"{module.directory.relative_to(tfparse.REPO)}:{name}", name, var


def test_every_variable_is_typed_and_described(root, examples):
    missing = []
    for where, _, var in _all_variables(root, examples):
        if not var.get("type"):
            missing.append(f"{where} (type)")
        description = var.get("description")
        if not description or len(description) < 10:
            missing.append(f"{where} (description)")
    assert not missing, missing


# A variable naming a secret (its ARN or ID); its value is never an input.
SECRET_REFERENCE = re.compile(r"secret(_arn|_id)?$")


def test_secret_inputs_are_arns_marked_sensitive(root, examples):
    problems = []
    for where, name, var in _all_variables(root, examples):
        if re.search(r"password|passwd|secret_value|secret_string|private_key|token", name):
            problems.append(f"{where}: secret values are never variables; pass a Secrets Manager ARN")
        if SECRET_REFERENCE.search(name):
            if var.get("sensitive") is not True:
                problems.append(f"{where}: must be sensitive = true")
            if var.get("default") not in (None, ""):
                problems.append(f"{where}: a secret reference has no default")
    assert not problems, problems


RANGES = [
    # variable, accepted, rejected
    ("batch_size", [1, 100, 10000], [0, -1, 10001]),
    ("maximum_batching_window_in_seconds", [0, 1, 300], [-1, 301]),
    ("maximum_retry_attempts", [-1, 0, 10000], [-2, 10001]),
    ("maximum_record_age_in_seconds", [-1, 60, 604800], [-2, 0, 59, 604801]),
    ("memory_size", [128, 10240], [127, 10241]),
    ("timeout", [1, 900], [0, 901]),
    ("reserved_concurrent_executions", [-1, 0, 10], [-2]),
    ("log_retention_days", [0, 1, 30, 365, 3653], [2, 31, 10000]),
    ("ttl_seconds", [0, 86400], [-1]),
    ("write_concurrency", [1, 64, 4096], [0, 4097]),
    ("write_max_attempts", [1, 4, 100], [0, 101]),
    ("alarm_period_seconds", [60, 300], [0, 30, 90]),
    ("throttles_alarm_threshold", [1, 100], [0, -1]),
    ("duration_alarm_threshold_percent", [1, 80, 100], [0, 101]),
    ("starting_position", ["TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"], ["EARLIEST", "trim_horizon"]),
    ("kafka_source", ["msk", "self_managed"], ["kafka"]),
    ("kafka_auth", ["IAM", "SASL_SCRAM_512", "SASL_SCRAM_256", "SASL_PLAIN", "MTLS", "NONE"], ["SCRAM"]),
    ("storage_backend", ["cassandra", "keyspaces"], ["scylla"]),
    ("lambda_architecture", ["arm64", "x86_64"], ["aarch64"]),
    ("cassandra_consistency", ["LOCAL_QUORUM", "LOCAL_ONE", "QUORUM"], ["SERIAL", "local_quorum"]),
    ("provisioned_pollers",
     [None, {"minimum_pollers": 1, "maximum_pollers": 1}, {"minimum_pollers": 200, "maximum_pollers": 2000}],
     [{"minimum_pollers": 0, "maximum_pollers": 10}, {"minimum_pollers": 201, "maximum_pollers": 2000},
      {"minimum_pollers": 1, "maximum_pollers": 2001}, {"minimum_pollers": 10, "maximum_pollers": 5}]),
]


@pytest.mark.parametrize("name,accepted,rejected", RANGES, ids=[r[0] for r in RANGES])
def test_validation_ranges(root, name, accepted, rejected):
    tfparse.check_validation(name, root.variables[name], accepted, rejected)


def test_variable_defaults_pass_their_own_validation(root):
    for name, _, _ in RANGES:
        var = root.variables[name]
        assert tfparse.validation_accepts(name, var, var["default"]), name


def test_text_validations_exist(root):
    for name in ("topic_functions", "msk_cluster_arn", "kafka_bootstrap_servers", "consumer_group_prefix",
                 "on_failure_destination_arn", "filter_patterns", "cassandra_contact_points",
                 "consumer_group_ids", "kafka_subnet_ids", "kafka_security_group_ids",
                 "on_failure_destination_kms_key_arn", "event_source_mapping_metrics", "alias_name",
                 "live_function_versions", "lambda_artifacts_dir", "dashboard_name"):
        assert tfparse.validation_conditions(root.variables[name]), f"{name} has no validation"
    assert "10000" not in str(root.variables["filter_patterns"])  # guards a copy-paste of batch limits
    assert "4096" in str(root.variables["filter_patterns"]["validation"])


# ---------------------------------------------------------------------------
# Event source mappings
# ---------------------------------------------------------------------------


def _esm(root):
    return root.resource("aws_lambda_event_source_mapping", "this")


def test_event_source_mapping_uses_only_provider_arguments(root):
    esm = _esm(root)
    used = (set(esm) - META_ARGUMENTS) | {name for d in esm.get("dynamic", []) for name in d}
    unknown = used - ESM_ARGUMENTS
    assert not unknown, f"not arguments of aws_lambda_event_source_mapping: {unknown}"


def test_event_source_mapping_settings_are_variables(root):
    esm = _esm(root)
    for arg in ("batch_size", "maximum_batching_window_in_seconds", "starting_position", "enabled"):
        assert "var." in esm[arg], arg
    for arg, var in [("maximum_retry_attempts", "maximum_retry_attempts"),
                     ("maximum_record_age_in_seconds", "maximum_record_age_in_seconds"),
                     ("bisect_batch_on_function_error", "bisect_batch_on_function_error")]:
        assert f"var.{var}" in esm[arg] and "local.provisioned" in esm[arg], arg


def test_msk_and_self_managed_sources(root):
    esm = _esm(root)
    assert "var.msk_cluster_arn" in esm["event_source_arn"]
    (msk,) = dynamic_blocks(esm, "amazon_managed_kafka_event_source_config")
    (smk,) = dynamic_blocks(esm, "self_managed_kafka_event_source_config")
    assert msk["consumer_group_id"] == smk["consumer_group_id"] == "${each.value.consumer_group_id}"
    (source,) = dynamic_blocks(esm, "self_managed_event_source")
    assert "KAFKA_BOOTSTRAP_SERVERS" in str(source["endpoints"])
    assert "var.kafka_bootstrap_servers" in str(source["endpoints"])
    (access,) = dynamic_blocks(esm, "source_access_configuration")
    assert set(access) == {"type", "uri"}
    sac = root.locals["source_access_configurations"]
    for kind in ("VPC_SUBNET", "VPC_SECURITY_GROUP", "SERVER_ROOT_CA_CERTIFICATE"):
        assert kind in sac, kind
    auth_types = root.locals["auth_access_type"]
    assert auth_types == {"SASL_SCRAM_512": "SASL_SCRAM_512_AUTH", "SASL_SCRAM_256": "SASL_SCRAM_256_AUTH",
                          "SASL_PLAIN": "BASIC_AUTH", "MTLS": "CLIENT_CERTIFICATE_TLS_AUTH"}


def test_mapping_options(root):
    esm = _esm(root)
    (pollers,) = dynamic_blocks(esm, "provisioned_poller_config")
    assert set(pollers) == {"minimum_pollers", "maximum_pollers"}
    (dest,) = dynamic_blocks(esm, "destination_config")
    (on_failure,) = dest["on_failure"]
    assert "destination_arn" in on_failure
    (criteria,) = dynamic_blocks(esm, "filter_criteria")
    (flt,) = dynamic_blocks(criteria, "filter")
    assert flt["pattern"] == "${filter.value}"
    assert "starting_position_timestamp" in esm


def test_mapping_preconditions_cover_auth_and_provisioned_mode(root):
    esm = _esm(root)
    text = " ".join(p["condition"] for lc in esm["lifecycle"] for p in lc["precondition"])
    for needle in ("var.msk_cluster_arn", "var.kafka_bootstrap_servers", "local.has_kafka_auth_secret",
                   "local.provisioned", "starting_position_timestamp"):
        assert needle in text, needle


# ---------------------------------------------------------------------------
# IAM: least privilege
# ---------------------------------------------------------------------------


def test_no_wildcard_action_on_wildcard_resource(root):
    statements = list(tfparse.policy_statements(root))
    assert len(statements) >= 8, [s.sid for s in statements]
    for st in statements:
        assert st.actions, st
        assert st.resources or st.where.endswith(".assume_role"), st
        assert not ("*" in st.actions and "*" in st.resources), f"{st.where}/{st.sid}: * on *"
        for action in st.actions:
            assert action != "*" and not action.endswith(":*"), f"{st.where}/{st.sid}: wildcard action {action}"


def test_resource_wildcards_only_for_actions_without_resource_arns(root):
    for st in tfparse.policy_statements(root):
        if "*" in st.resources:
            extra = set(st.actions) - ACTIONS_ALLOWED_ON_ANY_RESOURCE
            assert not extra, f"{st.where}/{st.sid}: {extra} must be scoped to ARNs"


def test_logs_only_on_own_log_group(root):
    st = tfparse.statement(root, "WriteOwnLogGroup")
    assert st.resources == ["${aws_cloudwatch_log_group.function[each.key].arn}:*"]
    assert "logs:CreateLogGroup" not in st.actions


def test_secrets_only_the_ones_it_reads(root):
    st = tfparse.statement(root, "ReadOwnSecrets")
    assert st.actions == ["secretsmanager:GetSecretValue"]
    (resources,) = st.resources
    arns = set(re.findall(r"var\.([a-z_]+_arn)\b", resources))
    assert arns == {"cassandra_credentials_secret_arn", "kafka_auth_secret_arn", "kafka_server_root_ca_secret_arn"}
    decrypt = tfparse.statement(root, "DecryptSecretsThroughSecretsManager")
    assert decrypt.actions == ["kms:Decrypt"]


def test_msk_permissions_scoped_to_cluster_topic_and_group(root):
    describe = tfparse.statement(root, "DescribeOwnMskCluster")
    assert set(describe.actions) == {"kafka:DescribeCluster", "kafka:DescribeClusterV2", "kafka:GetBootstrapBrokers"}
    assert describe.resources == ["${var.msk_cluster_arn}"]
    connect = tfparse.statement(root, "ConnectToOwnMskCluster")
    assert set(connect.actions) == {"kafka-cluster:Connect", "kafka-cluster:DescribeClusterDynamicConfiguration"}
    assert connect.resources == ["${var.msk_cluster_arn}"]
    topic = tfparse.statement(root, "ReadOwnMskTopic")
    assert set(topic.actions) == {"kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"}
    assert topic.resources == ["${local.msk_topic_arn_prefix}/${each.key}"]
    group = tfparse.statement(root, "UseOwnMskConsumerGroup")
    assert set(group.actions) == {"kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"}
    assert group.resources == ["${local.msk_group_arn_prefix}/${each.value.consumer_group_id}"]
    assert ":topic/" in root.locals["msk_topic_arn_prefix"]
    assert ":group/" in root.locals["msk_group_arn_prefix"]


def test_one_role_per_function_and_no_managed_admin_policies(root):
    role = root.resource("aws_iam_role", "function")
    assert "each.value.role_name" in role["name"]
    assume = root.data[("aws_iam_policy_document", "assume_role")]
    (st,) = blocks(assume, "statement")
    (principal,) = st["principals"]
    assert principal["identifiers"] == ["lambda.amazonaws.com"]
    for rtype in ("aws_iam_role_policy_attachment", "aws_iam_policy_attachment", "aws_iam_policy"):
        assert not root.resources_of(rtype), f"{rtype}: use the per-function inline policy"
    policy = root.resource("aws_iam_role_policy", "function")
    assert policy["policy"] == "${data.aws_iam_policy_document.function[each.key].json}"


# ---------------------------------------------------------------------------
# Alarms and outputs
# ---------------------------------------------------------------------------


def test_alarms_on_errors_and_offset_lag(root):
    errors = root.resource("aws_cloudwatch_metric_alarm", "errors")
    lag = root.resource("aws_cloudwatch_metric_alarm", "offset_lag")
    for alarm, metric in ((errors, "Errors"), (lag, "OffsetLag")):
        assert alarm["namespace"] == "AWS/Lambda"
        assert alarm["metric_name"] == metric
        assert "aws_lambda_function.this[each.key].function_name" in str(alarm["dimensions"])
        assert alarm["alarm_actions"] == "${var.alarm_actions}"


def test_outputs_expose_arns_and_uuids_but_no_secret(root, examples):
    outputs = root.outputs
    assert "aws_lambda_function.this" in outputs["function_arns"]["value"]
    assert ".arn" in outputs["function_arns"]["value"]
    assert "aws_lambda_event_source_mapping.this" in outputs["event_source_mapping_uuids"]["value"]
    assert ".uuid" in outputs["event_source_mapping_uuids"]["value"]
    for module in [root, *examples.values()]:
        for name, out in module.outputs.items():
            assert out.get("description"), f"{module.directory.name}: output {name} has no description"
            text = str(out["value"]).lower()
            for forbidden in ("secret", "password", "environment", "common_environment"):
                assert forbidden not in text, f"{module.directory.name}: output {name} exposes {forbidden}"


# ---------------------------------------------------------------------------
# Amazon Keyspaces tables == cassandra/schema.cql
# ---------------------------------------------------------------------------


def test_keyspaces_tables_match_schema_cql(root):
    assert tfparse.SCHEMA_CQL.is_file(), "cassandra/schema.cql is missing"
    cql = tfparse.parse_cql_tables(tfparse.SCHEMA_CQL.read_text())
    tf_tables = root.locals["keyspaces_tables"]
    assert set(tf_tables) == {"auth_logs", "session_logs", "activity_logs", "dead_letters"}
    assert set(tf_tables) <= set(cql), f"schema.cql lacks {set(tf_tables) - set(cql)}"
    for name, table in tf_tables.items():
        want = cql[name]
        columns = {c: tfparse.normalise_cql_type(t) for c, t in table["columns"].items()}
        assert columns == want.columns, f"{name}: columns differ from schema.cql"
        assert table["partition_key"] == want.partition_key, f"{name}: partition key"
        clustering = [(c["name"], c["order_by"]) for c in table["clustering_key"]]
        assert clustering == want.clustering, f"{name}: clustering key / order"


def test_log_tables_are_partitioned_by_user_and_day(root):
    for name in ("auth_logs", "session_logs", "activity_logs"):
        table = root.locals["keyspaces_tables"][name]
        assert table["partition_key"] == ["user_id", "day"]
        assert table["columns"]["day"] == "date"
        assert table["clustering_key"][0] == {"name": "event_time", "order_by": "DESC"}


def test_keyspaces_resources(root):
    keyspace = root.resource("aws_keyspaces_keyspace", "this")
    assert keyspace["name"] == "${var.cassandra_keyspace}"
    table = root.resource("aws_keyspaces_table", "this")
    assert "local.keyspaces_tables" in table["for_each"]
    (schema,) = table["schema_definition"]
    for block in ("column", "partition_key", "clustering_key"):
        assert dynamic_blocks(schema, block), block


def test_cql_parser_reads_keys_and_order():
    cql = """
    -- comment
    CREATE TABLE IF NOT EXISTS ks.t (
        a text, b date, c timestamp, d uuid, m map<text, text>,
        PRIMARY KEY ((a, b), c, d)
    ) WITH CLUSTERING ORDER BY (c DESC, d ASC) AND comment = 'x';
    CREATE TABLE u (k text PRIMARY KEY, v blob);
    """
    tables = tfparse.parse_cql_tables(cql)
    assert tables["t"].partition_key == ["a", "b"]
    assert tables["t"].clustering == [("c", "DESC"), ("d", "ASC")]
    assert tables["t"].columns["m"] == "map<text,text>"
    assert tables["u"].partition_key == ["k"] and tables["u"].clustering == []


# ---------------------------------------------------------------------------
# Examples
# ---------------------------------------------------------------------------


def test_examples_call_the_root_module(examples):
    for name, module in examples.items():
        assert "aws" in module.providers, f"{name} configures no aws provider"
        (call,) = module.modules.values()
        assert call["source"] == "../..", name


def test_examples_choose_their_kafka_and_storage(examples):
    msk = next(iter(examples["msk"].modules.values()))
    assert msk["kafka_source"] == "msk"
    assert msk["kafka_auth"] == "IAM"
    assert msk["storage_backend"] == "keyspaces"
    assert msk["create_keyspaces_tables"] is True
    sm = next(iter(examples["self-managed"].modules.values()))
    assert sm["kafka_source"] == "self_managed"
    assert sm["kafka_auth"].startswith("SASL_SCRAM")
    for arg in ("kafka_bootstrap_servers", "kafka_subnet_ids", "kafka_security_group_ids", "kafka_auth_secret_arn"):
        assert arg in sm, arg


def test_localstack_example_can_run_without_mappings(examples):
    ls = examples["localstack"]
    call = next(iter(ls.modules.values()))
    assert call["create_event_source_mappings"] == "${var.create_event_source_mappings}"
    assert ls.variables["create_event_source_mappings"]["default"] is False
    commands = ls.outputs["esm_commands"]["value"]
    assert "logpipe esm " in commands and "--endpoint-url ${var.localstack_endpoint}" in commands


def test_example_arguments_exist_in_the_root_module(root, examples):
    for name, module in examples.items():
        call = next(iter(module.modules.values()))
        unknown = set(call) - {"source", "version", "providers", "depends_on", "count", "for_each"} - set(root.variables)
        assert not unknown, f"{name} passes unknown arguments {unknown}"


def test_checkov_skips_are_justified():
    for directory in tfparse.all_tf_dirs():
        for path in directory.glob("*.tf"):
            for line in path.read_text().splitlines():
                m = re.search(r"checkov:skip=([A-Z0-9_]+)(?::(.*))?", line)
                if m:
                    assert m.group(2) and len(m.group(2).strip()) >= 40, f"{path.name}: {m.group(1)} skipped without a reason"


# ---------------------------------------------------------------------------
# References resolve (what `terraform validate` would catch first)
# ---------------------------------------------------------------------------


def _code(module):
    """The configuration text with comments removed."""
    text = "\n".join(module.texts.values())
    return re.sub(r"(?m)^\s*#.*$", "", text)


@pytest.mark.parametrize("directory", tfparse.all_tf_dirs(), ids=lambda p: str(p.relative_to(tfparse.REPO)))
def test_every_reference_is_declared(directory):
    module = tfparse.load_module(directory)
    code = _code(module)
    for name in set(re.findall(r"\bvar\.([a-z_0-9]+)", code)):
        assert name in module.variables, f"{directory.name}: var.{name} is not declared"
    for name in set(re.findall(r"\blocal\.([a-z_0-9]+)", code)):
        assert name in module.locals, f"{directory.name}: local.{name} is not defined"
    for rtype, name in set(re.findall(r"(?<![\w.\"])(aws_[a-z0-9_]+)\.([a-z_0-9]+)\b", code)):
        assert (rtype, name) in module.resources, f"{directory.name}: {rtype}.{name} is not declared"
    for rtype, name in set(re.findall(r"\bdata\.(aws_[a-z0-9_]+)\.([a-z_0-9]+)\b", code)):
        assert (rtype, name) in module.data, f"{directory.name}: data.{rtype}.{name} is not declared"
    for name in set(re.findall(r"\bmodule\.([a-z_0-9]+)\b", code)):
        assert name in module.modules, f"{directory.name}: module.{name} is not declared"


def test_example_outputs_use_root_outputs(root, examples):
    for name, module in examples.items():
        for out_name, out in module.outputs.items():
            for used in re.findall(r"module\.logpipe\.([a-z_]+)", str(out["value"])):
                assert used in root.outputs, f"{name}: output {out_name} reads missing module output {used}"
