"""The make targets and pinned tools that drive infra/ (mk/infra.mk)."""

import re

import tfparse

REPO = tfparse.REPO
MAKEFILE = (REPO / "mk/infra.mk").read_text()


def recipe(target: str) -> tuple[list[str], str]:
    """Prerequisites and recipe text of a target in mk/infra.mk."""
    m = re.search(rf"^{re.escape(target)}:([^\n=]*)\n((?:\t[^\n]*\n?)*)", MAKEFILE, re.M)
    assert m, f"mk/infra.mk has no target {target}"
    return m.group(1).split(), m.group(2)


def test_plan_and_deploy_build_then_run_terraform_in_the_example():
    assert re.search(r"^EXAMPLE \?= self-managed$", MAKEFILE, re.M)
    for target, verb in (("plan", "plan"), ("deploy", "apply")):
        prereqs, body = recipe(target)
        assert prereqs[0] == "build", target
        assert "-chdir=$(INFRA_EXAMPLE_DIR) init" in body
        assert f"-chdir=$(INFRA_EXAMPLE_DIR) {verb}" in body
    assert "INFRA_EXAMPLE_DIR := infra/examples/$(EXAMPLE)" in MAKEFILE


def test_deploy_local_uses_tflocal_against_localstack():
    prereqs, body = recipe("deploy-local")
    assert prereqs[0] == "build" and "venv" in prereqs
    assert "$(INFRA_LOCAL_DIR)" in body and "$(TFLOCAL) init" in body and "$(TFLOCAL) apply" in body
    assert "localstack/tflocal.env" in body
    assert "INFRA_LOCAL_DIR := infra/examples/localstack" in MAKEFILE


def test_infra_test_runs_pytest_then_checkov():
    prereqs, body = recipe("infra-test")
    assert "venv" in prereqs
    lines = [line.strip() for line in body.splitlines()]
    assert lines[0] == "$(PY) -m pytest tests/infra -q"
    assert lines[1].startswith("$(CHECKOV) --directory infra")


def test_python_tools_are_pinned_without_hcl2_clash():
    dev = (REPO / "requirements-dev.txt").read_text()
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$", dev, re.M))
    for package in ("python-hcl2", "PyYAML", "terraform-local", "pytest", "cargo-lambda"):
        assert package in pins, f"requirements-dev.txt must pin {package}"
    assert "checkov" not in pins and "bc-python-hcl2" not in pins, "checkov lives in its own virtualenv"
    checkov = (REPO / "tests/infra/requirements-checkov.txt").read_text()
    assert re.search(r"^checkov==\S+$", checkov, re.M)


def test_every_root_variable_is_documented(root):
    doc = (REPO / "docs/infra.md").read_text()
    missing = [name for name in root.variables if f"`{name}`" not in doc]
    assert not missing, f"docs/infra.md does not mention {missing}"
