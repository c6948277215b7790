# Real servers, included by the top Makefile (`-include mk/*.mk`), which
# defines CARGO.
#
#   make servers           install both (the jars, once, from Maven Central)
#   make kafka-install     Apache Kafka (servers/kafka/pom.xml) into .tools/servers/kafka/lib
#   make cassandra-install Apache Cassandra (servers/cassandra/pom.xml) into .tools/servers/cassandra/lib
#   make kafka-up          one KRaft broker on KAFKA_LISTEN's port until Ctrl-C
#   make cassandra-up      one Cassandra node on CQL_LISTEN's port until Ctrl-C
#
# Java 17 and Maven must be on PATH (`.ci/run` installs them with apt when
# missing). Maven keeps its download cache in ~/.m2, so a reinstall, or a
# fresh clone on the same machine, copies the jars without downloading.
# The tests start the servers themselves (testkit/); `make test` starts
# one of each for the whole run with `logpipe-servers run`.

SERVERS_DIR := .tools/servers
MVN ?= mvn
SERVERS_BIN := target/debug/logpipe-servers

.PHONY: servers kafka-install cassandra-install kafka-up cassandra-up servers-bin java-check

java-check:
	@command -v java >/dev/null || { echo "java not found: install a Java 17 runtime (apt-get install openjdk-17-jre-headless)" >&2; exit 2; }
	@command -v $(MVN) >/dev/null || { echo "mvn not found: install Maven (apt-get install maven)" >&2; exit 2; }

# One stamp a server: rebuilt when its pom changes (a version bump).
$(SERVERS_DIR)/%/.installed: servers/%/pom.xml | java-check
	@echo "$*: copying the jars of servers/$*/pom.xml into $(SERVERS_DIR)/$*/lib"
	@rm -rf $(SERVERS_DIR)/$*/lib
	@start=$$(date +%s); \
		$(MVN) -q -B -f servers/$*/pom.xml dependency:copy-dependencies \
			-DoutputDirectory=$(CURDIR)/$(SERVERS_DIR)/$*/lib && \
		echo "$*: $$(ls $(SERVERS_DIR)/$*/lib | wc -l) jars in $$(( $$(date +%s) - start )) s"
	@touch $@

kafka-install: $(SERVERS_DIR)/kafka/.installed ## Install Apache Kafka (jars from Maven Central) into .tools/servers/kafka

cassandra-install: $(SERVERS_DIR)/cassandra/.installed ## Install Apache Cassandra (jars from Maven Central) into .tools/servers/cassandra

servers: kafka-install cassandra-install ## Install the real Kafka and Cassandra the tests run against

servers-bin:
	$(CARGO) build -p logpipe-testkit --bin logpipe-servers

kafka-up: kafka-install servers-bin ## Run a real Kafka broker (KRaft) on KAFKA_LISTEN's port until Ctrl-C; data in target/servers/kafka
	$(SERVERS_BIN) up kafka --port $(lastword $(subst :, ,$(KAFKA_LISTEN)))

cassandra-up: cassandra-install servers-bin ## Run a real Cassandra node on CQL_LISTEN's port until Ctrl-C; data in target/servers/cassandra
	$(SERVERS_BIN) up cassandra --port $(lastword $(subst :, ,$(CQL_LISTEN)))
