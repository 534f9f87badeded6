package main

import (
	"io"
	"net/http"
	"os"
	"testing"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

// reload asks the exporter to reload its config and returns the answer's status and body.
func reload(t *testing.T, exp *exporterProc) (int, string) {
	t.Helper()
	resp, err := http.Post(exp.url+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// postReload reloads a config that must load.
func postReload(t *testing.T, exp *exporterProc) {
	t.Helper()
	if code, _ := reload(t, exp); code != http.StatusOK {
		t.Fatalf("reload = %d:\n%s", code, exp.logs.String())
	}
}

// TestReloadRotatedCA: a CA file rewritten in place (same path, same YAML) takes effect on
// reload; the reload key hashes the file's content, not its path.
func TestReloadRotatedCA(t *testing.T) {
	sim := startSim(t, simulator.Options{})
	sim.sim.LoadDemoData()
	rightCA, err := os.ReadFile(sim.caFile)
	if err != nil {
		t.Fatal(err)
	}
	_, wrongCA, err := simulator.GenerateCert("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sim.caFile, wrongCA, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, t.TempDir(), serverSpec{name: "prod", sim: sim, sessions: []string{simulator.ReferenceSessionID}})
	exp := startExporter(t, cfg)
	if up := scrape(t, exp.url+"/metrics", nil).mustValue(t, "vb365_up", nil); up != 0 {
		t.Fatalf("up = %v with a CA that did not sign the server's certificate", up)
	}

	if err := os.WriteFile(sim.caFile, rightCA, 0o600); err != nil {
		t.Fatal(err)
	}
	postReload(t, exp)
	if up := scrape(t, exp.url+"/metrics", nil).mustValue(t, "vb365_up", nil); up != 1 {
		t.Errorf("up = %v after the CA file was rotated and the config reloaded", up)
	}

	// And back: the old CA must not linger either.
	if err := os.WriteFile(sim.caFile, wrongCA, 0o600); err != nil {
		t.Fatal(err)
	}
	postReload(t, exp)
	if up := scrape(t, exp.url+"/metrics", nil).mustValue(t, "vb365_up", nil); up != 0 {
		t.Errorf("up = %v after the CA file was rotated to one that does not trust the server", up)
	}
}
