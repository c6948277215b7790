# Kafka targets, included by the top Makefile (`-include mk/*.mk`), which
# defines CARGO, LOGPIPE and `logpipe`. The real Apache Kafka the tests and
# `make load` run against is installed by `make servers` and run by
# `make kafka-up` (mk/servers.mk).
#
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

.PHONY: kafka esm generate

kafka: logpipe ## Run an embedded Kafka broker (three topics) on KAFKA_LISTEN until Ctrl-C
	$(LOGPIPE) kafka --listen $(KAFKA_LISTEN)

esm: logpipe ## Run the local event source mapping: KAFKA_LISTEN → functions → CQL_LISTEN
	$(LOGPIPE) esm --bootstrap $(KAFKA_LISTEN) --cassandra $(CQL_LISTEN) $(ESM_ARGS)

generate: logpipe ## Produce GENERATE_COUNT generated logs a topic to KAFKA_LISTEN
	$(LOGPIPE) generate --bootstrap $(KAFKA_LISTEN) --count $(GENERATE_COUNT) $(GENERATE_ARGS)
