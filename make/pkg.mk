# Packaging targets: build, crossbuild, lint, docker-lint, examples-check.
# The top-level Makefile includes every make/*.mk, so names here are prefixed
# (PKG_) to stay clear of variables in the other fragments.

GO ?= go
PKG_BINARY      := vb365_exporter
PKG_SIMULATOR   := vb365-simulator
PKG_DIST        := dist
PKG_TOOLS_DIR   := $(CURDIR)/.build

PKG_VERSION    := $(shell cat VERSION)
PKG_REVISION   := $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
PKG_BRANCH     := $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
PKG_BUILD_USER := $(shell id -un 2>/dev/null || echo unknown)@$(shell hostname 2>/dev/null || echo unknown)
# The format promu and prometheus/common/version use. SOURCE_DATE_EPOCH makes
# a rebuild of the same commit byte-identical.
ifdef SOURCE_DATE_EPOCH
PKG_BUILD_DATE := $(shell date -u -d "@$(SOURCE_DATE_EPOCH)" +%Y%m%d-%H:%M:%S)
else
PKG_BUILD_DATE := $(shell date -u +%Y%m%d-%H:%M:%S)
endif

PKG_VERSION_PKG := github.com/prometheus/common/version
PKG_LDFLAGS := \
	-X $(PKG_VERSION_PKG).Version=$(PKG_VERSION) \
	-X $(PKG_VERSION_PKG).Revision=$(PKG_REVISION) \
	-X $(PKG_VERSION_PKG).Branch=$(PKG_BRANCH) \
	-X $(PKG_VERSION_PKG).BuildUser=$(PKG_BUILD_USER) \
	-X $(PKG_VERSION_PKG).BuildDate=$(PKG_BUILD_DATE)
# Static binaries: no cgo, so the same file runs on any Linux, in a
# distroless image and as a Windows service without a C runtime. -trimpath
# keeps the builder's paths out of the binary.
PKG_GOBUILD := CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(PKG_LDFLAGS)'

