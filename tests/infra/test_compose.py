"""Static checks of docker-compose.yml and the LocalStack init hooks.

No Docker engine is needed: the file is read as YAML and checked for the
services, ports, healthchecks and one-shot init jobs that make
`docker compose up` bring a ready stack, and against the Terraform and the
schema it has to agree with.
"""

import os
import re
import subprocess

import pytest
import yaml

import tfparse

REPO = tfparse.REPO
TOPICS = ["user_auth_logs", "user_session_logs", "user_activity_logs"]
LOCALSTACK_SERVICES = {"lambda", "iam", "secretsmanager", "logs", "cloudwatch"}


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(tfparse.COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose):
    return compose["services"]


def env(service: dict) -> dict:
    e = service.get("environment", {})
    if isinstance(e, list):
        e = dict(item.split("=", 1) for item in e)
    return {k: str(v) for k, v in e.items()}


def default_of(text: str) -> str:
    """Resolve ${VAR:-default} the way compose does when VAR is unset."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", text)


def published(service: dict) -> dict[int, int]:
    """host port -> container port, with ${VAR:-default} resolved."""
    ports = {}
    for p in service.get("ports", []):
        parts = default_of(str(p)).split(":")
        ports[int(parts[-2])] = int(parts[-1].split("/")[0])
    return ports


def mounts(service: dict) -> dict[str, tuple[str, str]]:
    """container path -> (host path, mode)."""
    out = {}
    for v in service.get("volumes", []):
        parts = v.split(":")
        host, container = parts[0], parts[1]
        mode = parts[2] if len(parts) > 2 else "rw"
        out[container] = (host, mode)
    return out


def depends(service: dict) -> dict[str, str]:
    d = service.get("depends_on", {})
    assert isinstance(d, dict), "depends_on must use the long form with conditions"
    return {name: spec.get("condition") for name, spec in d.items()}


def command_text(service: dict) -> str:
    cmd = service.get("command", "")
    return " ".join(cmd) if isinstance(cmd, list) else str(cmd)


def test_expected_services(services):
    assert {"kafka", "kafka-init", "scylla", "scylla-schema", "cassandra", "cassandra-schema", "localstack"} <= set(services)
    assert not any("zookeeper" in name or "zookeeper" in str(s.get("image", "")) for name, s in services.items())


def test_images_are_pinned(services):
    for name, service in services.items():
        image = service["image"]
        assert ":" in image and not image.endswith(":latest"), f"{name}: pin {image}"


def test_kafka_runs_kraft_on_9092(services):
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    e = env(kafka)
    assert set(e["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert e["KAFKA_CONTROLLER_QUORUM_VOTERS"].startswith(f"{e['KAFKA_NODE_ID']}@kafka:")
    assert published(kafka) == {9092: 9092}
    advertised = e["KAFKA_ADVERTISED_LISTENERS"].split(",")
    assert any(a.endswith("://localhost:9092") for a in advertised), "host clients need localhost:9092"
    assert any(a.endswith("://kafka:19092") for a in advertised), "containers need kafka:19092"
    assert e["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert default_of(e["KAFKA_NUM_PARTITIONS"]) == "3"


def test_cql_ports(services):
    assert published(services["scylla"]) == {9042: 9042}
    assert published(services["cassandra"]) == {9043: 9042}
    assert services["cassandra"]["profiles"] == ["cassandra"]
    assert services["cassandra-schema"]["profiles"] == ["cassandra"]
    assert "profiles" not in services["scylla"]


def test_localstack_free_services_on_4566(services):
    ls = services["localstack"]
    assert ls["image"].startswith("localstack/localstack:")
    assert published(ls) == {4566: 4566}
    e = env(ls)
    assert LOCALSTACK_SERVICES <= set(e["SERVICES"].split(","))
    m = mounts(ls)
    assert m["/var/run/docker.sock"][0] == "/var/run/docker.sock", "Lambda needs the Docker socket"
    host, mode = m["/etc/localstack/init/ready.d"]
    assert mode == "ro" and (REPO / host).resolve() == (REPO / "localstack/init/ready.d").resolve()


def test_lambda_containers_join_the_compose_network(compose, services):
    network = compose["networks"]["default"]["name"]
    assert env(services["localstack"])["LAMBDA_DOCKER_NETWORK"] == network


@pytest.mark.parametrize("name", ["kafka", "scylla", "cassandra", "localstack"])
def test_long_running_services_have_healthchecks(services, name):
    hc = services[name]["healthcheck"]
    assert hc["test"][0] in ("CMD", "CMD-SHELL") and len(hc["test"]) > 1
    for key in ("interval", "timeout", "retries"):
        assert key in hc, f"{name}: healthcheck {key}"


def test_topic_init_job(services):
    job = services["kafka-init"]
    assert depends(job) == {"kafka": "service_healthy"}
    assert job["restart"] == "no"
    e = env(job)
    assert e["LOGPIPE_TOPICS"].split() == TOPICS
    assert default_of(e["KAFKA_TOPIC_PARTITIONS"]) == "3"
    script = command_text(job)
    assert "kafka-topics.sh" in script and "--create" in script and "--if-not-exists" in script
    assert "$$LOGPIPE_TOPICS" in script and "$$KAFKA_TOPIC_PARTITIONS" in script
    assert "--bootstrap-server kafka:19092" in script


def test_compose_topics_are_the_terraform_topics(services, root):
    assert env(services["kafka-init"])["LOGPIPE_TOPICS"].split() == list(root.variables["topic_functions"]["default"])


@pytest.mark.parametrize("job,server", [("scylla-schema", "scylla"), ("cassandra-schema", "cassandra")])
def test_schema_init_jobs(services, job, server):
    service = services[job]
    assert depends(service) == {server: "service_healthy"}
    assert service["restart"] == "no"
    host, mode = mounts(service)["/schema/schema.cql"]
    assert mode == "ro"
    assert (REPO / host).resolve() == tfparse.SCHEMA_CQL.resolve()
    assert tfparse.SCHEMA_CQL.is_file(), "cassandra/schema.cql is mounted but missing"
    assert service["entrypoint"] == ["cqlsh"]
    args = service["command"]
    assert args[:2] == [server, "9042"] and args[-2:] == ["-f", "/schema/schema.cql"]
    assert service["image"] == services[server]["image"], "cqlsh of the same release as the server"


def test_no_unescaped_dollar_in_commands(services):
    """Compose interpolates $VAR itself; shell variables need $$."""
    for name, service in services.items():
        text = command_text(service).replace("$$", "")
        assert not re.search(r"\$(?!\{[A-Z_]+(:-[^}]*)?\})", text), f"{name}: unescaped $ in command"


def test_every_host_path_exists(services):
    for name, service in services.items():
        for container, (host, _) in mounts(service).items():
            if host.startswith("./"):
                assert (REPO / host).exists(), f"{name}: {host} does not exist"


# ---------------------------------------------------------------------------
# LocalStack init hooks and tflocal settings
# ---------------------------------------------------------------------------

HOOKS = sorted((REPO / "localstack/init/ready.d").glob("*.sh"))


def test_init_hooks_exist():
    assert HOOKS, "no LocalStack ready hooks"


@pytest.mark.parametrize("hook", HOOKS, ids=lambda p: p.name)
def test_init_hooks_are_executable_posix_sh(hook):
    assert os.access(hook, os.X_OK), f"{hook.name} is not executable"
    assert hook.read_text().startswith("#!/bin/sh\n")
    subprocess.run(["sh", "-n", str(hook)], check=True)


def test_credentials_secret_hook_matches_the_localstack_example(examples):
    hook = (REPO / "localstack/init/ready.d/10-cassandra-credentials.sh").read_text()
    default_name = examples["localstack"].variables["cassandra_credentials_secret_name"]["default"]
    assert f"LOGPIPE_CASSANDRA_SECRET_NAME:-{default_name}" in hook
    assert "create-secret" in hook and '\\"username\\"' in hook and '\\"password\\"' in hook


def test_localstack_example_reaches_compose_services(services, examples):
    variables = examples["localstack"].variables
    for contact_point in variables["cassandra_contact_points"]["default"]:
        host, port = contact_point.split(":")
        assert host in services and services[host].get("hostname") == host and port == "9042"
    kafka_env = env(services["kafka"])
    for broker in variables["kafka_bootstrap_servers"]["default"]:
        assert broker in kafka_env["KAFKA_ADVERTISED_LISTENERS"]


def test_tflocal_points_at_the_published_edge_port(services):
    settings = dict(
        line.split("=", 1)
        for line in (REPO / "localstack/tflocal.env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    port = int(settings["AWS_ENDPOINT_URL"].rsplit(":", 1)[1])
    assert port in published(services["localstack"])
