# logpipe: build, test, run and deploy the pipeline.
#
#   make demo     the whole pipeline on embedded Kafka and CQL, with a reconciled table
#   make test     install what is missing, then fmt, clippy and every test
#   make help     every target
#
# Tools are installed into the project: Python tools into .venv (from
# requirements-dev.txt), checkov into .tools/checkov, the real Kafka and
# Cassandra into .tools/servers (mk/servers.mk). A second run reuses them.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
CARGO ?= cargo
CARGO_LAMBDA := $(CURDIR)/$(VENV)/bin/cargo-lambda
FUNCTIONS := auth-logs session-logs activity-logs
ARCH ?= arm64
LAMBDA_DIR = target/lambda/$(ARCH)
ARCH_FLAG = $(if $(filter x86_64,$(ARCH)),--x86-64,--arm64)
CQL_LISTEN ?= 127.0.0.1:9042
WATCH_PORT ?= 9000
EVENTS ?= fixtures/events/msk_all_topics.json fixtures/events/msk_auth_mixed.json fixtures/events/self_managed_session_mixed.json fixtures/events/self_managed_activity_mixed.json
LOGPIPE := target/release/logpipe

.DEFAULT_GOAL := help
.PHONY: help venv build build-x86_64 logpipe demo test check fmt fmt-check clippy cargo-test \
	watch cassandra replay fixtures golden up down clean bench

help: ## List the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | sort | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  %-16s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed ## Install the Python tools (cargo-lambda, pytest, hcl2, tflocal) into .venv

build: venv ## Build the three functions as Lambda zips for ARCH (arm64, or x86_64) in target/lambda/ARCH/<function>/bootstrap.zip
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(CARGO_LAMBDA) lambda build --profile lambda $(ARCH_FLAG) --output-format zip --lambda-dir $(LAMBDA_DIR) \
		$(addprefix -p ,$(FUNCTIONS))
	@for f in $(FUNCTIONS); do ls -l $(LAMBDA_DIR)/$$f/bootstrap.zip; done

build-x86_64: ## Build x86_64 zips in target/lambda/x86_64/ (for x86_64 Lambda or LocalStack)
	$(MAKE) build ARCH=x86_64

logpipe: ## Build the logpipe CLI (release)
	$(CARGO) build --release -p logpipe

demo: logpipe ## The whole pipeline, no set-up: embedded Kafka and CQL, 100,000 generated logs a topic through the three functions; prints the table (DEMO_ARGS adds flags)
	$(LOGPIPE) demo $(DEMO_ARGS)

test: venv servers fmt-check clippy deny cargo-test infra-test fuzz-smoke load ## Install what is missing, then fmt, clippy and every test
	@echo "make test: all checks passed"

fmt: ## Format the code
	$(CARGO) fmt --all

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# One real Cassandra and one real Kafka for the whole run (testkit's
# logpipe-servers), passed to the tests in LOGPIPE_TEST_CASSANDRA and
# LOGPIPE_TEST_KAFKA; tests that kill a server start their own.
cargo-test: venv servers
	$(CARGO) build --workspace
	$(SERVERS_BIN) run -- $(CARGO) test --workspace --no-fail-fast

bench: servers ## Benchmarks: criterion micro-benchmarks, then every figure against its baseline in one run, embedded and real servers (docs/benchmarks.md)
	$(CARGO) bench -p logpipe-bench --bench hot_path
	$(CARGO) build --release -p logpipe -p log-generator -p auth-logs -p session-logs -p activity-logs -p logpipe-bench
	@mkdir -p target/bench
	set -o pipefail; $(CARGO) run --release -p logpipe-bench --bin bench-report -- --out target/bench $(BENCH_ARGS) | tee target/bench/report.md
	@echo "report: target/bench/report.md (copy the tables into docs/benchmarks.md)"

cassandra: ## Run an embedded CQL node with the schema on CQL_LISTEN (default 127.0.0.1:9042)
	$(CARGO) run --release -p logpipe -- cassandra --listen $(CQL_LISTEN)

watch: venv ## Serve the functions with cargo lambda watch on WATCH_PORT, storing into a node on CQL_LISTEN
	@$(CARGO) build --release -p logpipe
	@$(LOGPIPE) cassandra --listen $(CQL_LISTEN) & node=$$!; trap "kill $$node" EXIT; \
		PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(CARGO_LAMBDA) lambda watch -A 127.0.0.1 -P $(WATCH_PORT) \
			--env-var LOGPIPE_CASSANDRA_CONTACT_POINTS=$(CQL_LISTEN)

replay: logpipe ## Replay EVENTS (event files) into an embedded CQL node and dump the tables to out/replay
	$(LOGPIPE) replay --dump out/replay $(EVENTS)

fixtures: ## Rebuild data/sample_logs and fixtures/events from scripts/build_fixtures.py
	python3 scripts/build_fixtures.py

golden: logpipe servers-bin cassandra-install ## Refresh fixtures/golden from the fixture events, replayed into a real Cassandra node (review the diff!)
	$(SERVERS_BIN) run --only cassandra -- sh -c 'for f in fixtures/events/*_*.json; do \
		n=$$(basename $$f .json); rm -rf fixtures/golden/$$n; \
		$(LOGPIPE) replay --cassandra $$LOGPIPE_TEST_CASSANDRA --keyspace golden_$$n --apply-schema \
			--dump fixtures/golden/$$n $$f >/dev/null || exit 1; \
	done'
	git diff --stat fixtures/golden

up: ## Start Kafka, ScyllaDB and LocalStack with docker compose
	docker compose up -d

down: ## Stop the docker compose stack
	docker compose down

clean: ## Remove build outputs and the installed tools
	$(CARGO) clean
	rm -rf $(VENV) .tools out

-include mk/*.mk
