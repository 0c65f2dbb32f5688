# otelbearer: `make test` runs every check; `make demo` runs the pipeline.
# Everything is built through the Go module proxy; binaries are cached
# outside the repository, keyed by version, in $(CACHE)/bin.

SHELL        := bash
.SHELLFLAGS  := -eu -o pipefail -c
GO           ?= go
CACHE        ?= $(or $(OTELBEARER_CACHE),$(HOME)/.cache/otelbearer)
export OTELBEARER_CACHE := $(CACHE)

lintver       = $(shell awk '$$1 == "$(1)" { print $$2 }' tools/lint/go.mod)
STATICCHECK  := $(CACHE)/bin/staticcheck-$(call lintver,honnef.co/go/tools)/staticcheck
BENCHSTAT    := $(CACHE)/bin/benchstat-$(call lintver,golang.org/x/perf)/benchstat

# Module directories checked (tools/ modules only pin binaries).
MODULES      := .
FUZZTIME     ?= 10s
# package:target pairs run by `make fuzz`.
FUZZ_TARGETS := .:FuzzParseAuthorization ./internal/redact:FuzzRedactString .:FuzzHandler \
                ./logbridge:FuzzCompositeJSON ./logbridge:FuzzCamelFields

.PHONY: test lint unit fuzz e2e demo bench bench-load tools help stress

help:
	@echo "make test   all checks: lint, unit tests (-race), fuzz ($(FUZZTIME) each), end-to-end suite"
	@echo "make demo   build and start Jaeger, the Collector, VictoriaLogs, VictoriaMetrics, vmalert and the demo service; send traffic and attacks"
	@echo "make bench  benchmarks compared with benchstat"
	@echo "make bench-load  otelhttp vs otelbearer on loopback under load: req/s, p50, p99"
	@echo "make stress long reliability runs: load, slow receiver, Collector killed under traffic"

test: lint unit fuzz e2e

$(STATICCHECK):
	@echo "building staticcheck (first run: about a minute)…"
	@mkdir -p $(dir $@)
	$(GO) build -C tools/lint -o $@ honnef.co/go/tools/cmd/staticcheck

$(BENCHSTAT):
	@mkdir -p $(dir $@)
	$(GO) build -C tools/lint -o $@ golang.org/x/perf/cmd/benchstat

lint: $(STATICCHECK)
	@echo "== gofmt"
	@out=$$(gofmt -l $$(git ls-files '*.go')); \
		if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@for m in $(MODULES); do \
		echo "== go vet ($$m)"; (cd $$m && $(GO) vet ./...); \
		echo "== staticcheck ($$m)"; (cd $$m && $(STATICCHECK) ./...); \
	done

unit:
	@for m in $(MODULES); do echo "== go test -race ($$m)"; (cd $$m && $(GO) test -race -count=1 ./...); done

fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "== fuzz $$fn ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

tools:
	tools/build.sh all

e2e: tools
	@echo "== end-to-end suite (Jaeger, Collector, VictoriaLogs, VictoriaMetrics, vmalert, the demo service)"
	OTELBEARER_E2E=1 $(GO) test -count=1 -v -timeout 20m ./e2e/

# The demo is built, then exec'd, so Ctrl-C and a SIGTERM to make reach it
# (go run does not pass SIGTERM on); it stops its child processes in order.
# DEMO_FLAGS: e.g. -duration 1m, -sample-percent 100, -keep.
demo: tools
	@$(GO) build -o "$(CACHE)/bin/otelbearer-demo" ./internal/demo
	@exec "$(CACHE)/bin/otelbearer-demo" $(DEMO_FLAGS)

# Long log-pipeline runs: 10,000 mixed requests at concurrency 64, and a
# receiver answering in 200 ms at this machine's highest rate (a few minutes).
# Long reliability runs (minutes): load and slow-receiver runs of the audit
# pipeline, then the real Collector SIGKILLed under traffic.
stress: tools
	OTELBEARER_STRESS=1 $(GO) test -count=1 -v -timeout 30m -run '^TestStress' ./setup/
	OTELBEARER_E2E=1 OTELBEARER_STRESS=1 $(GO) test -count=1 -v -timeout 10m -run '^TestFaultInjection$$' ./e2e/

# Benchmarks: the test binary is built once and run BENCH_ROUNDS times, so
# the variants of BenchmarkRequest alternate throughout; benchstat
# then compares medians (cpu-ns/op: process CPU time per request).
BENCH_ROUNDS ?= 10
BENCH_TIME   ?= 0.3s
BENCH_OUT    ?= /tmp/otelbearer-bench.txt
bench: $(BENCHSTAT)
	@$(GO) test -c -o /tmp/otelbearer-bench.test .
	@: > $(BENCH_OUT)
	@for i in $$(seq $(BENCH_ROUNDS)); do \
		echo "== round $$i/$(BENCH_ROUNDS)" >&2; \
		/tmp/otelbearer-bench.test -test.run '^$$' -test.bench '^(BenchmarkRequest|BenchmarkSpanProcessor|BenchmarkLogEmit)$$' \
			-test.benchtime $(BENCH_TIME) -test.count 1 >> $(BENCH_OUT); \
	done
	@echo "== ratios"
	@awk -f tools/benchratio.awk $(BENCH_OUT)
	@echo "== vs otelhttp"
	$(BENCHSTAT) -filter '.name:Request' -col '/v@(otelhttp floor peer otelbearer otelbearer-nov)' $(BENCH_OUT)
	@echo "== vs the hand-written peer"
	$(BENCHSTAT) -filter '.name:Request' -col '/v@(peer otelbearer)' $(BENCH_OUT)
	@echo "== audit record vs the peer's"
	$(BENCHSTAT) -filter '.name:Request' -col '/v@(peer-audit otelbearer-audit peer-slog peer-audit-nodedup otelbearer-audit-nodedup)' $(BENCH_OUT)
	@echo "== audit record, each with a LoggerProvider allowing duplicate keys"
	$(BENCHSTAT) -filter '.name:Request' -col '/v@(peer-audit-nodedup otelbearer-audit-nodedup)' $(BENCH_OUT)
	@echo "== one 14-attribute record through the Logs SDK"
	$(BENCHSTAT) -filter '.name:LogEmit' -col /v $(BENCH_OUT)
	@echo "== child span"
	$(BENCHSTAT) -filter '.name:SpanProcessor' -col /v $(BENCH_OUT)

# A small API on loopback under 32 closed-loop connections, behind otelhttp
# alone and behind otelbearer with and without the audit record,
# alternating over three rounds of LOAD_DURATION each (9 × LOAD_DURATION).
LOAD_DURATION ?= 5s
bench-load:
	OTELBEARER_LOAD=1 OTELBEARER_LOAD_DURATION=$(LOAD_DURATION) $(GO) test -count=1 -run '^TestLoad$$' -v -timeout 10m . \
		| grep -E 'round|^(ok|FAIL|---)'
