package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

const pwFileConfig = `servers:
  - name: prod
    url: https://vb365.example.local:4443
    username: monitor
    password_file: pw
`

// syncBuffer lets the logger be written from ReloadConfig while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newTestSafeConfig(t *testing.T) (*SafeConfig, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	sc := NewSafeConfig(reg)
	sc.now = func() time.Time { return time.Unix(1700000000, 500_000_000) }
	return sc, reg
}

func TestNewSafeConfigRegistersGauges(t *testing.T) {
	_, reg := newTestSafeConfig(t)
	want := `
# HELP vb365_exporter_config_last_reload_success_timestamp_seconds Timestamp of the last successful configuration reload.
# TYPE vb365_exporter_config_last_reload_success_timestamp_seconds gauge
vb365_exporter_config_last_reload_success_timestamp_seconds 0
# HELP vb365_exporter_config_last_reload_successful Whether the last configuration reload attempt was successful.
# TYPE vb365_exporter_config_last_reload_successful gauge
vb365_exporter_config_last_reload_successful 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

func TestNewSafeConfigNilRegisterer(t *testing.T) {
	sc := NewSafeConfig(nil)
	if sc.Get() != nil {
		t.Error("Get() before any load should be nil")
	}
	path := writeConfig(t, validServer)
	if err := sc.ReloadConfig(path, nil); err != nil {
		t.Fatal(err)
	}
	if sc.Get() == nil {
		t.Error("Get() after a good load is nil")
	}
}

func TestReloadConfigGoodSwapsAndSetsGauges(t *testing.T) {
	sc, _ := newTestSafeConfig(t)
	path := writeConfig(t, validServer)
	var logs syncBuffer
	if err := sc.ReloadConfig(path, log.NewLogfmtLogger(&logs)); err != nil {
		t.Fatal(err)
	}
	first := sc.Get()
	if first == nil || first.Servers[0].Name != "prod" {
		t.Fatalf("Get() = %+v, want the prod config", first)
	}
	if got := testutil.ToFloat64(sc.reloadSuccess); got != 1 {
		t.Errorf("last_reload_successful = %v, want 1", got)
	}
	if got := testutil.ToFloat64(sc.reloadTimestamp); got != 1700000000.5 {
		t.Errorf("last_reload_success_timestamp_seconds = %v, want 1700000000.5", got)
	}
	if !strings.Contains(logs.String(), "level=info") || !strings.Contains(logs.String(), path) {
		t.Errorf("log %q should report the loaded file at info level", logs.String())
	}

	writeFile(t, path, strings.Replace(validServer, "name: prod", "name: staging", 1))
	if err := sc.ReloadConfig(path, log.NewNopLogger()); err != nil {
		t.Fatal(err)
	}
	second := sc.Get()
	if second == first {
		t.Fatal("a good reload must swap in a new *Config")
	}
	if _, ok := second.Server("staging"); !ok {
		t.Errorf("reloaded config lacks server staging: %+v", second)
	}
	if first.Servers[0].Name != "prod" {
		t.Error("a reload modified the previous *Config, which readers may still hold")
	}
}

func TestReloadConfigBadKeepsOldConfig(t *testing.T) {
	sc, _ := newTestSafeConfig(t)
	path := writeConfig(t, validServer)
	if err := sc.ReloadConfig(path, log.NewNopLogger()); err != nil {
		t.Fatal(err)
	}
	good := sc.Get()

	sc.now = func() time.Time { t.Error("timestamp must not be taken on a failed reload"); return time.Time{} }
	// The bad value is the password itself, to check the log line masks it.
	writeFile(t, path, validServer+"    api_version: hunter2\n")
	var logs syncBuffer
	err := sc.ReloadConfig(path, log.NewLogfmtLogger(&logs))
	if err == nil {
		t.Fatal("ReloadConfig accepted an invalid file")
	}
	if !strings.HasSuffix(err.Error(), `config.yml:6: servers[0].api_version: must be one of v6, v7, v8`) {
		t.Errorf("error %q does not explain the problem", err)
	}
	if sc.Get() != good {
		t.Error("a failed reload replaced the running config")
	}
	if got := testutil.ToFloat64(sc.reloadSuccess); got != 0 {
		t.Errorf("last_reload_successful = %v, want 0", got)
	}
	if got := testutil.ToFloat64(sc.reloadTimestamp); got != 1700000000.5 {
		t.Errorf("last_reload_success_timestamp_seconds = %v, want the previous success 1700000000.5", got)
	}
	out := logs.String()
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, "level=error") || !strings.Contains(out, "api_version") {
		t.Errorf("want exactly one error log line naming the problem, got %q", out)
	}
	if strings.Contains(out, "hunter2") {
		t.Errorf("log line leaks a password: %q", out)
	}
}

func TestReloadConfigRereadsPasswordFile(t *testing.T) {
	sc, _ := newTestSafeConfig(t)
	path := writeConfig(t, pwFileConfig)
	pw := filepath.Join(filepath.Dir(path), "pw")
	writeFile(t, pw, "first\n")
	if err := sc.ReloadConfig(path, log.NewNopLogger()); err != nil {
		t.Fatal(err)
	}
	if got := sc.Get().Servers[0].Secret(); got != "first" {
		t.Fatalf("Secret() = %q, want first", got)
	}

	writeFile(t, pw, "second\n")
	if err := sc.ReloadConfig(path, log.NewNopLogger()); err != nil {
		t.Fatal(err)
	}
	if got := sc.Get().Servers[0].Secret(); got != "second" {
		t.Errorf("after reload Secret() = %q, want second", got)
	}

	// A password file that disappears fails the reload and keeps the last good password.
	if err := os.Remove(pw); err != nil {
		t.Fatal(err)
	}
	if err := sc.ReloadConfig(path, log.NewNopLogger()); err == nil {
		t.Fatal("reload with a missing password file succeeded")
	}
	if got := sc.Get().Servers[0].Secret(); got != "second" {
		t.Errorf("after failed reload Secret() = %q, want second", got)
	}
}

// TestSafeConfigConcurrentAccess is meant for -race: scrapes read while reloads write.
func TestSafeConfigConcurrentAccess(t *testing.T) {
	sc, _ := newTestSafeConfig(t)
	path := writeConfig(t, validServer)
	if err := sc.ReloadConfig(path, log.NewNopLogger()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				if err := sc.ReloadConfig(path, log.NewNopLogger()); err != nil {
					t.Error(err)
				}
			}
		}()
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				if c := sc.Get(); c == nil || len(c.Servers) != 1 {
					t.Errorf("Get() = %+v during reloads", c)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestReloadConfigReportsEveryProblem: a failed reload says everything that is wrong, as
// --config.check does, not only the first mistake.
func TestReloadConfigReportsEveryProblem(t *testing.T) {
	sc, _ := newTestSafeConfig(t)
	path := writeConfig(t, validServer+"    api_version: v9\n    timeout: soon\n    sesions: []\n")
	var logs syncBuffer
	err := sc.ReloadConfig(path, log.NewLogfmtLogger(&logs))
	if err == nil {
		t.Fatal("ReloadConfig accepted an invalid file")
	}
	want := `config.yml:6: servers[0].api_version: must be one of v6, v7, v8` + "\n" +
		`config.yml:7: servers[0].timeout: must be a duration such as 30s, 5m or 1h` + "\n" +
		`config.yml:8: servers[0]: unknown key "sesions"; expected one of: ` + strings.Join(serverKeys(), ", ")
	if got := relErr(err, filepath.Dir(path)); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if strings.Count(logs.String(), "\n") != 1 || !strings.Contains(logs.String(), "sesions") {
		t.Errorf("want the problems in one error log line, got %q", logs.String())
	}
}

// TestFirstLoadFailureDoesNotSpeakOfAPreviousConfig: "keeping the previous one" is said only
// when there is one.
func TestFirstLoadFailureDoesNotSpeakOfAPreviousConfig(t *testing.T) {
	sc, _ := newTestSafeConfig(t)
	path := writeConfig(t, validServer+"    timeout: soon\n")
	var logs syncBuffer
	if sc.ReloadConfig(path, log.NewLogfmtLogger(&logs)) == nil {
		t.Fatal("ReloadConfig accepted an invalid file")
	}
	if strings.Contains(logs.String(), "previous") || !strings.Contains(logs.String(), "Error loading config") {
		t.Errorf("first failed load logged %q", logs.String())
	}
	writeFile(t, path, validServer)
	if err := sc.ReloadConfig(path, log.NewNopLogger()); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, validServer+"    timeout: soon\n")
	logs = syncBuffer{}
	if sc.ReloadConfig(path, log.NewLogfmtLogger(&logs)) == nil || !strings.Contains(logs.String(), "keeping the previous one") {
		t.Errorf("a failed reload over a running config logged %q", logs.String())
	}
}
