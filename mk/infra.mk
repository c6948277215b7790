# Infrastructure targets, included by the top Makefile (`-include mk/*.mk`),
# which defines VENV, PY, `venv` and `build`.
#
#   make plan   [EXAMPLE=self-managed|msk]  build the zips, terraform init + plan
#   make deploy [EXAMPLE=self-managed|msk]  build the zips, terraform init + apply
#   make deploy-local                       build the zips, tflocal init + apply
#                                           against LocalStack (docker-compose.yml)
#   make destroy-local                      tflocal destroy of the LocalStack deployment
#   make infra-test                         static checks of infra/ and docker-compose.yml
#
# TF_ARGS passes extra arguments to plan/apply, e.g. TF_ARGS='-var region=eu-west-1'.

EXAMPLE ?= self-managed
TERRAFORM ?= terraform
TF_ARGS ?=
INFRA_EXAMPLE_DIR := infra/examples/$(EXAMPLE)
INFRA_LOCAL_DIR := infra/examples/localstack
TFLOCAL := $(CURDIR)/$(VENV)/bin/tflocal

# checkov pins packaging<24 (pytest 9 needs >=24) and ships its own `hcl2`
# module: it lives in a virtualenv of its own.
CHECKOV_VENV := .tools/checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov

.PHONY: plan deploy deploy-local destroy-local infra-test terraform-check infra-example-check

terraform-check:
	@command -v $(TERRAFORM) >/dev/null || { echo "terraform not found: install Terraform >= 1.6 or set TERRAFORM=/path/to/terraform" >&2; exit 2; }

infra-example-check:
	@test -f $(INFRA_EXAMPLE_DIR)/main.tf || { echo "no such example: $(INFRA_EXAMPLE_DIR) (EXAMPLE=self-managed or msk)" >&2; exit 2; }

plan: build terraform-check infra-example-check
	$(TERRAFORM) -chdir=$(INFRA_EXAMPLE_DIR) init -input=false
	$(TERRAFORM) -chdir=$(INFRA_EXAMPLE_DIR) plan -input=false $(TF_ARGS)

deploy: build terraform-check infra-example-check
	$(TERRAFORM) -chdir=$(INFRA_EXAMPLE_DIR) init -input=false
	$(TERRAFORM) -chdir=$(INFRA_EXAMPLE_DIR) apply -input=false $(TF_ARGS)

deploy-local: build venv terraform-check
	@curl -fs http://localhost:4566/_localstack/health >/dev/null || { echo "LocalStack is not answering on localhost:4566: run 'docker compose up -d' first" >&2; exit 2; }
	cd $(INFRA_LOCAL_DIR) && set -a && . $(CURDIR)/localstack/tflocal.env && set +a && \
		TF_CMD=$(TERRAFORM) $(TFLOCAL) init -input=false && \
		TF_CMD=$(TERRAFORM) $(TFLOCAL) apply -input=false -auto-approve $(TF_ARGS)

destroy-local: venv terraform-check
	cd $(INFRA_LOCAL_DIR) && set -a && . $(CURDIR)/localstack/tflocal.env && set +a && \
		TF_CMD=$(TERRAFORM) $(TFLOCAL) destroy -input=false -auto-approve $(TF_ARGS)

$(CHECKOV): tests/infra/requirements-checkov.txt
	python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet -r tests/infra/requirements-checkov.txt
	touch $@

infra-test: venv $(CHECKOV)
	$(PY) -m pytest tests/infra -q
	$(CHECKOV) --directory infra --framework terraform --skip-download --quiet --compact
	@if command -v $(TERRAFORM) >/dev/null 2>&1; then \
		$(TERRAFORM) fmt -check -recursive infra; \
	else \
		echo "terraform not installed: skipping terraform fmt -check"; \
	fi
