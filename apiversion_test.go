package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

// A v6 server configured as v8 (issue 20 point 1): the log, the landing page and the
// up-failure reason say api_version may be wrong and which versions the server answers,
// instead of a bare 404.
func TestWrongAPIVersionExplained(t *testing.T) {
	sim := startSim(t, simulator.Options{})
	sim.sim.LoadDemoData()
	next := sim.spy.next
	sim.spy.next = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/v6/") {
			http.NotFound(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
	cfg := writeConfig(t, t.TempDir(), serverSpec{name: "prod", version: "v8", sim: sim, sessions: []string{simulator.ReferenceSessionID}})
	exp := startExporter(t, cfg)
	for range 2 {
		if r := scrape(t, exp.url+"/metrics", nil); r.mustValue(t, "vb365_up", l("server", "prod")) != 0 {
			t.Fatal("vb365_up is not 0 with the wrong api_version")
		}
	}
	const hint = "api_version v8 may be wrong: the server answers v6 at this url (set api_version: v6)"
	if n := countLines(exp.logs.String(), `msg="VB365 server not usable"`, hint); n != 1 {
		t.Errorf("%d 'server not usable' lines with %q, want 1:\n%s", n, hint, exp.logs.String())
	}
	_, _, doc := getPage(t, exp.url+"/")
	if s := domText(serverSection(t, doc, "prod")); !strings.Contains(s, "api_version not served — token: HTTP 404 Not Found") || !strings.Contains(s, hint) {
		t.Errorf("the landing page does not explain the 404:\n%s", s)
	}
}
