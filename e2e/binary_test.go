//go:build e2e

package e2e

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

// The harness of the tests that treat the exporter as its users do: the built binary, its
// command line, its HTTP endpoints and its log. The simulator runs in the test process
// behind real HTTPS, so that a test can change what it serves and see what it was asked.

const (
	simUser     = `EXAMPLE\monitoring`
	simPassword = "Very-Secret-P4ssw0rd!"
	unknownID   = "deadbeef-0000-4000-8000-000000000000"
)

// exporterBinary is the exporter, built once for all tests of the run by TestMain.
var exporterBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vb365-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	exporterBinary = filepath.Join(dir, "vb365_exporter")
	_, file, _, _ := runtime.Caller(0)
	build := exec.Command("go", "build", "-o", exporterBinary, ".")
	build.Dir = filepath.Dir(filepath.Dir(file))
	code := 1
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
	} else {
		code = m.Run()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// run runs the exporter binary with args and returns its exit code; cancelling ctx sends
// it SIGTERM, as a service manager stops it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := exec.CommandContext(ctx, exporterBinary, args...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode()
	case err != nil:
		fmt.Fprintln(stderr, "e2e: running the exporter:", err)
		return -1
	}
	return 0
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

// simServer is a simulator behind real HTTPS with its own CA file, as a user's VB365 is.
type simServer struct {
	sim    *simulator.Simulator
	url    string
	caFile string
}

func startSim(t *testing.T, opts simulator.Options) *simServer {
	t.Helper()
	return serveSim(t, opts, nil)
}

// rawSim is a simulator server with the demo data whose answers wrap may change.
type rawSim struct {
	wrap func(http.Handler) http.Handler
}

func startRawSim(t *testing.T, o rawSim) *simServer {
	t.Helper()
	s := serveSim(t, simulator.Options{}, o.wrap)
	s.sim.LoadDemoData()
	return s
}

func serveSim(t *testing.T, opts simulator.Options, wrap func(http.Handler) http.Handler) *simServer {
	t.Helper()
	if opts.Username == "" {
		opts.Username, opts.Password = simUser, simPassword
	}
	sim := simulator.New(opts)
	cert, caPEM, err := simulator.GenerateCert("127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = sim
	if wrap != nil {
		h = wrap(sim)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return &simServer{sim: sim, url: srv.URL, caFile: caFile}
}

// fixedSim is a simulator whose answers do not depend on the clock: the reference session
// and its retrieval with a fixed expiration.
func fixedSim(t *testing.T) *simServer {
	t.Helper()
	sim := startSim(t, simulator.Options{})
	if err := sim.sim.AddSession(simulator.ReferenceSession()); err != nil {
		t.Fatal(err)
	}
	if err := sim.sim.AddDataRetrieval(simulator.DataRetrieval{ID: simulator.ReferenceRetrievalID, Name: "Exchange retrieval",
		Type: simulator.RetrievalTypeExchange, DataState: simulator.DataStateRetrieved,
		ExpirationTime: time.Date(2022, 2, 4, 20, 52, 36, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	return sim
}

type serverSpec struct {
	name, version, password string
	sim                     *simServer
	url                     string // overrides sim.url
	sessions                []string
	extra                   string
}

// writeConfig writes a config of servers, each with a password file, into dir.
func writeConfig(t *testing.T, dir string, servers ...serverSpec) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("servers:\n")
	for i, s := range servers {
		pw := cmp.Or(s.password, simPassword)
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

// syncBuffer collects a process's output from several goroutines.
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
	// stop sends SIGTERM and returns the exit code.
	stop func() int
}

// startExporter runs the exporter binary on a free loopback port until the test ends.
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
		if i > 1500 { // a guard against a hang, not a timing assertion
			t.Fatalf("exporter did not start:\n%s", logs.String())
		}
	}
	return p
}

func get(t *testing.T, url string, header map[string]string) (int, string, http.Header) {
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
	return resp.StatusCode, string(body), resp.Header
}

type scrapeResult struct {
	status int
	body   string
	fams   map[string]*dto.MetricFamily
}

func scrape(t *testing.T, url string, header map[string]string) scrapeResult {
	t.Helper()
	status, body, _ := get(t, url, header)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("cannot parse %s: %v\n%s", url, err, body)
	}
	return scrapeResult{status: status, body: body, fams: fams}
}

// value returns the value of the first series of name whose labels include want; ok is
// false if there is none.
func (r scrapeResult) value(name string, want map[string]string) (float64, bool) {
	mf, ok := r.fams[name]
	if !ok {
		return 0, false
	}
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
		return m.GetGauge().GetValue() + m.GetCounter().GetValue() + m.GetUntyped().GetValue(), true
	}
	return 0, false
}

func (r scrapeResult) mustValue(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	v, ok := r.value(name, labels)
	if !ok {
		t.Fatalf("no series %s%v in:\n%s", name, labels, r.body)
	}
	return v
}

func l(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}
