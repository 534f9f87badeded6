//go:build e2e

package e2e

import (
	"bytes"
	"io"
	"net/http"
	"os/exec"
	"testing"

	"github.com/vb365-exporter/vb365_exporter/internal/testenv"
	"github.com/vb365-exporter/vb365_exporter/simulator"
)

func requireTool(t *testing.T, name, install string) string {
	t.Helper()
	return testenv.RequireTool(t, name, install)
}

// TestPromtoolCheckMetrics lints a real scrape, with every kind of session present, with
// Prometheus' own linter: `curl /metrics | promtool check metrics` must print nothing.
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool := requireTool(t, "promtool", "apt-get install -y prometheus")
	sim := startSim(t, simulator.Options{})
	sim.sim.LoadDemoData()
	cfg := writeConfig(t, t.TempDir(), serverSpec{name: "prod", sim: sim,
		sessions: append(simulator.DemoSessionIDs(), unknownID)})
	exp := startExporter(t, cfg)
	for range 2 { // the second scrape has self-metrics for API calls and cached sessions
		resp, err := http.Get(exp.url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = bytes.NewReader(body)
		out, err := cmd.CombinedOutput()
		if err != nil || len(out) > 0 {
			t.Fatalf("promtool check metrics: %v\n%s", err, out)
		}
	}
}

// TestPromtoolCheckProbeMetrics lints a /probe answer with every new metric present.
func TestPromtoolCheckProbeMetrics(t *testing.T) {
	promtool := requireTool(t, "promtool", "apt-get install -y prometheus")
	sim := startSim(t, simulator.Options{})
	sim.sim.LoadDemoData()
	exp := startExporter(t, writeConfig(t, t.TempDir(), serverSpec{name: "prod", sim: sim,
		extra: "    discovery:\n      max_sessions: 2\n"}))
	_, body, _ := get(t, exp.url+"/probe?server=prod", nil)
	for _, want := range []string{"vb365_discovery_sessions_dropped", "vb365_data_retrieval_expiration_timestamp_seconds", "vb365_data_retrieval_last_status"} {
		if !bytes.Contains([]byte(body), []byte(want)) {
			t.Fatalf("%s missing from /probe:\n%s", want, body)
		}
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader([]byte(body))
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}
