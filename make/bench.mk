# make bench: Go benchmarks of the metric path, then the load scenarios against the real
# binary (see BENCHMARKS.md). LOADTEST_FLAGS=--scale=10 makes a quick smoke run.
BENCH_DIR      ?= .build/bench
LOADTEST_FLAGS ?=

.PHONY: bench bench-go bench-load bench-installation bench-scrub bench-hostile-log bench-tenants
bench: bench-go bench-load

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 10x . ./collector/ ./bench/...
	$(GO) test -run '^$$' -bench 'BenchmarkText' -benchmem ./vb365/

bench-load:
	@mkdir -p $(BENCH_DIR)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BENCH_DIR)/vb365_exporter .
	$(GO) build -o $(BENCH_DIR)/loadtest ./bench/loadtest
	$(BENCH_DIR)/loadtest --exporter $(BENCH_DIR)/vb365_exporter $(LOADTEST_FLAGS)

# make bench-installation: only issue 17's installation scenario (200 jobs x 120 sessions, v8).
bench-installation:
	@mkdir -p $(BENCH_DIR)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BENCH_DIR)/vb365_exporter .
	$(GO) build -o $(BENCH_DIR)/loadtest ./bench/loadtest
	$(BENCH_DIR)/loadtest --exporter $(BENCH_DIR)/vb365_exporter --scenario installation $(LOADTEST_FLAGS)

# make bench-scrub: only issue 19's scrubbing CPU case (honest vs hostile session logs).
bench-scrub:
	@mkdir -p $(BENCH_DIR)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BENCH_DIR)/vb365_exporter .
	$(GO) build -o $(BENCH_DIR)/loadtest ./bench/loadtest
	$(BENCH_DIR)/loadtest --exporter $(BENCH_DIR)/vb365_exporter --scenario scrub $(LOADTEST_FLAGS)

# make bench-hostile-log: only issue 19's hostile-log case (peak RSS while 8 flooded logs are read).
bench-hostile-log:
	@mkdir -p $(BENCH_DIR)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BENCH_DIR)/vb365_exporter .
	$(GO) build -o $(BENCH_DIR)/loadtest ./bench/loadtest
	$(BENCH_DIR)/loadtest --exporter $(BENCH_DIR)/vb365_exporter --scenario hostile-log $(LOADTEST_FLAGS)

# make bench-tenants: only issue 21's tenants case (50 organizations x 2,000 users, 10,000
# restores, v8): the background users pass, warm scrapes' LicensedUsers and restore requests,
# peak RSS.
bench-tenants:
	@mkdir -p $(BENCH_DIR)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BENCH_DIR)/vb365_exporter .
	$(GO) build -o $(BENCH_DIR)/loadtest ./bench/loadtest
	$(BENCH_DIR)/loadtest --exporter $(BENCH_DIR)/vb365_exporter --scenario tenants $(LOADTEST_FLAGS)
