"""The make targets and pinned tools that drive infra/ (mk/infra.mk)."""

import os
import re
import shutil
import subprocess

import pytest

import tfparse

REPO = tfparse.REPO
MAKEFILE = (REPO / "mk/infra.mk").read_text()


def recipe(target: str) -> tuple[list[str], str]:
    """Prerequisites and recipe text of a target in mk/infra.mk (its `## ` help text dropped)."""
    m = re.search(rf"^{re.escape(target)}:([^\n]*)\n((?:\t[^\n]*\n?)*)", MAKEFILE, re.M)
    assert m, f"mk/infra.mk has no target {target}"
    prereqs = m.group(1).split("## ")[0]
    assert "=" not in prereqs, f"{target}: a variable assignment, not a rule"
    return prereqs.split(), m.group(2)


def run_make(*args: str) -> str:
    """Run make in the repository root, free of an outer make's flags (make infra-test runs pytest)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    run = subprocess.run(["make", "--no-print-directory", *args], cwd=REPO, capture_output=True, text=True,
                         timeout=120, env=env)
    assert run.returncode == 0, run.stderr
    return run.stdout


def make_dry_run(*args: str) -> str:
    """The commands `make -n` would run (none is executed)."""
    return run_make("-n", *args)


needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")


def test_plan_saves_a_plan_file_in_the_example():
    assert re.search(r"^EXAMPLE \?= self-managed$", MAKEFILE, re.M)
    assert "INFRA_EXAMPLE_DIR := infra/examples/$(EXAMPLE)" in MAKEFILE
    assert re.search(r"^PLAN_FILE := logpipe\.tfplan$", MAKEFILE, re.M)
    assert "INFRA_PLAN := $(INFRA_EXAMPLE_DIR)/$(PLAN_FILE)" in MAKEFILE
    prereqs, body = recipe("plan")
    assert prereqs[0] == "build"
    assert "-chdir=$(INFRA_EXAMPLE_DIR) init -input=false" in body
    assert "-chdir=$(INFRA_EXAMPLE_DIR) plan -input=false -out=$(PLAN_FILE) $(TF_ARCH_VARS) $(TF_ARGS)" in body


def test_deploy_applies_exactly_the_saved_plan():
    prereqs, body = recipe("deploy")
    # No rebuild and no new plan between the review and the apply.
    assert "build" not in prereqs and "plan" not in prereqs
    lines = [line.strip() for line in body.splitlines()]
    assert any(line.startswith("@test -f $(INFRA_PLAN)") for line in lines), "deploy must refuse without a plan"
    (apply,) = [line for line in lines if " apply " in line]
    assert apply == "$(TERRAFORM) -chdir=$(INFRA_EXAMPLE_DIR) apply -input=false $(PLAN_FILE)"
    assert lines[-1] == "rm -f $(INFRA_PLAN)"


def test_every_apply_is_non_interactive():
    # Terraform refuses `apply -input=false` that neither names a saved plan
    # nor is auto-approved.
    for line in MAKEFILE.splitlines():
        if re.search(r"\b(apply|destroy)\b", line) and ("$(TERRAFORM)" in line or "$(TFLOCAL)" in line):
            assert "$(PLAN_FILE)" in line or "-auto-approve" in line, line


def test_help_comments_on_the_infra_targets():
    for target in ("plan", "deploy", "deploy-local", "destroy-local", "infra-test"):
        assert re.search(rf"^{re.escape(target)}:.*## \S", MAKEFILE, re.M), f"{target} has no ## help text"


@needs_make
def test_make_help_lists_the_infra_targets():
    listed = {line.split()[0] for line in run_make("-s", "help").splitlines() if line.strip()}
    for target in ("plan", "deploy", "deploy-local", "destroy-local", "infra-test"):
        assert target in listed, f"make help does not list {target}"


def test_arch_decides_the_zips_and_the_terraform_variables():
    assert "TF_ARCH_VARS = -var 'lambda_architecture=$(ARCH)' -var 'lambda_artifacts_dir=$(INFRA_ARTIFACTS_DIR)'" \
        in MAKEFILE
    assert "$(LAMBDA_DIR)" in re.search(r"^INFRA_ARTIFACTS_DIR = (.*)$", MAKEFILE, re.M).group(1)
    for target in ("plan", "deploy-local", "destroy-local"):
        assert "$(TF_ARCH_VARS)" in recipe(target)[1], target


@needs_make
@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_deploy_local_builds_and_deploys_one_arch(arch):
    out = make_dry_run("deploy-local", f"ARCH={arch}")
    build = [line for line in out.splitlines() if "lambda build" in line]
    assert build, out
    flag = "--x86-64" if arch == "x86_64" else "--arm64"
    assert flag in build[0] and f"--lambda-dir target/lambda/{arch}" in build[0], build[0]
    (apply,) = [line for line in out.splitlines() if "tflocal apply" in line or "/tflocal apply" in line]
    assert f"-var 'lambda_architecture={arch}'" in apply, apply
    m = re.search(r"-var 'lambda_artifacts_dir=([^']+)'", apply)
    assert m, apply
    # Resolved against the example directory, as the module does (path.root).
    resolved = os.path.normpath(REPO / "infra/examples/localstack" / m.group(1))
    assert resolved == str(REPO / "target" / "lambda" / arch), resolved


@needs_make
def test_plan_passes_arch_to_terraform():
    out = make_dry_run("plan", "ARCH=x86_64", "EXAMPLE=msk")
    (plan,) = [line for line in out.splitlines() if " plan " in line and "-chdir=infra/examples/msk" in line]
    assert "-out=logpipe.tfplan" in plan
    assert "-var 'lambda_architecture=x86_64'" in plan
    m = re.search(r"-var 'lambda_artifacts_dir=([^']+)'", plan)
    assert os.path.normpath(REPO / "infra/examples/msk" / m.group(1)) == str(REPO / "target/lambda/x86_64")
    deploy = make_dry_run("deploy", "EXAMPLE=msk")
    assert "terraform -chdir=infra/examples/msk apply -input=false logpipe.tfplan" in deploy
    assert "lambda build" not in deploy


def test_deploy_local_uses_tflocal_against_localstack():
    prereqs, body = recipe("deploy-local")
    assert prereqs[0] == "build" and "venv" in prereqs
    assert "$(INFRA_LOCAL_DIR)" in body and "$(TFLOCAL) init" in body and "$(TFLOCAL) apply" in body
    assert "localstack/tflocal.env" in body
    assert "INFRA_LOCAL_DIR := infra/examples/localstack" in MAKEFILE


def test_terraform_working_files_are_ignored():
    ignore = (REPO / "infra/.gitignore").read_text().split()
    for pattern in ("*.tfplan", ".terraform/", "*.tfstate", "*.tfstate.*"):
        assert pattern in ignore, pattern


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
