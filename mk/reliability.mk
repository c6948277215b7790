# Reliability targets, included by the top Makefile (`-include mk/*.mk`),
# which defines CARGO, LOGPIPE and `logpipe`; servers.mk defines `servers`
# and `servers-bin`.
#
#   make deny         cargo deny check licenses bans (deny.toml); installs
#                     cargo-deny into ~/.cargo/bin when missing
#   make fuzz         each fuzz target (fuzz/) for FUZZ_TIME seconds
#   make fuzz-smoke   each fuzz target for FUZZ_SMOKE_TIME seconds (CI)
#   make load         LOAD_RECORDS logs a topic (1,000,002 in all) through a
#                     real Apache Kafka, the event source mapping and a real
#                     Apache Cassandra (both started by scripts/load.py with
#                     logpipe-servers); fails unless every record is
#                     accounted for and the pipeline's peak RSS stays under
#                     LOAD_MAX_RSS_MB
#
# Tools are installed with `cargo install --locked` into ~/.cargo/bin, once.

CARGO_BIN ?= $(HOME)/.cargo/bin
CARGO_DENY := $(CARGO_BIN)/cargo-deny
CARGO_FUZZ := $(CARGO_BIN)/cargo-fuzz
FUZZ_TIME ?= 300
FUZZ_SMOKE_TIME ?= 30
FUZZ_TARGETS := event record_value
# libFuzzer limits: an input that makes the pipeline allocate more than
# this is a finding (the default is 2048), as is one that takes this long.
FUZZ_RSS_LIMIT_MB ?= 2048
FUZZ_INPUT_TIMEOUT ?= 10
LOAD_RECORDS ?= 333334
# Peak RSS allowed to the pipeline process (generator, three mappings and
# the functions; Kafka and Cassandra are JVMs of their own, measured but
# not counted). Measured against Apache Kafka: 247 MiB at 100,002 records
# and 1,321-1,459 MiB at 1,000,002 (three runs), most of it the
# generator's producer queue (831 MiB alone: the broker acknowledges more
# slowly than the generator makes records; the queue is bounded at
# 2,000,000 messages or 2 GiB) and librdkafka's consumer prefetch
# (472 MiB for the three mappings alone: 64 MiB queues and up to 50 MiB
# fetches a consumer):
# bounded by configuration, filled further by a larger backlog
# (docs/reliability.md). 2 GiB leaves 40% over the highest measured peak
# (1.5 GiB, the bound against the earlier in-memory broker, left 5%) and
# fails a run that grows well past it.
LOAD_MAX_RSS_MB ?= 2048
LOAD_DIR := target/load

.PHONY: deny fuzz fuzz-smoke fuzz-build load

$(CARGO_DENY):
	$(CARGO) install --locked cargo-deny

$(CARGO_FUZZ):
	$(CARGO) install --locked cargo-fuzz

deny: $(CARGO_DENY) ## cargo deny check licenses bans (installs cargo-deny when missing)
	$(CARGO_DENY) check licenses bans

# cargo-fuzz builds with the stable toolchain when no sanitizer is asked
# for (`-s none`): only sanitizers need nightly's -Z flags. Coverage
# instrumentation (sancov) and `--cfg fuzzing` are stable rustc options.
FUZZ_BUILD = cd fuzz && $(CARGO_FUZZ) build -s none --release

fuzz-build: $(CARGO_FUZZ)
	$(FUZZ_BUILD)

# One run a target: the corpus in fuzz/corpus/<target> (kept between runs,
# not committed), seeded from fixtures/events or fuzz/seeds/<target>; the
# whole libFuzzer log in fuzz/artifacts/<target>.log, its figures printed.
define fuzz_run
	@mkdir -p fuzz/artifacts
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p fuzz/corpus/$$t fuzz/artifacts/$$t; \
		seeds=$$(if [ $$t = event ]; then echo ../fixtures/events; else echo seeds/$$t; fi); \
		echo "fuzz: $$t for $(1) s"; \
		if ( cd fuzz && $(CARGO_FUZZ) run -s none --release $$t corpus/$$t $$seeds -- \
			-max_total_time=$(1) -rss_limit_mb=$(FUZZ_RSS_LIMIT_MB) \
			-timeout=$(FUZZ_INPUT_TIMEOUT) -print_final_stats=1 ) > fuzz/artifacts/$$t.log 2>&1; then \
			grep -E '^stat::(number_of_executed_units|peak_rss_mb)|^#[0-9]+ +DONE' fuzz/artifacts/$$t.log; \
		else \
			tail -n 40 fuzz/artifacts/$$t.log; \
			echo "fuzz: $$t failed; the input is in fuzz/artifacts/$$t/, the log in fuzz/artifacts/$$t.log" >&2; \
			exit 1; \
		fi; \
	done
endef

fuzz: fuzz-build ## Fuzz each target for FUZZ_TIME seconds (default 300); findings land in fuzz/artifacts/
	$(call fuzz_run,$(FUZZ_TIME))

fuzz-smoke: fuzz-build ## Fuzz each target for FUZZ_SMOKE_TIME seconds (default 30): the CI run
	$(call fuzz_run,$(FUZZ_SMOKE_TIME))

load: logpipe servers servers-bin ## 1,000,002 logs through real Kafka, the mapping and real Cassandra: counts reconciled, peak RSS checked
	LOGPIPE=$(LOGPIPE) LOGPIPE_SERVERS=$(SERVERS_BIN) LOAD_RECORDS=$(LOAD_RECORDS) \
		LOAD_MAX_RSS_MB=$(LOAD_MAX_RSS_MB) LOAD_DIR=$(LOAD_DIR) python3 scripts/load.py
