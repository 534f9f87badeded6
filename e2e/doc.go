// Package e2e runs the whole monitoring pipeline on loopback: the VB365
// simulator, the exporter, a real Prometheus with the shipped alerting rules
// and a real Alertmanager whose webhook receiver is the test itself. It is
// behind the e2e build tag because it builds binaries and starts Debian's
// prometheus and prometheus-alertmanager: run it with `make e2e`.
package e2e
