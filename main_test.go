package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/vb365-exporter/vb365_exporter/internal/testenv"
	"github.com/vb365-exporter/vb365_exporter/simulator"
)

const (
	simUser     = testenv.SimUser
	simPassword = testenv.SimPassword
)

// simServer is a simulator behind real HTTPS with its own CA file, as a user's VB365 is.
type simServer struct {
	sim    *simulator.Simulator
	spy    *spy
	url    string
	caFile string
	close  func()
}

func startSim(t *testing.T, opts simulator.Options) *simServer {
	t.Helper()
	if opts.Username == "" {
		opts.Username, opts.Password = simUser, simPassword
	}
	sim := simulator.New(opts)
	sp := &spy{next: sim}
	url, caFile, closeFn := testenv.ServeTLS(t, sp)
	return &simServer{sim: sim, spy: sp, url: url, caFile: caFile, close: closeFn}
}

type serverSpec struct {
	name, version, password string
	sim                     *simServer
	url                     string // overrides sim.url
	sessions                []string
	extra                   string
}

func writeConfig(t *testing.T, dir string, servers ...serverSpec) string {
	t.Helper()
	return testenv.WriteConfig(t, dir, simUser, simPassword, specs(servers)...)
}

// specs are the servers of a config, each at its simulator unless it names a URL.
func specs(servers []serverSpec) []testenv.Server {
	out := make([]testenv.Server, len(servers))
	for i, s := range servers {
		out[i] = testenv.Server{Name: s.name, Version: s.version, Password: s.password, URL: s.url,
			Sessions: s.sessions, Extra: s.extra}
		if s.sim != nil {
			out[i].URL, out[i].CAFile = cmp.Or(s.url, s.sim.url), s.sim.caFile
		}
	}
	return out
}

type syncBuffer = testenv.SyncBuffer

type exporterProc struct {
	url  string
	logs *syncBuffer
	stop func() int
}

// startExporter runs the whole program, as main does, on a free loopback port.
func startExporter(t *testing.T, configFile string, args ...string) *exporterProc {
	t.Helper()
	e := testenv.StartExporter(t, run, 250, configFile, args...)
	return &exporterProc{url: e.URL, logs: e.Logs, stop: e.Stop}
}

func freeAddr(t *testing.T) string { t.Helper(); return testenv.FreeAddr(t) }

// runCmd runs the program as main does and returns its exit code and output.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return testenv.RunCmd(t, run, args...)
}

type scrapeResult struct {
	status int
	body   string
	fams   map[string]*dto.MetricFamily
}

func scrape(t *testing.T, url string, header map[string]string) scrapeResult {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("cannot parse /metrics: %v\n%s", err, body)
	}
	return scrapeResult{status: resp.StatusCode, body: string(body), fams: fams}
}

// matching returns the series of name whose labels include want.
func (r scrapeResult) matching(name string, want map[string]string) []*dto.Metric {
	return testenv.Matching(r.fams, name, want)
}

// value returns the value of the first series of name whose labels include want; ok is
// false if there is none.
func (r scrapeResult) value(name string, want map[string]string) (float64, bool) {
	return testenv.Value(r.fams, name, want)
}

func (r scrapeResult) mustValue(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	return testenv.MustValue(t, r.fams, r.body, name, labels)
}

func (r scrapeResult) count(name string, labels map[string]string) int {
	return len(r.matching(name, labels))
}

func l(kv ...string) map[string]string { return testenv.Labels(kv...) }

// spy sits between the exporter and the simulator: it remembers every token handed out
// (to prove none leaks) and can rewrite answers to play a server the simulator is not, such
// as a future version with a new status.
type spy struct {
	next    http.Handler
	mu      sync.Mutex
	tokens  []string
	rewrite func(path string, body []byte) []byte
}

func (s *spy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	s.next.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	s.mu.Lock()
	if strings.HasSuffix(r.URL.Path, "/token") {
		var tok struct {
			Access  string `json:"access_token"`
			Refresh string `json:"refresh_token"`
		}
		if json.Unmarshal(body, &tok) == nil && tok.Access != "" {
			s.tokens = append(s.tokens, tok.Access, tok.Refresh)
		}
	}
	rewrite := s.rewrite
	s.mu.Unlock()
	if rewrite != nil {
		body = rewrite(r.URL.Path, body)
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
}

func (s *spy) issued() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.tokens...)
}

func (s *spy) setRewrite(fn func(path string, body []byte) []byte) {
	s.mu.Lock()
	s.rewrite = fn
	s.mu.Unlock()
}
