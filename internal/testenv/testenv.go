// Package testenv holds the harness that the exporter's own tests (package main) and the
// end-to-end tests (package e2e) share: a simulator behind real HTTPS, the config that
// points at it, the exporter started on a free port, and the tools a test needs. Only
// tests import it.
package testenv

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

// RequireTool finds a binary the test needs. Outside CI a missing tool skips with the
// command that installs it; in CI (CI=true) it fails, so CI can never pass by skipping.
func RequireTool(t testing.TB, name, install string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not found in CI; .ci/run must install it (%s)", name, install)
	}
	t.Skipf("%s not installed; run: %s", name, install)
	return ""
}

// ServeTLS serves h over HTTPS with a fresh certificate for 127.0.0.1 until the test ends,
// and writes the CA file a config trusts it by.
func ServeTLS(t testing.TB, h http.Handler) (url, caFile string, closeFn func()) {
	t.Helper()
	cert, caPEM, err := simulator.GenerateCert("127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return srv.URL, caFile, srv.Close
}

// AddFixedData gives sim answers that do not depend on the clock: the reference session
// and its retrieval with a fixed expiration.
func AddFixedData(t testing.TB, sim *simulator.Simulator) {
	t.Helper()
	if err := sim.AddSession(simulator.ReferenceSession()); err != nil {
		t.Fatal(err)
	}
	if err := sim.AddDataRetrieval(simulator.DataRetrieval{ID: simulator.ReferenceRetrievalID, Name: "Exchange retrieval",
		Type: simulator.RetrievalTypeExchange, DataState: simulator.DataStateRetrieved,
		ExpirationTime: time.Date(2022, 2, 4, 20, 52, 36, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
}

// SimUser and SimPassword are what the tests' simulators accept by default.
const (
	SimUser     = `EXAMPLE\monitoring`
	SimPassword = "Very-Secret-P4ssw0rd!"
)

// Server is one entry of the servers list WriteConfig writes.
type Server struct {
	Name, Version, Password, URL, CAFile string
	Sessions                             []string
	Extra                                string // raw YAML appended to the entry
}

// WriteConfig writes a config of servers, each with a password file (password unless the
// server has its own), into dir and returns its path.
func WriteConfig(t testing.TB, dir, user, password string, servers ...Server) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("servers:\n")
	for i, s := range servers {
		pwFile := filepath.Join(dir, fmt.Sprintf("password-%d", i))
		if err := os.WriteFile(pwFile, []byte(cmp.Or(s.Password, password)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "  - name: %s\n    url: %s\n    username: '%s'\n    password_file: %s\n", s.Name, s.URL, user, pwFile)
		if s.Version != "" {
			fmt.Fprintf(&b, "    api_version: %s\n", s.Version)
		}
		if s.CAFile != "" {
			fmt.Fprintf(&b, "    tls_config:\n      ca_file: %s\n", s.CAFile)
		}
		b.WriteString(s.Extra)
		b.WriteString("    sessions:\n")
		for _, id := range s.Sessions {
			fmt.Fprintf(&b, "      - %s\n", id)
		}
	}
	path := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// SyncBuffer collects a process's output from several goroutines.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// RunFunc runs the exporter with args, as main or its binary does, and returns the exit
// code; cancelling ctx stops it.
type RunFunc func(ctx context.Context, args []string, stdout, stderr io.Writer) int

// RunCmd runs the exporter once and returns its exit code and output.
func RunCmd(t testing.TB, run RunFunc, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := run(ctx, args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// FreeAddr returns a loopback address nothing listens on right now.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Exporter is an exporter started by StartExporter.
type Exporter struct {
	URL  string
	Logs *SyncBuffer
	Stop func() int // stops it (once) and returns the exit code
}

// StartExporter runs the exporter on a free loopback port until the test ends and waits
// until it is healthy; tries bounds that wait (20ms a try) against a hang, it is no timing
// assertion.
func StartExporter(t testing.TB, run RunFunc, tries int, configFile string, args ...string) *Exporter {
	t.Helper()
	addr := FreeAddr(t)
	logs := &SyncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	args = append([]string{"--config.file=" + configFile, "--web.listen-address=" + addr, "--log.level=debug"}, args...)
	go func() { done <- run(ctx, args, io.Discard, logs) }()
	p := &Exporter{URL: "http://" + addr, Logs: logs}
	var once sync.Once
	code := 0
	p.Stop = func() int {
		once.Do(func() { cancel(); code = <-done })
		return code
	}
	t.Cleanup(func() { p.Stop() })
	for i := 0; ; i++ {
		resp, err := http.Get(p.URL + "/-/healthy")
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case c := <-done:
			done <- c // for Stop
			t.Fatalf("exporter exited with %d:\n%s", c, logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if i > tries {
			t.Fatalf("exporter did not start:\n%s", logs.String())
		}
	}
	return p
}

// Matching returns the series of name in fams whose labels include want.
func Matching(fams map[string]*dto.MetricFamily, name string, want map[string]string) []*dto.Metric {
	mf, ok := fams[name]
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

// Value returns the value of the first series of name in fams whose labels include want;
// ok is false if there is none.
func Value(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	ms := Matching(fams, name, want)
	if len(ms) == 0 {
		return 0, false
	}
	m := ms[0]
	return m.GetGauge().GetValue() + m.GetCounter().GetValue() + m.GetUntyped().GetValue(), true
}

// MustValue is Value, failing the test with the scraped body if there is no such series.
func MustValue(t testing.TB, fams map[string]*dto.MetricFamily, body, name string, labels map[string]string) float64 {
	t.Helper()
	v, ok := Value(fams, name, labels)
	if !ok {
		t.Fatalf("no series %s%v in:\n%s", name, labels, body)
	}
	return v
}

// Labels makes a label set of name, value pairs.
func Labels(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}
