package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

// These tests give the running exporter each fault of docs/faults.md and check what a user
// sees: the scrape answers within its deadline, only the affected sessions get
// scrape_success 0, and the log names the cause once, not once per session per scrape.

// faultScrapeTimeout is what Prometheus announces; the exporter answers 0.5 s earlier.
const faultScrapeTimeout = 4 * time.Second

func faultScrape(t *testing.T, exp *exporterProc) scrapeResult {
	t.Helper()
	start := time.Now()
	r := scrape(t, exp.url+"/metrics", map[string]string{"X-Prometheus-Scrape-Timeout-Seconds": fmt.Sprint(faultScrapeTimeout.Seconds())})
	// Not a speed assertion: past this, Prometheus has given up and the scrape is lost.
	if elapsed := time.Since(start); elapsed >= faultScrapeTimeout {
		t.Errorf("scrape took %v, past the %v scrape timeout", elapsed, faultScrapeTimeout)
	}
	if r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	return r
}

// logfmtPair renders key=value as go-kit's logfmt writes it.
func logfmtPair(k, v string) string {
	if strings.ContainsAny(v, " \"=") {
		return fmt.Sprintf("%s=%q", k, v)
	}
	return k + "=" + v
}

// countLines counts log lines that contain every one of parts.
func countLines(logs string, parts ...string) int {
	n := 0
next:
	for _, line := range strings.Split(logs, "\n") {
		for _, p := range parts {
			if !strings.Contains(line, p) {
				continue next
			}
		}
		n++
	}
	return n
}

// showWarnings puts the warnings in the verbose test output: what a user would read.
func showWarnings(t *testing.T, logs string) {
	t.Helper()
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "level=warn") {
			t.Log(line)
		}
	}
}

// onlyScrapeSuccess checks that a failed session has scrape_success 0 and no other series.
func onlyScrapeSuccess(t *testing.T, r scrapeResult, id string) {
	t.Helper()
	if got := r.mustValue(t, "vb365_data_retrieval_session_scrape_success", l("session_id", id)); got != 0 {
		t.Errorf("scrape_success{%s} = %v, want 0", id, got)
	}
	for name := range r.fams {
		if name != "vb365_data_retrieval_session_scrape_success" && r.count(name, l("session_id", id)) > 0 {
			t.Errorf("failed session %s has a %s series", id, name)
		}
	}
}

