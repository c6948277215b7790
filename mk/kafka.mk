# Kafka targets, included by the top Makefile (`-include mk/*.mk`), which
# defines CARGO, LOGPIPE and `logpipe`.
#
#   make tansu      install the tansu broker (a real Kafka-protocol server) into
#                   ~/.cargo/bin unless it is there; the tansu tests need it
#   make kafka      run an embedded Kafka broker with the three topics on KAFKA_LISTEN
#   make esm        run the local event source mapping against KAFKA_LISTEN,
#                   storing into the CQL node on CQL_LISTEN (`make cassandra`)
#   make generate   produce GENERATE_COUNT logs a topic to KAFKA_LISTEN
#
# GENERATE_ARGS, ESM_ARGS and DEMO_ARGS (used by the top Makefile's `demo`) pass extra
# flags, e.g. ESM_ARGS='--starting-position TRIM_HORIZON', DEMO_ARGS='--records 10000'.

KAFKA_LISTEN ?= 127.0.0.1:9092
GENERATE_COUNT ?= 100000
GENERATE_ARGS ?= --invalid-ratio 0.01
DEMO_ARGS ?=
ESM_ARGS ?=
TANSU_VERSION ?=
TANSU_TARGET_DIR ?= /tmp/tansu-target

.PHONY: tansu kafka esm generate

tansu: ## Install the tansu Kafka broker into ~/.cargo/bin when missing (about 12 min to build)
	@if command -v tansu >/dev/null 2>&1 || test -x $(HOME)/.cargo/bin/tansu; then \
		echo "tansu: installed ($$(command -v tansu || echo $(HOME)/.cargo/bin/tansu))"; \
	else \
		echo "tansu: building it (cargo install tansu --locked --features dynostore), about 12 minutes on 2 cores"; \
		$(CARGO) install tansu --locked --features dynostore --target-dir $(TANSU_TARGET_DIR) \
			$(if $(TANSU_VERSION),--version $(TANSU_VERSION)); \
	fi

kafka: logpipe ## Run an embedded Kafka broker (three topics) on KAFKA_LISTEN until Ctrl-C
	$(LOGPIPE) kafka --listen $(KAFKA_LISTEN)

esm: logpipe ## Run the local event source mapping: KAFKA_LISTEN → functions → CQL_LISTEN
	$(LOGPIPE) esm --bootstrap $(KAFKA_LISTEN) --cassandra $(CQL_LISTEN) $(ESM_ARGS)

generate: logpipe ## Produce GENERATE_COUNT generated logs a topic to KAFKA_LISTEN
	$(LOGPIPE) generate --bootstrap $(KAFKA_LISTEN) --count $(GENERATE_COUNT) $(GENERATE_ARGS)
