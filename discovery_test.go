package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

const newFailedID = "5e55e55e-0000-4000-8000-00000000fa11"

// TestDiscoveryWithoutConfiguredSessions runs the whole program with discovery on and no
// session IDs: a session created after start-up must appear on the next scrape, through
// /metrics and /probe alike, with no config change; a finished one older than max_age not.
func TestDiscoveryWithoutConfiguredSessions(t *testing.T) {
	for _, version := range []string{"v6", "v8"} {
		t.Run(version, func(t *testing.T) {
			sim := startSim(t, simulator.Options{})
			sim.sim.LoadDemoData()
			exp := startExporter(t, writeConfig(t, t.TempDir(), serverSpec{name: "prod", version: version, sim: sim,
				extra: "    discovery: {}\n"}))

			r := scrape(t, exp.url+"/probe?server=prod", nil)
			demo := len(simulator.DemoSessionIDs()) - 1 // all but the 2022 reference session
			if got := r.mustValue(t, "vb365_discovery_sessions", l("server", "prod")); got != float64(demo) {
				t.Errorf("discovered %v sessions, want %d", got, demo)
			}
			if got := r.count("vb365_data_retrieval_session_scrape_success", nil); got != demo {
				t.Errorf("%d sessions exported, want %d", got, demo)
			}
			if r.count("vb365_data_retrieval_session_info", l("session_id", simulator.ReferenceSessionID)) != 0 {
				t.Error("the 2022 reference session is older than max_age but was exported")
			}
			if r.mustValue(t, "vb365_data_retrieval_session_status", l("session_id", simulator.DemoFailedID, "status", "Failed")) != 1 {
				t.Error("the demo failed session is not exported as Failed")
			}
			// Retrievals name the job behind each session.
			if r.mustValue(t, "vb365_data_retrieval_info", l("retrieval_id", simulator.DemoTeamsRetrievalID, "name", "Teams retrieval", "type", "Teams")) != 1 {
				t.Error("no info for the Teams retrieval")
			}

			sess := simulator.Session{ID: newFailedID, Name: "Teams data retrieval (new)", RetrievalID: simulator.DemoTeamsRetrievalID,
				CreationTime: time.Now().Add(-time.Minute), EndTime: time.Now(), Type: simulator.TypeRetrieve, Status: simulator.StatusFailed}
			if err := sim.sim.AddSession(sess); err != nil {
				t.Fatal(err)
			}
			for _, path := range []string{"/probe?server=prod", "/metrics"} {
				r = scrape(t, exp.url+path, nil)
				if r.mustValue(t, "vb365_data_retrieval_session_status", l("server", "prod", "session_id", newFailedID, "status", "Failed")) != 1 {
					t.Errorf("%s: the session created after start-up is not exported as Failed", path)
				}
				if got := r.mustValue(t, "vb365_discovery_sessions", l("server", "prod")); got != float64(demo+1) {
					t.Errorf("%s: discovered %v, want %d", path, got, demo+1)
				}
			}
		})
	}
}

func TestDiscoveryMaxSessionsGuardMetric(t *testing.T) {
	sim := startSim(t, simulator.Options{})
	sim.sim.LoadDemoData()
	exp := startExporter(t, writeConfig(t, t.TempDir(), serverSpec{name: "prod", sim: sim,
		sessions: []string{simulator.ReferenceSessionID},
		extra:    "    discovery:\n      max_age: 1000000h\n      max_sessions: 4\n"}))
	r := scrape(t, exp.url+"/probe?server=prod", nil)
	all := len(simulator.DemoSessionIDs())
	if got := r.mustValue(t, "vb365_discovery_sessions_dropped", l("server", "prod")); got != float64(all-4) {
		t.Errorf("dropped %v, want %d", got, all-4)
	}
	if got := r.mustValue(t, "vb365_discovery_sessions", l("server", "prod")); got != 4 {
		t.Errorf("discovered %v, want 4", got)
	}
	// The configured session stays, on top of the four newest discovered ones.
	if got := r.count("vb365_data_retrieval_session_scrape_success", nil); got != 5 {
		t.Errorf("%d sessions exported, want 4 discovered + 1 configured", got)
	}
	if r.mustValue(t, "vb365_data_retrieval_session_scrape_success", l("session_id", simulator.ReferenceSessionID)) != 1 {
		t.Error("the configured session was dropped by the guard")
	}
	if !bytes.Contains([]byte(exp.logs.String()), []byte("more sessions discovered than max_sessions allows")) {
		t.Errorf("no warning about the guard in the logs:\n%s", exp.logs.String())
	}
}