func TestSessionFaults(t *testing.T) {
	healthy := []string{simulator.ReferenceSessionID, simulator.DemoWarningID}
	faulty := simulator.DemoFailedID
	for _, tc := range []struct {
		name   string
		fault  simulator.Fault
		reason string // the log line's reason=
		extra  string
		// sideEffects: the fault may also fail the concurrent data retrieval read.
		sideEffects bool
	}{
		{name: "500", fault: simulator.Fault{Kind: simulator.FaultStatus, Status: 500}, reason: "HTTP 500"},
		{name: "503", fault: simulator.Fault{Kind: simulator.FaultStatus, Status: 503}, reason: "HTTP 503"},
		{name: "HTML 502", fault: simulator.Fault{Kind: simulator.FaultNonJSON}, reason: "HTTP 502"},
		{name: "malformed JSON", fault: simulator.Fault{Kind: simulator.FaultMalformed}, reason: "malformed answer"},
		{name: "truncated", fault: simulator.Fault{Kind: simulator.FaultTruncated}, reason: "answer cut off"},
		{name: "huge body", fault: simulator.Fault{Kind: simulator.FaultHuge, Bytes: 16 << 20}, reason: "answer too large"},
		{name: "stall", fault: simulator.Fault{Kind: simulator.FaultStall}, reason: "timeout"},
		{name: "latency past timeout", fault: simulator.Fault{Kind: simulator.FaultLatency, Latency: time.Minute}, reason: "timeout"},
		{name: "connection reset", fault: simulator.Fault{Kind: simulator.FaultReset}, reason: "connection error"},
		// One worker: a per-session 401 that revokes the token races with the other
		// sessions' renewals otherwise (real servers answer 403 for a forbidden object).
		// The data retrieval list is read alongside and can lose that race.
		{name: "401 on one session", fault: simulator.Fault{Kind: simulator.FaultUnauthorized}, reason: "HTTP 401",
			extra: "    max_concurrent_requests: 1\n", sideEffects: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Not startSim: its spy re-frames answers, which would turn a truncated body
			// into a complete short one.
			sim := startSimWithCert(t, nil, "127.0.0.1")
			f := tc.fault
			f.Endpoint, f.SessionID = simulator.EndpointSession, faulty
			if err := sim.sim.SetFault(f); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(sim.sim.ClearFaults)
			cfg := writeConfig(t, t.TempDir(), serverSpec{name: "prod", sim: sim,
				sessions: append([]string{faulty}, healthy...), extra: "    cache_ttl: 0s\n    timeout: 1s\n" + tc.extra})
			exp := startExporter(t, cfg)
			for range 3 {
				r := faultScrape(t, exp)
				onlyScrapeSuccess(t, r, faulty)
				for _, id := range healthy {
					if got := r.mustValue(t, "vb365_data_retrieval_session_scrape_success", l("session_id", id)); got != 1 {
						t.Errorf("healthy session %s scrape_success = %v", id, got)
					}
				}
				if got := r.mustValue(t, "vb365_up", l("server", "prod")); got != 1 {
					t.Errorf("vb365_up = %v; the server answered for the other sessions", got)
				}
			}
			logs := exp.logs.String()
			showWarnings(t, logs)
			if n := countLines(logs, `msg="sessions not read"`, logfmtPair("reason", tc.reason), faulty); n != 1 {
				t.Errorf("%d log lines for reason %q over 3 scrapes, want 1:\n%s", n, tc.reason, logs)
			}
			if n := countLines(logs, "level=warn"); n != 1 && !tc.sideEffects {
				t.Errorf("%d warnings, want 1:\n%s", n, logs)
			}
			sim.sim.ClearFaults()
			r := faultScrape(t, exp)
			if got := r.mustValue(t, "vb365_data_retrieval_session_scrape_success", l("session_id", faulty)); got != 1 {
				t.Errorf("after the fault cleared, scrape_success = %v", got)
			}
			if !strings.Contains(exp.logs.String(), `msg="failure cleared"`) {
				t.Errorf("no log line says the failure cleared:\n%s", exp.logs.String())
			}
		})
	}
}

// Faults that hit every request make the server unusable: up 0, every session 0, one log line.
func TestServerFaults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault simulator.Fault
		want  string // in the single "server not usable" log line
	}{
		{name: "token endpoint 503", fault: simulator.Fault{Endpoint: simulator.EndpointToken, Kind: simulator.FaultStatus, Status: 503}, want: "token: HTTP 503"},
		{name: "token endpoint resets", fault: simulator.Fault{Endpoint: simulator.EndpointToken, Kind: simulator.FaultReset}, want: "connection"},
		{name: "token answer not JSON", fault: simulator.Fault{Endpoint: simulator.EndpointToken, Kind: simulator.FaultMalformed}, want: "token: malformed answer"},
		{name: "everything resets", fault: simulator.Fault{Endpoint: simulator.EndpointAny, Kind: simulator.FaultReset}, want: "connection"},
		{name: "everything stalls", fault: simulator.Fault{Endpoint: simulator.EndpointAny, Kind: simulator.FaultStall}, want: "scrape deadline"},
		{name: "every request 500", fault: simulator.Fault{Endpoint: simulator.EndpointAny, Kind: simulator.FaultStatus, Status: 500}, want: "HTTP 500"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim := startSim(t, simulator.Options{})
			sim.sim.LoadDemoData()
			if err := sim.sim.SetFault(tc.fault); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(sim.sim.ClearFaults)
			// A request timeout longer than the scrape: the scrape deadline must win.
			cfg := writeConfig(t, t.TempDir(), serverSpec{name: "prod", sim: sim,
				sessions: []string{simulator.ReferenceSessionID, simulator.DemoFailedID}, extra: "    cache_ttl: 0s\n    timeout: 30s\n"})
			exp := startExporter(t, cfg)
			for range 3 {
				r := faultScrape(t, exp)
				if got := r.mustValue(t, "vb365_up", l("server", "prod")); got != 0 {
					t.Errorf("vb365_up = %v, want 0", got)
				}
				onlyScrapeSuccess(t, r, simulator.ReferenceSessionID)
				onlyScrapeSuccess(t, r, simulator.DemoFailedID)
			}
			logs := exp.logs.String()
			showWarnings(t, logs)
			if n := countLines(logs, `msg="VB365 server not usable"`); n != 1 {
				t.Errorf("%d 'server not usable' lines over 3 scrapes, want 1:\n%s", n, logs)
			}
			if n := countLines(logs, `msg="VB365 server not usable"`, tc.want); n != 1 {
				t.Errorf("the log line does not say %q:\n%s", tc.want, logs)
			}
		})
	}
}

