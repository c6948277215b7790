# Infrastructure targets, included by the top Makefile (`-include mk/*.mk`),
# which defines VENV, PY, ARCH, LAMBDA_DIR, `venv` and `build`.
#
#   make plan   [EXAMPLE=self-managed|msk] [ARCH=arm64|x86_64]
#                   build the zips, terraform init + plan, saved to
#                   infra/examples/$(EXAMPLE)/logpipe.tfplan
#   make deploy [EXAMPLE=self-managed|msk]
#                   terraform apply of that saved plan, exactly as reviewed
#                   (no rebuild, no new plan); the plan file is removed after
#   make deploy-local [ARCH=arm64|x86_64]
#                   build the zips, tflocal init + apply against LocalStack
#                   (docker-compose.yml)
#   make destroy-local [ARCH=...]   tflocal destroy of the LocalStack deployment
#   make infra-test                 static checks of infra/ and docker-compose.yml
#
# ARCH (default arm64, from the top Makefile) decides both which zips
# `make build` writes (target/lambda/$(ARCH)) and what Terraform deploys:
# plan, deploy-local and destroy-local pass -var lambda_architecture and
# -var lambda_artifacts_dir from it.
#
# TF_ARGS passes extra arguments to plan (and to the LocalStack apply and
# destroy), e.g. TF_ARGS='-var region=eu-west-1'. Terraform takes no
# variables when it applies a saved plan, so `make deploy` takes none.

EXAMPLE ?= self-managed
TERRAFORM ?= terraform
TF_ARGS ?=
INFRA_EXAMPLE_DIR := infra/examples/$(EXAMPLE)
INFRA_LOCAL_DIR := infra/examples/localstack
TFLOCAL := $(CURDIR)/$(VENV)/bin/tflocal

# The saved plan, relative to the example directory (terraform runs there
# with -chdir), and the same file from the repository root.
PLAN_FILE := logpipe.tfplan
INFRA_PLAN := $(INFRA_EXAMPLE_DIR)/$(PLAN_FILE)

# The zips of ARCH as the example directories (three levels down) see them;
# the module resolves a relative lambda_artifacts_dir against the directory
# terraform runs in. An absolute LAMBDA_DIR is passed as it is.
INFRA_ARTIFACTS_DIR = $(if $(filter /%,$(LAMBDA_DIR)),$(LAMBDA_DIR),../../../$(LAMBDA_DIR))
TF_ARCH_VARS = -var 'lambda_architecture=$(ARCH)' -var 'lambda_artifacts_dir=$(INFRA_ARTIFACTS_DIR)'

# checkov pins packaging<24 (pytest 9 needs >=24) and ships its own `hcl2`
# module: it lives in a virtualenv of its own.
CHECKOV_VENV := .tools/checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov

.PHONY: plan deploy deploy-local destroy-local infra-test terraform-check infra-example-check

terraform-check:
	@command -v $(TERRAFORM) >/dev/null || { echo "terraform not found: install Terraform >= 1.6 or set TERRAFORM=/path/to/terraform" >&2; exit 2; }

infra-example-check:
	@test -f $(INFRA_EXAMPLE_DIR)/main.tf || { echo "no such example: $(INFRA_EXAMPLE_DIR) (EXAMPLE=self-managed or msk)" >&2; exit 2; }

plan: build terraform-check infra-example-check ## Build the ARCH zips, terraform init + plan of infra/examples/EXAMPLE, saved to its logpipe.tfplan
	$(TERRAFORM) -chdir=$(INFRA_EXAMPLE_DIR) init -input=false
	$(TERRAFORM) -chdir=$(INFRA_EXAMPLE_DIR) plan -input=false -out=$(PLAN_FILE) $(TF_ARCH_VARS) $(TF_ARGS)
	@echo "plan saved to $(INFRA_PLAN): review it, then apply exactly it with: make deploy EXAMPLE=$(EXAMPLE)"

deploy: terraform-check infra-example-check ## Apply the plan that make plan saved (infra/examples/EXAMPLE/logpipe.tfplan), then remove it
	@test -f $(INFRA_PLAN) || { echo "no saved plan $(INFRA_PLAN): run 'make plan EXAMPLE=$(EXAMPLE)' first, review it, then 'make deploy EXAMPLE=$(EXAMPLE)'" >&2; exit 2; }
	$(TERRAFORM) -chdir=$(INFRA_EXAMPLE_DIR) apply -input=false $(PLAN_FILE)
	rm -f $(INFRA_PLAN)

deploy-local: build venv terraform-check ## Build the ARCH zips, tflocal init + apply of infra/examples/localstack against LocalStack
	@curl -fs http://localhost:4566/_localstack/health >/dev/null || { echo "LocalStack is not answering on localhost:4566: run 'docker compose up -d' first" >&2; exit 2; }
	cd $(INFRA_LOCAL_DIR) && set -a && . $(CURDIR)/localstack/tflocal.env && set +a && \
		TF_CMD=$(TERRAFORM) $(TFLOCAL) init -input=false && \
		TF_CMD=$(TERRAFORM) $(TFLOCAL) apply -input=false -auto-approve $(TF_ARCH_VARS) $(TF_ARGS)

destroy-local: venv terraform-check ## tflocal destroy of the LocalStack deployment (same ARCH as deploy-local)
	cd $(INFRA_LOCAL_DIR) && set -a && . $(CURDIR)/localstack/tflocal.env && set +a && \
		TF_CMD=$(TERRAFORM) $(TFLOCAL) destroy -input=false -auto-approve $(TF_ARCH_VARS) $(TF_ARGS)

$(CHECKOV): tests/infra/requirements-checkov.txt
	python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet -r tests/infra/requirements-checkov.txt
	touch $@

infra-test: venv $(CHECKOV) ## Static checks of infra/ and docker-compose.yml: pytest, checkov, terraform fmt where installed
	$(PY) -m pytest tests/infra -q
	$(CHECKOV) --directory infra --framework terraform --skip-download --quiet --compact
	@if command -v $(TERRAFORM) >/dev/null 2>&1; then \
		$(TERRAFORM) fmt -check -recursive infra; \
	else \
		echo "terraform not installed: skipping terraform fmt -check"; \
	fi