PKG_PLATFORMS := linux/amd64 linux/arm64 windows/amd64 darwin/arm64
# The simulator arrives on main separately; build it only once it exists.
PKG_HAS_SIMULATOR := $(wildcard cmd/$(PKG_SIMULATOR)/*.go)

pkg_exe = $(PKG_DIST)/$(1)-$(subst /,-,$(2))$(if $(filter windows/%,$(2)),.exe)
PKG_EXPORTER_BINARIES := $(foreach p,$(PKG_PLATFORMS),$(call pkg_exe,$(PKG_BINARY),$(p)))
PKG_SIMULATOR_BINARIES := $(if $(PKG_HAS_SIMULATOR),$(call pkg_exe,$(PKG_SIMULATOR),linux/amd64))
PKG_CROSS_BINARIES := $(PKG_EXPORTER_BINARIES) $(PKG_SIMULATOR_BINARIES)

# The top-level Makefile may already have a build target (it sets BIN);
# define one only when it does not, rather than override its recipe.
ifeq ($(origin BIN),undefined)
.PHONY: build
build: ## Build the exporter (and the simulator, if present) for this machine.
	$(PKG_GOBUILD) -o $(PKG_BINARY)$(shell $(GO) env GOEXE) .
ifneq ($(PKG_HAS_SIMULATOR),)
	$(PKG_GOBUILD) -o $(PKG_SIMULATOR)$(shell $(GO) env GOEXE) ./cmd/$(PKG_SIMULATOR)
endif
endif

.PHONY: crossbuild
crossbuild: ## Build release binaries for every platform into dist/.
	@rm -rf $(PKG_DIST) && mkdir -p $(PKG_DIST)
	@set -e; for p in $(PKG_PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; ext=; [ "$$os" = windows ] && ext=.exe; \
		echo ">> $(PKG_BINARY) $$os/$$arch"; \
		GOOS=$$os GOARCH=$$arch $(PKG_GOBUILD) -o $(PKG_DIST)/$(PKG_BINARY)-$$os-$$arch$$ext . ; \
	done
ifneq ($(PKG_HAS_SIMULATOR),)
	@echo ">> $(PKG_SIMULATOR) linux/amd64"
	GOOS=linux GOARCH=amd64 $(PKG_GOBUILD) -o $(call pkg_exe,$(PKG_SIMULATOR),linux/amd64) ./cmd/$(PKG_SIMULATOR)
endif
	cd $(PKG_DIST) && sha256sum $(notdir $(PKG_CROSS_BINARIES)) > sha256sums.txt

.PHONY: crossbuild-check
crossbuild-check: crossbuild ## Check dist/: platforms, CGO_ENABLED=0, static ELF, stamped version.
	$(GO) run ./tools/distcheck -version $(PKG_VERSION) -revision $(PKG_REVISION) -run $(PKG_EXPORTER_BINARIES)
ifneq ($(PKG_HAS_SIMULATOR),)
	$(GO) run ./tools/distcheck $(PKG_SIMULATOR_BINARIES)
endif

# golangci-lint is installed from source at a pinned version, into a
# versioned path so that bumping the pin reinstalls it.
PKG_GOLANGCI_LINT_VERSION ?= v2.15.0
PKG_GOLANGCI_LINT := $(PKG_TOOLS_DIR)/golangci-lint-$(PKG_GOLANGCI_LINT_VERSION)/golangci-lint

$(PKG_GOLANGCI_LINT):
	@echo ">> installing golangci-lint $(PKG_GOLANGCI_LINT_VERSION) (a few minutes on a new machine)"
	GOBIN=$(dir $@) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(PKG_GOLANGCI_LINT_VERSION)

.PHONY: lint
lint: $(PKG_GOLANGCI_LINT) ## Run golangci-lint with .golangci.yml (also for GOOS=windows).
	$(PKG_GOLANGCI_LINT) run ./...
	GOOS=windows $(PKG_GOLANGCI_LINT) run ./...

.PHONY: docker-lint
docker-lint: ## Lint the Dockerfile with dockerfile-utils plus the image policy.
	cd tools/dockerlint && npm ci --no-audit --no-fund --silent && node --test && node lint.js ../../Dockerfile

.PHONY: docker
docker: ## Build the container image (needs a registry to pull base images from).
	docker build \
		--build-arg VERSION=$(PKG_VERSION) --build-arg REVISION=$(PKG_REVISION) \
		--build-arg BRANCH=$(PKG_BRANCH) --build-arg BUILD_DATE=$(PKG_BUILD_DATE) \
		--build-arg CREATED=$(shell date -u +%Y-%m-%dT%H:%M:%SZ) \
		-t $(PKG_BINARY):$(PKG_VERSION) .

# Debian packages that provide the checkers (CI installs them).
PKG_EXAMPLES_DEPS := prometheus prometheus-alertmanager systemd

.PHONY: examples-deps
examples-deps: ## apt-get install what examples-check runs (as root).
	@missing=; for c in promtool amtool systemd-analyze; do command -v $$c >/dev/null || missing=1; done; \
	if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PKG_EXAMPLES_DEPS); fi

.PHONY: examples-check
examples-check: build ## Validate examples/: configs, Kubernetes, compose, systemd unit, Prometheus and Alertmanager configs.
	$(GO) test -count=1 ./examples/...
	@for c in promtool amtool systemd-analyze; do command -v $$c >/dev/null || { echo "$$c not found: make examples-deps"; exit 1; }; done
	promtool check config examples/prometheus/prometheus.yml
	promtool check config examples/compose/prometheus.yml
	amtool check-config examples/compose/alertmanager.yml
	@# verify insists that ExecStart exists, so point it at the binary just
	@# built; and it exits 0 on unknown keys or bad values, so any output fails.
	@mkdir -p .tmp/systemd
	sed 's|/usr/local/bin/$(PKG_BINARY)|$(CURDIR)/$(PKG_BINARY)|' examples/systemd/$(PKG_BINARY).service > .tmp/systemd/$(PKG_BINARY).service
	@out=$$(systemd-analyze verify .tmp/systemd/$(PKG_BINARY).service 2>&1); rc=$$?; \
	if [ $$rc -ne 0 ] || [ -n "$$out" ]; then echo "$$out"; exit 1; fi; echo "systemd-analyze verify: ok"

.PHONY: pkg-check
pkg-check: lint docker-lint crossbuild-check examples-check ## Everything CI runs for packaging.

# The release image (Dockerfile.release), from the binary built with the release flags and
# a root filesystem assembled here: Debian's CA bundle (package ca-certificates), a passwd
# and group naming the nonroot user 65532, /tmp. buildah builds it FROM scratch, so no
# registry is needed. IMAGE names the result.
IMAGE          ?= $(PKG_BINARY):$(PKG_VERSION)
PKG_IMAGE_ARCH ?= amd64
PKG_IMAGE_DIR  := $(PKG_TOOLS_DIR)/image
PKG_CA_BUNDLE  ?= /etc/ssl/certs/ca-certificates.crt

.PHONY: image
image: ## Build the release image with buildah (apt-get install buildah ca-certificates).
	@command -v buildah >/dev/null || { echo "make image needs buildah: apt-get install buildah"; exit 1; }
	@test -s $(PKG_CA_BUNDLE) || { echo "no CA bundle at $(PKG_CA_BUNDLE): apt-get install ca-certificates"; exit 1; }
	@rm -rf $(PKG_IMAGE_DIR)
	@mkdir -p $(PKG_IMAGE_DIR)/rootfs/etc/ssl/certs $(PKG_IMAGE_DIR)/rootfs/etc/vb365_exporter $(PKG_IMAGE_DIR)/rootfs/tmp
	@echo ">> $(PKG_BINARY) linux/$(PKG_IMAGE_ARCH)"
	GOOS=linux GOARCH=$(PKG_IMAGE_ARCH) $(PKG_GOBUILD) -o $(PKG_IMAGE_DIR)/$(PKG_BINARY)-linux-$(PKG_IMAGE_ARCH) .
	@cp $(PKG_CA_BUNDLE) $(PKG_IMAGE_DIR)/rootfs/etc/ssl/certs/ca-certificates.crt
	@printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > $(PKG_IMAGE_DIR)/rootfs/etc/passwd
	@printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' > $(PKG_IMAGE_DIR)/rootfs/etc/group
	@chmod 0644 $(PKG_IMAGE_DIR)/rootfs/etc/passwd $(PKG_IMAGE_DIR)/rootfs/etc/group $(PKG_IMAGE_DIR)/rootfs/etc/ssl/certs/ca-certificates.crt
	@chmod 1777 $(PKG_IMAGE_DIR)/rootfs/tmp
	@cp LICENSE $(PKG_IMAGE_DIR)/LICENSE
	@echo ">> buildah: $(IMAGE)"
	buildah bud --pull=never --quiet -f $(CURDIR)/Dockerfile.release \
		--build-arg ARCH=$(PKG_IMAGE_ARCH) --build-arg VERSION=$(PKG_VERSION) --build-arg REVISION=$(PKG_REVISION) \
		--build-arg CREATED=$(shell date -u +%Y-%m-%dT%H:%M:%SZ) \
		-t $(IMAGE) $(PKG_IMAGE_DIR)