// A wrong password is tried once per backoff period, however many scrapes and sessions ask,
// and logged once.
func TestBadCredentialsNoRetryStorm(t *testing.T) {
	sim := startSim(t, simulator.Options{})
	sim.sim.LoadDemoData()
	cfg := writeConfig(t, t.TempDir(), serverSpec{name: "prod", sim: sim, password: "not-the-password",
		sessions: simulator.DemoSessionIDs(), extra: "    cache_ttl: 0s\n"})
	exp := startExporter(t, cfg)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				r := scrape(t, exp.url+"/metrics", nil)
				if v, ok := r.value("vb365_up", l("server", "prod")); !ok || v != 0 {
					t.Errorf("vb365_up = %v, %v", v, ok)
				}
			}
		}()
	}
	wg.Wait()
	st := sim.sim.Stats()
	if n := st.ByEndpoint[simulator.EndpointToken]; n != 1 {
		t.Errorf("token requests for 20 scrapes of %d sessions = %d, want 1", len(simulator.DemoSessionIDs()), n)
	}
	if n := st.ByEndpoint[simulator.EndpointSession]; n != 0 {
		t.Errorf("session requests without a token = %d", n)
	}
	logs := exp.logs.String()
	showWarnings(t, logs)
	if n := countLines(logs, "authentication failed", "check username and password"); n != 1 {
		t.Errorf("%d 'authentication failed' lines, want 1:\n%s", n, logs)
	}
	if n := countLines(logs, "level=warn"); n != 1 {
		t.Errorf("%d warnings, want 1:\n%s", n, logs)
	}
}

// A revoked token is renewed once; the scrape does not notice.
func TestRevokedTokenDuringScrapes(t *testing.T) {
	sim := startSim(t, simulator.Options{})
	sim.sim.LoadDemoData()
	cfg := writeConfig(t, t.TempDir(), serverSpec{name: "prod", sim: sim,
		sessions: []string{simulator.ReferenceSessionID}, extra: "    cache_ttl: 0s\n"})
	exp := startExporter(t, cfg)
	faultScrape(t, exp)
	if err := sim.sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointSession, Kind: simulator.FaultUnauthorized, Count: 1}); err != nil {
		t.Fatal(err)
	}
	r := faultScrape(t, exp)
	if r.mustValue(t, "vb365_up", nil) != 1 || r.mustValue(t, "vb365_data_retrieval_session_scrape_success", nil) != 1 {
		t.Errorf("scrape after revocation failed:\n%s", r.body)
	}
	if n := sim.sim.Stats().TokensIssued; n != 2 {
		t.Errorf("tokens issued = %d, want 2", n)
	}
	if strings.Contains(exp.logs.String(), "level=warn") {
		t.Errorf("a renewed token was logged as a failure:\n%s", exp.logs.String())
	}
}

// A 429 stops requests to the server until Retry-After passes; the sessions not read say why.
func TestRateLimitHonoursRetryAfter(t *testing.T) {
	sim := startSim(t, simulator.Options{})
	sim.sim.LoadDemoData()
	if err := sim.sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointSession, SessionID: simulator.DemoFailedID,
		Kind: simulator.FaultRateLimit, RetryAfter: time.Hour}); err != nil {
		t.Fatal(err)
	}
	// One worker reads the sessions in config order, so the first is read before the 429.
	cfg := writeConfig(t, t.TempDir(), serverSpec{name: "prod", sim: sim,
		sessions: []string{simulator.ReferenceSessionID, simulator.DemoFailedID, simulator.DemoWarningID},
		extra:    "    cache_ttl: 0s\n    max_concurrent_requests: 1\n"})
	exp := startExporter(t, cfg)
	r := faultScrape(t, exp)
	for id, want := range map[string]float64{simulator.ReferenceSessionID: 1, simulator.DemoFailedID: 0, simulator.DemoWarningID: 0} {
		if got := r.mustValue(t, "vb365_data_retrieval_session_scrape_success", l("session_id", id)); got != want {
			t.Errorf("first scrape: scrape_success{%s} = %v, want %v", id, got, want)
		}
	}
	sent := sim.sim.Stats().Total
	for range 3 {
		r = faultScrape(t, exp)
		if r.mustValue(t, "vb365_up", nil) != 0 {
			t.Error("vb365_up = 1 while no request was sent")
		}
		for _, id := range []string{simulator.ReferenceSessionID, simulator.DemoFailedID, simulator.DemoWarningID} {
			onlyScrapeSuccess(t, r, id)
		}
	}
	if got := sim.sim.Stats().Total; got != sent {
		t.Errorf("%d requests sent while the server asked to wait", got-sent)
	}
	logs := exp.logs.String()
	showWarnings(t, logs)
	for _, want := range []string{`reason="HTTP 429"`, `reason="waiting for Retry-After"`} {
		if n := countLines(logs, `msg="sessions not read"`, want); n != 1 {
			t.Errorf("%d lines with %s, want 1:\n%s", n, want, logs)
		}
	}
}

