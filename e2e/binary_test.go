//go:build e2e

package e2e

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/vb365-exporter/vb365_exporter/internal/testenv"
	"github.com/vb365-exporter/vb365_exporter/simulator"
)

// The harness of the tests that treat the exporter as its users do: the built binary, its
// command line, its HTTP endpoints and its log. The simulator runs in the test process
// behind real HTTPS, so that a test can change what it serves and see what it was asked.

const (
	simUser     = testenv.SimUser
	simPassword = testenv.SimPassword
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
	var h http.Handler = sim
	if wrap != nil {
		h = wrap(sim)
	}
	url, caFile, _ := testenv.ServeTLS(t, h)
	return &simServer{sim: sim, url: url, caFile: caFile}
}

// fixedSim is a simulator whose answers do not depend on the clock: the reference session
// and its retrieval with a fixed expiration.
func fixedSim(t *testing.T) *simServer {
	t.Helper()
	sim := startSim(t, simulator.Options{})
	testenv.AddFixedData(t, sim.sim)
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
	out := make([]testenv.Server, len(servers))
	for i, s := range servers {
		out[i] = testenv.Server{Name: s.name, Version: s.version, Password: s.password, URL: s.url,
			Sessions: s.sessions, Extra: s.extra}
		if s.sim != nil { // at its simulator unless it names a URL
			out[i].URL, out[i].CAFile = cmp.Or(s.url, s.sim.url), s.sim.caFile
		}
	}
	return testenv.WriteConfig(t, dir, simUser, simPassword, out...)
}

// syncBuffer collects a process's output from several goroutines.
type syncBuffer = testenv.SyncBuffer

type exporterProc struct {
	url  string
	logs *syncBuffer
	// stop sends SIGTERM and returns the exit code.
	stop func() int
}

// startExporter runs the exporter binary on a free loopback port until the test ends.
func startExporter(t *testing.T, configFile string, args ...string) *exporterProc {
	t.Helper()
	e := testenv.StartExporter(t, run, 1500, configFile, args...)
	return &exporterProc{url: e.URL, logs: e.Logs, stop: e.Stop}
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
	return testenv.Value(r.fams, name, want)
}

func (r scrapeResult) mustValue(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	return testenv.MustValue(t, r.fams, r.body, name, labels)
}

func l(kv ...string) map[string]string { return testenv.Labels(kv...) }
