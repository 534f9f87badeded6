package main

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

// tokenAnswers is the status the simulator gives a GET made with the access token tok.
func tokenAnswers(t *testing.T, sim *simServer, version, tok string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, sim.url+"/"+version+"/DataRetrievalSessions/"+simulator.ReferenceSessionID, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	ca, err := os.ReadFile(sim.caFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestLogoutOnReloadAndShutdown: a reload that removes a server logs out its token and drops
// its self-metrics; stopping the exporter logs out the rest, so no token outlives it.
func TestLogoutOnReloadAndShutdown(t *testing.T) {
	prod, gone := startSim(t, simulator.Options{}), startSim(t, simulator.Options{})
	prod.sim.LoadDemoData()
	gone.sim.LoadDemoData()
	dir := t.TempDir()
	keep := serverSpec{name: "prod", version: "v8", sim: prod, sessions: []string{simulator.ReferenceSessionID}}
	cfg := writeConfig(t, dir, keep, serverSpec{name: "gone", version: "v7", sim: gone, sessions: []string{simulator.ReferenceSessionID}})
	exp := startExporter(t, cfg)
	r := scrape(t, exp.url+"/metrics", nil)
	if r.mustValue(t, "vb365_up", l("server", "gone")) != 1 || r.mustValue(t, "vb365_up", l("server", "prod")) != 1 {
		t.Fatalf("servers not up:\n%s", r.body)
	}

	writeConfig(t, dir, keep)
	postReload(t, exp)
	if !waitUntil(func() bool { return gone.sim.Stats().ByEndpoint[simulator.EndpointLogout] == 1 }) {
		t.Errorf("%d logouts from the removed server, want 1", gone.sim.Stats().ByEndpoint[simulator.EndpointLogout])
	}
	for _, tok := range accessTokens(gone) {
		if code := tokenAnswers(t, gone, "v7", tok); code != http.StatusUnauthorized {
			t.Errorf("the removed server's token still answers %d", code)
		}
	}
	r = scrape(t, exp.url+"/metrics", nil)
	for name, mf := range r.fams {
		if n := r.count(name, l("server", "gone")); n > 0 {
			t.Errorf("%d series of %s (%s) still carry the removed server's label", n, name, mf.GetType())
		}
	}
	if prod.sim.Stats().ByEndpoint[simulator.EndpointLogout] != 0 {
		t.Error("the server that stayed was logged out by the reload")
	}

	if code := exp.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	// The simulator counts a request once its answer is sent: poll.
	if !waitUntil(func() bool { return prod.sim.Stats().ByEndpoint[simulator.EndpointLogout] == 1 }) {
		t.Errorf("%d logouts at shutdown, want 1", prod.sim.Stats().ByEndpoint[simulator.EndpointLogout])
	}
	for _, tok := range accessTokens(prod) {
		if code := tokenAnswers(t, prod, "v8", tok); code != http.StatusUnauthorized {
			t.Errorf("a token still answers %d after the exporter stopped", code)
		}
	}
	if strings.Contains(exp.logs.String(), "logout failed") {
		t.Errorf("a logout failed:\n%s", exp.logs.String())
	}
}

// accessTokens are the access tokens the simulator behind sim handed out.
func accessTokens(sim *simServer) []string {
	issued := sim.spy.issued() // access, refresh, access, refresh, ...
	var out []string
	for i := 0; i < len(issued); i += 2 {
		out = append(out, issued[i])
	}
	return out
}

// waitUntil polls cond; the bound is generous, the assertion is on the state, not the time.
func waitUntil(cond func() bool) bool {
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}
