# Reliability targets (issue 5): fuzzing and the soak test.
SOAK_DURATION ?= 2m30s
SOAK_SCRAPERS ?= 16

# CI's budgets are execution counts, not durations: Go 1.26's fuzz coordinator can report
# its own -fuzztime deadline as "context deadline exceeded" and fail a target that found
# nothing (golang/go#75804, fixed in Go 1.27), and it did so on a loaded CI machine. A count
# has no deadline to race. Each count is a few seconds to ten here; FUZZTIME=10m (or any
# -fuzztime value) overrides them all for a long run.
FUZZ_TARGETS := ./vb365:FuzzParseTime:150000x ./vb365:FuzzDecodeSession:150000x \
	./vb365:FuzzDecodePage:150000x ./vb365:FuzzScrub:60000x ./config:FuzzLoad:20000x
FUZZTIME ?=

.PHONY: fuzz soak
## fuzz: run every fuzz target for a fixed number of executions (FUZZTIME=10m for a long run)
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; rest=$${t#*:}; name=$${rest%%:*}; budget=$${rest#*:}; \
		if [ -n "$(FUZZTIME)" ]; then budget="$(FUZZTIME)"; fi; \
		echo "== $$name ($$pkg, $$budget)"; \
		$(GO) test $$pkg -run '^$$' -fuzz "^$$name\$$" -fuzztime $$budget; \
	done

## soak: many concurrent scrapes of the real binary against a faulty simulator; prints goroutine and heap figures
soak: build
	$(GO) run ./cmd/vb365-soak --exporter=./$(BIN) --duration=$(SOAK_DURATION) --scrapers=$(SOAK_SCRAPERS)
