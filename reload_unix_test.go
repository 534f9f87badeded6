//go:build !windows

package main

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

func TestReloadOnSIGHUP(t *testing.T) {
	sim := startSim(t, simulator.Options{})
	sim.sim.LoadDemoData()
	dir := t.TempDir()
	cfg := writeConfig(t, dir, serverSpec{name: "prod", sim: sim, sessions: []string{simulator.ReferenceSessionID}})
	exp := startExporter(t, cfg)
	var r scrapeResult
	writeConfig(t, dir, serverSpec{name: "prod", sim: sim, sessions: []string{simulator.DemoWarningID}})
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		r = scrape(t, exp.url+"/metrics", nil)
		if _, ok := r.value("vb365_data_retrieval_session_scrape_success", l("session_id", simulator.DemoWarningID)); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("SIGHUP did not reload:\n%s", exp.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// One line for the start's load and one for the reload: a SIGHUP is logged once.
	if n := strings.Count(exp.logs.String(), "Loaded config file"); n != 2 {
		t.Errorf("%d config load lines after start and one SIGHUP, want 2:\n%s", n, exp.logs.String())
	}
	if r.mustValue(t, "vb365_exporter_config_last_reload_successful", nil) != 1 {
		t.Error("config_last_reload_successful != 1 after SIGHUP reload")
	}
}
