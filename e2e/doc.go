// Package e2e tests the built binary as users run it, against the real tools: the whole
// monitoring pipeline on loopback (the VB365 simulator, the exporter, a real Prometheus
// with the shipped alerting rules and a real Alertmanager whose webhook receiver is the
// test itself), the shipped Prometheus examples through service discovery, promtool's
// lint of a scrape, the release image, a plain `go build` of a fresh checkout, the
// command line and signals. The exporter binary is built once per run (binary_test.go);
// tests that need the program's internals, or its goroutines under the leak check, stay
// in the root package and run it in-process. It is behind the e2e build tag because it
// builds binaries and starts Debian's prometheus and prometheus-alertmanager: run it with
// `make e2e` (part of `make test`). TestPipelineReasonAndExpiry serves the simulator's
// demo data from the test process (the other pipeline tests run the simulator binary and
// drive it through its admin API), so that it can add data retrievals.
package e2e
