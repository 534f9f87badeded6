# Targets for the Grafana dashboard, the alerting rules and the end-to-end
# pipeline test (issue 3). The top-level Makefile includes make/*.mk.

PROMTOOL ?= promtool
NPM ?= npm
GO ?= go

.PHONY: rules-check dashboard-check e2e e2e-deps

# promtool check + unit tests of the shipped alerting rules.
rules-check:
	$(PROMTOOL) check rules alerts/*.rules.yml
	$(PROMTOOL) test rules alerts/*_test.yml

# Type-checks every dashboard JSON (dashboards/*.json) against Grafana's own @grafana/schema types.
dashboard-check:
	cd dashboards/schema-check && $(NPM) ci --no-audit --no-fund && $(NPM) run --silent check

# The built binary against the real tools (e2e/doc.go): simulator -> exporter ->
# Prometheus -> Alertmanager -> webhook on loopback, the shipped Prometheus examples,
# promtool, the release image. Needs the Debian packages prometheus and
# prometheus-alertmanager (buildah for the image test).
e2e:
	$(GO) test -count=1 -tags e2e -timeout 15m -v ./e2e/...

# Debian packages that rules-check and e2e need (run as root); CI calls this
# first. dashboard-check needs node >= 18 with npm.
e2e-deps:
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus prometheus-alertmanager
