package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

const (
	simUser     = `EXAMPLE\monitoring`
	simPassword = "Very-Secret-P4ssw0rd!"
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
	cert, caPEM, err := simulator.GenerateCert("127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	sp := &spy{next: sim}
	srv := httptest.NewUnstartedServer(sp)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return &simServer{sim: sim, spy: sp, url: srv.URL, caFile: caFile, close: srv.Close}
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
	var b strings.Builder
	b.WriteString("servers:\n")
	for i, s := range servers {
		pw := s.password
		if pw == "" {
			pw = simPassword
		}
		pwFile := filepath.Join(dir, fmt.Sprintf("password-%d", i))
		if err := os.WriteFile(pwFile, []byte(pw+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		u := s.url
		if u == "" {
			u = s.sim.url
		}
		fmt.Fprintf(&b, "  - name: %s\n    url: %s\n    username: '%s'\n    password_file: %s\n", s.name, u, simUser, pwFile)
		if s.version != "" {
			fmt.Fprintf(&b, "    api_version: %s\n", s.version)
		}
		if s.sim != nil {
			fmt.Fprintf(&b, "    tls_config:\n      ca_file: %s\n", s.sim.caFile)
		}
		b.WriteString(s.extra)
		b.WriteString("    sessions:\n")
		for _, id := range s.sessions {
			fmt.Fprintf(&b, "      - %s\n", id)
		}
	}
	path := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// syncBuffer collects the exporter's log output from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

type exporterProc struct {
	url  string
	logs *syncBuffer
	stop func() int
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startExporter runs the whole program, as main does, on a free loopback port.
func startExporter(t *testing.T, configFile string, args ...string) *exporterProc {
	t.Helper()
	addr := freeAddr(t)
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	args = append([]string{"--config.file=" + configFile, "--web.listen-address=" + addr, "--log.level=debug"}, args...)
	go func() { done <- run(ctx, args, io.Discard, logs) }()
	p := &exporterProc{url: "http://" + addr, logs: logs}
	var once sync.Once
	code := 0
	p.stop = func() int {
		once.Do(func() { cancel(); code = <-done })
		return code
	}
	t.Cleanup(func() { p.stop() })
	for i := 0; ; i++ {
		resp, err := http.Get(p.url + "/-/healthy")
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case c := <-done:
			done <- c // for stop
			t.Fatalf("exporter exited with %d:\n%s", c, logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if i > 250 {
			t.Fatalf("exporter did not start:\n%s", logs.String())
		}
	}
	return p
}

// runCmd runs the program as main does and returns its exit code and output.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := run(ctx, args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
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
	mf, ok := r.fams[name]
	if !ok {
		return nil
	}
	var out []*dto.Metric
next:
	for _, m := range mf.Metric {
		got := map[string]string{}
		for _, lp := range m.Label {
			got[lp.GetName()] = lp.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		out = append(out, m)
	}
	return out
}

// value returns the value of the first series of name whose labels include want; ok is
// false if there is none.
func (r scrapeResult) value(name string, want map[string]string) (float64, bool) {
	ms := r.matching(name, want)
	if len(ms) == 0 {
		return 0, false
	}
	m := ms[0]
	return m.GetGauge().GetValue() + m.GetCounter().GetValue() + m.GetUntyped().GetValue(), true
}

func (r scrapeResult) mustValue(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	v, ok := r.value(name, labels)
	if !ok {
		t.Fatalf("no series %s%v in:\n%s", name, labels, r.body)
	}
	return v
}

func (r scrapeResult) count(name string, labels map[string]string) int {
	return len(r.matching(name, labels))
}

func l(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

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
