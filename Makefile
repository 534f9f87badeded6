# vb365_exporter — see README.md. Extra targets live in make/*.mk.
GO        ?= go
PROMTOOL  ?= promtool
BIN       ?= vb365_exporter
SIM_BIN   ?= vb365-simulator
VERSION   ?= $(shell cat VERSION 2>/dev/null || echo 0.0.0)
REVISION  ?= $(shell git rev-parse HEAD 2>/dev/null)
BRANCH    ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null)
BUILD_DATE ?= $(shell date -u +%Y%m%d-%H:%M:%S)
VERSION_PKG := github.com/prometheus/common/version
LDFLAGS   ?= -s -w \
	-X $(VERSION_PKG).Version=$(VERSION) \
	-X $(VERSION_PKG).Revision=$(REVISION) \
	-X $(VERSION_PKG).Branch=$(BRANCH) \
	-X $(VERSION_PKG).BuildUser=$(shell id -un 2>/dev/null)@$(shell hostname 2>/dev/null) \
	-X $(VERSION_PKG).BuildDate=$(BUILD_DATE)

.PHONY: all build simulator test test-deps vet unit demo clean
all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

simulator:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(SIM_BIN) ./cmd/vb365-simulator

vet:
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi

unit:
	$(GO) test -race -count=1 ./...

## test: everything CI checks (the README's test command): static checks, unit and
## integration tests, the alerting rules' unit tests, the dashboard's schema check and the
## tests of the built binary against the real tools, e2e/ (make/dash.mk).
test: test-deps vet unit rules-check dashboard-check e2e

## test-deps: the real tools the tests drive. Installed from Debian's packages when missing
## and we may (root with apt-get); otherwise the line to run is printed. buildah and
## ca-certificates are for the release image the tests build and run (make image).
test-deps:
	@missing=; \
	command -v promtool >/dev/null || missing="$$missing prometheus"; \
	command -v prometheus-alertmanager >/dev/null || command -v alertmanager >/dev/null || missing="$$missing prometheus-alertmanager"; \
	command -v chromium >/dev/null || missing="$$missing chromium fonts-dejavu-core"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	command -v buildah >/dev/null || missing="$$missing buildah"; \
	[ -s /etc/ssl/certs/ca-certificates.crt ] || missing="$$missing ca-certificates"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo ">> installing$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else \
		echo "make test needs:$$missing (sudo apt-get install$$missing)"; exit 1; \
	fi

## demo: the exporter against the bundled simulator on loopback; Ctrl-C stops both.
## SIM_ADDR and EXPORTER_ADDR (make demo EXPORTER_ADDR=127.0.0.1:19925) move it.
## A cold build takes minutes on a small machine: say so before it starts, not after.
demo:
	@echo ">> downloading the Go modules the build needs (once; quiet when they are cached)"
	@$(GO) mod download
	@echo ">> building vb365_exporter and vb365-simulator (the first build compiles every dependency: a minute or two)"
	@$(MAKE) --no-print-directory build simulator
	@./scripts/demo.sh

clean:
	rm -rf $(BIN) $(SIM_BIN) dist .build .tmp

-include make/*.mk
