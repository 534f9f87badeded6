package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

const unknownID = "deadbeef-0000-4000-8000-000000000000"

func TestMetricsAgainstSimulator(t *testing.T) {
	for _, version := range []string{"v6", "v7", "v8"} {
		t.Run(version, func(t *testing.T) {
			sim := startSim(t, simulator.Options{})
			sim.sim.LoadDemoData()
			dir := t.TempDir()
			cfg := writeConfig(t, dir, serverSpec{name: "prod", version: version, sim: sim,
				sessions: []string{simulator.ReferenceSessionID, unknownID, simulator.DemoRunningSuccessID, simulator.DemoFailedID}})
			exp := startExporter(t, cfg)
			r := scrape(t, exp.url+"/metrics", nil)
			if r.status != 200 {
				t.Fatalf("status %d", r.status)
			}
			ref := l("server", "prod", "session_id", simulator.ReferenceSessionID)
			for name, want := range map[string]float64{
				"vb365_data_retrieval_session_scrape_success":             1,
				"vb365_data_retrieval_session_progress":                   5,
				"vb365_data_retrieval_session_processed_objects":          37,
				"vb365_data_retrieval_session_duration_seconds":           220.8336404,
				"vb365_data_retrieval_session_creation_timestamp_seconds": 1643399556.9177053,
				"vb365_data_retrieval_session_end_timestamp_seconds":      1643399777.7513457,
			} {
				if got := r.mustValue(t, name, ref); got != want {
					t.Errorf("%s = %v, want %v", name, got, want)
				}
			}
			if got := r.mustValue(t, "vb365_data_retrieval_session_info", l("session_id", simulator.ReferenceSessionID,
				"name", "Exchange data retrieval", "retrieval_id", simulator.ReferenceRetrievalID, "type", "Retrieve")); got != 1 {
				t.Errorf("info = %v", got)
			}
			for _, st := range []string{"Stopped", "Running", "Success", "Failed", "Warning", "NotConfigured"} {
				want := 0.0
				if st == "Success" {
					want = 1
				}
				if got := r.mustValue(t, "vb365_data_retrieval_session_status", l("session_id", simulator.ReferenceSessionID, "status", st)); got != want {
					t.Errorf("status{%s} = %v, want %v", st, got, want)
				}
			}
			// A session the server does not know: scrape_success 0 and nothing else.
			if got := r.mustValue(t, "vb365_data_retrieval_session_scrape_success", l("session_id", unknownID)); got != 0 {
				t.Errorf("unknown session scrape_success = %v", got)
			}
			for name := range r.fams {
				if name != "vb365_data_retrieval_session_scrape_success" && r.count(name, l("session_id", unknownID)) > 0 {
					t.Errorf("unknown session has a %s series", name)
				}
			}
			// A running session has a duration but no end timestamp.
			running := l("session_id", simulator.DemoRunningSuccessID)
			if r.mustValue(t, "vb365_data_retrieval_session_status", l("session_id", simulator.DemoRunningSuccessID, "status", "Running")) != 1 {
				t.Error("demo running session is not Running")
			}
			if _, ok := r.value("vb365_data_retrieval_session_end_timestamp_seconds", running); ok {
				t.Error("running session has an end timestamp")
			}
			if d := r.mustValue(t, "vb365_data_retrieval_session_duration_seconds", running); d <= 0 {
				t.Errorf("running session duration = %v", d)
			}
			if r.mustValue(t, "vb365_up", l("server", "prod")) != 1 {
				t.Error("vb365_up != 1")
			}
			if _, ok := r.value("vb365_scrape_duration_seconds", l("server", "prod")); !ok {
				t.Error("no vb365_scrape_duration_seconds")
			}
			if _, ok := r.value("vb365_exporter_build_info", nil); !ok {
				t.Error("no vb365_exporter_build_info")
			}
			if r.mustValue(t, "vb365_exporter_config_last_reload_successful", nil) != 1 {
				t.Error("config_last_reload_successful != 1")
			}
			if r.mustValue(t, "vb365_exporter_api_requests_total", l("server", "prod", "endpoint", "session", "code", "404")) != 1 {
				t.Error("the 404 is not counted in vb365_exporter_api_requests_total")
			}
		})
	}
}

