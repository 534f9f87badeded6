# Reliability targets (issue 5): fuzzing and the soak test.
FUZZTIME      ?= 10s
SOAK_DURATION ?= 2m30s
SOAK_SCRAPERS ?= 16

# Each target runs on its own: `go test -fuzz` accepts one target per run.
FUZZ_TARGETS := ./vb365:FuzzParseTime ./vb365:FuzzDecodeSession ./vb365:FuzzDecodePage ./vb365:FuzzScrub ./config:FuzzLoad

.PHONY: fuzz soak
## fuzz: run every fuzz target for FUZZTIME (CI uses the 10s default)
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "== $$name ($$pkg, $(FUZZTIME))"; \
		$(GO) test $$pkg -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME); \
	done

## soak: many concurrent scrapes of the real binary against a faulty simulator; prints goroutine and heap figures
soak: build
	$(GO) run ./cmd/vb365-soak --exporter=./$(BIN) --duration=$(SOAK_DURATION) --scrapers=$(SOAK_SCRAPERS)
