// Package e2e runs the whole monitoring pipeline on loopback: the VB365
// simulator, the exporter, a real Prometheus with the shipped alerting rules
// and a real Alertmanager whose webhook receiver is the test itself. It is
// behind the e2e build tag because it builds binaries and starts Debian's
// prometheus and prometheus-alertmanager: run it with `make e2e`. TestPipelineReasonAndExpiry
// serves the simulator's demo data from the test process (the others run the simulator
// binary and drive it through its admin API), so that it can add data retrievals.
package e2e