func TestOneTokenForManyScrapes(t *testing.T) {
	sim := startSim(t, simulator.Options{})
	sim.sim.LoadDemoData()
	cfg := writeConfig(t, t.TempDir(), serverSpec{name: "prod", sim: sim, sessions: simulator.DemoSessionIDs()})
	exp := startExporter(t, cfg)
	for range 5 {
		r := scrape(t, exp.url+"/metrics", nil)
		if r.mustValue(t, "vb365_up", nil) != 1 {
			t.Fatal("not up")
		}
	}
	if n := sim.sim.Stats().TokensIssued; n != 1 {
		t.Errorf("tokens issued for 5 scrapes = %d, want 1", n)
	}
}

func TestTokenRenewal(t *testing.T) {
	t.Run("on server-side expiry", func(t *testing.T) {
		// The server's clock runs ahead of the exporter's: the token dies early on the
		// server, the next call gets a 401, and the client renews once and retries.
		// (Renewal ahead of expiry on the client's own clock is tested in package vb365.)
		clk := &fakeClock{now: time.Now()}
		sim := startSim(t, simulator.Options{TokenLifetime: 3 * time.Minute, Now: clk.Now})
		sim.sim.LoadDemoData()
		cfg := writeConfig(t, t.TempDir(), serverSpec{name: "prod", sim: sim, sessions: []string{simulator.ReferenceSessionID}, extra: "    cache_ttl: 0s\n"})
		exp := startExporter(t, cfg)
		scrape(t, exp.url+"/metrics", nil)
		if n := sim.sim.Stats().TokensIssued; n != 1 {
			t.Fatalf("tokens = %d", n)
		}
		clk.Add(4 * time.Minute)
		r := scrape(t, exp.url+"/metrics", nil)
		if r.mustValue(t, "vb365_data_retrieval_session_scrape_success", nil) != 1 {
			t.Fatalf("scrape after expiry failed:\n%s", exp.logs.String())
		}
		if n := sim.sim.Stats().TokensIssued; n != 2 {
			t.Errorf("tokens after expiry = %d, want 2", n)
		}
	})
	t.Run("on 401", func(t *testing.T) {
		sim := startSim(t, simulator.Options{})
		sim.sim.LoadDemoData()
		cfg := writeConfig(t, t.TempDir(), serverSpec{name: "prod", sim: sim, sessions: []string{simulator.ReferenceSessionID}, extra: "    cache_ttl: 0s\n"})
		exp := startExporter(t, cfg)
		scrape(t, exp.url+"/metrics", nil)
		sim.sim.RevokeTokens()
		r := scrape(t, exp.url+"/metrics", nil)
		if r.mustValue(t, "vb365_data_retrieval_session_scrape_success", nil) != 1 || r.mustValue(t, "vb365_up", nil) != 1 {
			t.Fatalf("scrape after revocation failed:\n%s", r.body)
		}
		if n := sim.sim.Stats().TokensIssued; n != 2 {
			t.Errorf("tokens = %d, want 2", n)
		}
	})
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func TestServerDownAndBadPassword(t *testing.T) {
	sim := startSim(t, simulator.Options{})
	sim.sim.LoadDemoData()
	down := startSim(t, simulator.Options{})
	down.close()
	dir := t.TempDir()
	cfg := writeConfig(t, dir,
		serverSpec{name: "good", sim: sim, sessions: []string{simulator.ReferenceSessionID}},
		serverSpec{name: "down", sim: down, sessions: []string{simulator.ReferenceSessionID}},
		serverSpec{name: "badpw", sim: sim, password: "wrong-password", sessions: []string{simulator.ReferenceSessionID}},
	)
	exp := startExporter(t, cfg)
	r := scrape(t, exp.url+"/metrics", nil)
	if r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	for server, want := range map[string]float64{"good": 1, "down": 0, "badpw": 0} {
		if got := r.mustValue(t, "vb365_up", l("server", server)); got != want {
			t.Errorf("vb365_up{server=%s} = %v, want %v", server, got, want)
		}
		if got := r.mustValue(t, "vb365_data_retrieval_session_scrape_success", l("server", server)); got != want {
			t.Errorf("scrape_success{server=%s} = %v, want %v", server, got, want)
		}
	}
	logs := exp.logs.String()
	if !strings.Contains(logs, "authentication failed") {
		t.Errorf("no log line says authentication failed:\n%s", logs)
	}
	// A second scrape within the backoff sends no token request for the bad password.
	before := sim.sim.Stats().ByEndpoint["token"]
	scrape(t, exp.url+"/metrics", nil)
	if after := sim.sim.Stats().ByEndpoint["token"]; after != before {
		t.Errorf("token requests during backoff: %d -> %d", before, after)
	}
}

func TestScrapeDeadline(t *testing.T) {
	sim := startSim(t, simulator.Options{})
	sim.sim.LoadDemoData()
	if err := sim.sim.SetFault(simulator.Fault{Endpoint: "session", SessionID: simulator.DemoFailedID, Kind: simulator.FaultStall}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.sim.ClearFaults)
	cfg := writeConfig(t, t.TempDir(), serverSpec{name: "prod", sim: sim,
		sessions: []string{simulator.ReferenceSessionID, simulator.DemoFailedID}, extra: "    timeout: 60s\n"})
	exp := startExporter(t, cfg)
	start := time.Now()
	r := scrape(t, exp.url+"/metrics", map[string]string{"X-Prometheus-Scrape-Timeout-Seconds": "5"})
	elapsed := time.Since(start)
	if r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	if got := r.mustValue(t, "vb365_data_retrieval_session_scrape_success", l("session_id", simulator.DemoFailedID)); got != 0 {
		t.Errorf("stalled session scrape_success = %v", got)
	}
	if got := r.mustValue(t, "vb365_data_retrieval_session_scrape_success", l("session_id", simulator.ReferenceSessionID)); got != 1 {
		t.Errorf("good session scrape_success = %v\n%s", got, exp.logs.String())
	}
	// Not a speed assertion: the stall only ends with the scrape deadline (4.5 s) or the
	// 60 s request timeout, and the log says which one ended it. The bound is loose so a
	// loaded machine cannot fail it; only ignoring the deadline can.
	if elapsed >= 30*time.Second {
		t.Errorf("scrape took %v: the 5 s scrape timeout did not end the stalled call", elapsed)
	}
	if !strings.Contains(exp.logs.String(), "scrape deadline reached") {
		t.Errorf("log does not say the scrape deadline ended the call:\n%s", exp.logs.String())
	}
}

func TestUnknownStatusEndToEnd(t *testing.T) {
	sim := startSim(t, simulator.Options{})
	sim.sim.LoadDemoData()
	// The simulator only speaks documented statuses; play a future server version. The
	// exporter warns once per process for each unknown value, so each run of this test
	// (go test -count=N) brings a value of its own.
	status := fmt.Sprintf("Hibernating%d", time.Now().UnixNano())
	sim.spy.setRewrite(func(path string, body []byte) []byte {
		return bytes.ReplaceAll(body, []byte(`"status":"Stopped"`), []byte(`"status":"`+status+`"`))
	})
	cfg := writeConfig(t, t.TempDir(), serverSpec{name: "prod", sim: sim, sessions: []string{simulator.DemoStoppedID}})
	exp := startExporter(t, cfg)
	for range 2 {
		r := scrape(t, exp.url+"/metrics", nil)
		if n := r.count("vb365_data_retrieval_session_status", l("session_id", simulator.DemoStoppedID)); n != 6 {
			t.Errorf("%d status series, want 6", n)
		}
		for _, st := range []string{"Stopped", "Running", "Success", "Failed", "Warning", "NotConfigured"} {
			if v := r.mustValue(t, "vb365_data_retrieval_session_status", l("session_id", simulator.DemoStoppedID, "status", st)); v != 0 {
				t.Errorf("status %s = %v", st, v)
			}
		}
	}
	if n := strings.Count(exp.logs.String(), "status="+status+" "); n != 1 {
		t.Errorf("unknown status logged %d times, want once:\n%s", n, exp.logs.String())
	}
}

func TestNoSecretsInLogsOrPages(t *testing.T) {
	sim := startSim(t, simulator.Options{})
	sim.sim.LoadDemoData()
	dir := t.TempDir()
	cfg := writeConfig(t, dir,
		serverSpec{name: "good", sim: sim, sessions: simulator.DemoSessionIDs()},
		serverSpec{name: "bad", sim: sim, password: simPassword + "-wrong", sessions: []string{simulator.ReferenceSessionID}})
	exp := startExporter(t, cfg) // at debug level
	var pages []string
	for _, p := range []string{"/metrics", "/", "/-/healthy", "/-/ready"} {
		r, err := http.Get(exp.url + p)
		if err != nil {
			t.Fatal(err)
		}
		b := new(strings.Builder)
		_, _ = io.Copy(b, r.Body)
		r.Body.Close()
		pages = append(pages, b.String())
	}
	sim.sim.RevokeTokens()
	scrape(t, exp.url+"/metrics", nil)
	exp.stop()
	everything := exp.logs.String() + strings.Join(pages, "\n")
	if strings.Contains(everything, simPassword) {
		t.Error("the password appears in logs or pages")
	}
	for _, tok := range sim.spy.issued() {
		if strings.Contains(everything, tok) {
			t.Errorf("a token appears in logs or pages")
		}
	}
	if !strings.Contains(exp.logs.String(), "level=debug") && !strings.Contains(exp.logs.String(), "level=info") {
		t.Errorf("no logs captured:\n%s", exp.logs.String())
	}
}

func TestReload(t *testing.T) {
	sim := startSim(t, simulator.Options{})
	sim.sim.LoadDemoData()
	dir := t.TempDir()
	cfg := writeConfig(t, dir, serverSpec{name: "prod", sim: sim, sessions: []string{simulator.ReferenceSessionID}})
	exp := startExporter(t, cfg)

	reload := func() int {
		resp, err := http.Post(exp.url+"/-/reload", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if resp, err := http.Get(exp.url + "/-/reload"); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.StatusCode != http.StatusMethodNotAllowed { // an open body pins a connection (goleak)
		t.Errorf("GET /-/reload = %d, want 405", resp.StatusCode)
	}

	// Good reload: a second session appears.
	writeConfig(t, dir, serverSpec{name: "prod", sim: sim, sessions: []string{simulator.ReferenceSessionID, simulator.DemoFailedID}})
	if code := reload(); code != 200 {
		t.Fatalf("good reload = %d:\n%s", code, exp.logs.String())
	}
	r := scrape(t, exp.url+"/metrics", nil)
	if r.mustValue(t, "vb365_data_retrieval_session_scrape_success", l("session_id", simulator.DemoFailedID)) != 1 {
		t.Error("reloaded session missing")
	}
	if sim.sim.Stats().TokensIssued != 1 {
		t.Error("a reload that only changed sessions logged in again")
	}

	// Bad reload: rejected with a clear log line, the running config stays.
	if err := os.WriteFile(cfg, []byte("servers:\n  - name: prod\n    urll: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code := reload(); code != 500 {
		t.Errorf("bad reload = %d, want 500", code)
	}
	r = scrape(t, exp.url+"/metrics", nil)
	if r.mustValue(t, "vb365_exporter_config_last_reload_successful", nil) != 0 {
		t.Error("config_last_reload_successful != 0 after a bad reload")
	}
	if r.mustValue(t, "vb365_data_retrieval_session_scrape_success", l("session_id", simulator.DemoFailedID)) != 1 {
		t.Error("the running config was lost on a bad reload")
	}
	if !strings.Contains(exp.logs.String(), "urll") {
		t.Errorf("the log does not name the bad key:\n%s", exp.logs.String())
	}

}