// rawSim describes a simulator server without startSim's spy.
type rawSim struct {
	// hosts the certificate is for; 127.0.0.1 when empty.
	hosts []string
	// trust is the CA PEM the exporter is told to trust; the server's own when nil.
	trust []byte
	// wrap, when set, sits between the connection and the simulator.
	wrap func(http.Handler) http.Handler
	// connState observes the server's connections.
	connState func(net.Conn, http.ConnState)
}

// startSimWithCert is startSim with a certificate for hosts, without the spy (which
// re-frames answers and so hides a truncated body).
func startSimWithCert(t *testing.T, trust []byte, hosts ...string) *simServer {
	t.Helper()
	return startRawSim(t, rawSim{hosts: hosts, trust: trust})
}

func startRawSim(t *testing.T, o rawSim) *simServer {
	t.Helper()
	if len(o.hosts) == 0 {
		o.hosts = []string{"127.0.0.1"}
	}
	sim := simulator.New(simulator.Options{Username: simUser, Password: simPassword})
	sim.LoadDemoData()
	cert, caPEM, err := simulator.GenerateCert(o.hosts...)
	if err != nil {
		t.Fatal(err)
	}
	if o.trust == nil {
		o.trust = caPEM
	}
	var h http.Handler = sim
	if o.wrap != nil {
		h = o.wrap(sim)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point of some tests
	srv.Config.ConnState = o.connState
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, o.trust, 0o600); err != nil {
		t.Fatal(err)
	}
	return &simServer{sim: sim, url: srv.URL, caFile: caFile, close: srv.Close}
}

func TestTLSFaultsNameTheFix(t *testing.T) {
	_, otherCA, err := simulator.GenerateCert("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	untrusted := startSimWithCert(t, otherCA, "127.0.0.1")
	wrongHost := startSimWithCert(t, nil, "vb365.example.com")
	ids := []string{simulator.ReferenceSessionID}
	cfg := writeConfig(t, t.TempDir(),
		serverSpec{name: "untrusted", sim: untrusted, sessions: ids},
		serverSpec{name: "wronghost", sim: wrongHost, sessions: ids},
		// The fixes the messages name, applied: both servers are then usable.
		serverSpec{name: "skipverify", url: untrusted.url, sessions: ids, extra: "    tls_config:\n      insecure_skip_verify: true\n"},
		serverSpec{name: "servername", url: wrongHost.url, sessions: ids,
			extra: "    tls_config:\n      ca_file: " + wrongHost.caFile + "\n      server_name: vb365.example.com\n"},
	)
	exp := startExporter(t, cfg)
	for range 2 {
		r := faultScrape(t, exp)
		for server, want := range map[string]float64{"untrusted": 0, "wronghost": 0, "skipverify": 1, "servername": 1} {
			if got := r.mustValue(t, "vb365_up", l("server", server)); got != want {
				t.Errorf("vb365_up{server=%s} = %v, want %v", server, got, want)
			}
		}
	}
	logs := exp.logs.String()
	showWarnings(t, logs)
	if n := countLines(logs, "server=untrusted", "not usable", "tls_config.ca_file", "insecure_skip_verify"); n != 1 {
		t.Errorf("untrusted certificate: %d log lines naming ca_file and insecure_skip_verify, want 1:\n%s", n, logs)
	}
	if n := countLines(logs, "server=wronghost", "not usable", "tls_config.server_name"); n != 1 {
		t.Errorf("wrong host name: %d log lines naming server_name, want 1:\n%s", n, logs)
	}
}
