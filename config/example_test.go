package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

const examplePath = "../config.example.yml"

// TestExampleConfigLoads keeps config.example.yml, the documented contract, loadable. Its
// absolute /etc paths are redirected to a temp dir so that no real system file is needed.
func TestExampleConfigLoads(t *testing.T) {
	raw, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if !strings.Contains(string(raw), "/etc/vb365_exporter/") {
		t.Fatal("example no longer uses /etc/vb365_exporter/ paths; update this test")
	}
	rewritten := strings.ReplaceAll(string(raw), "/etc/vb365_exporter/", dir+"/")
	path := filepath.Join(dir, "config.yml")
	writeFile(t, path, rewritten)
	writeFile(t, filepath.Join(dir, "password"), "example-password\n")
	writeCA(t, filepath.Join(dir, "vb365-ca.pem"))

	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Servers) != 1 {
		t.Fatalf("got %d servers, want 1", len(cfg.Servers))
	}
	s := cfg.Servers[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"name", s.Name, "prod"},
		{"url", s.URL, "https://vb365.example.local:4443"},
		{"api_version", s.APIVersion, "v6"},
		{"username", s.Username, `EXAMPLE\monitoring`},
		{"password_file", s.PasswordFile, filepath.Join(dir, "password")},
		{"secret", s.Secret(), "example-password"},
		{"ca_file", s.TLSConfig.CAFile, filepath.Join(dir, "vb365-ca.pem")},
		{"insecure_skip_verify", s.TLSConfig.InsecureSkipVerify, false},
		{"timeout", s.Timeout, Duration(10 * time.Second)},
		{"max_concurrent_requests", s.MaxConcurrentRequests, 8},
		{"max_retrievals", s.MaxRetrievals, 1000},
		{"cache_ttl", s.CacheTTLDuration(), 10 * time.Minute},
		{"sessions", len(s.Sessions), 0},
		{"discovery max_age", s.Discovery.MaxAge, Duration(24 * time.Hour)},
		{"discovery max_sessions", s.Discovery.MaxSessions, 10000},
		{"collect", s.Collect == nil, true},
		{"max_jobs", s.MaxJobs, 1000},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

// TestExampleDocumentsEveryKey fails when a key is added to the structs without documenting
// it in the example, which is the user-facing reference.
func TestExampleDocumentsEveryKey(t *testing.T) {
	raw, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[Config](), reflect.TypeFor[ServerConfig](),
		reflect.TypeFor[TLSConfig](), reflect.TypeFor[DiscoveryConfig]()} {
		keys, _ := yamlFields(typ)
		for _, key := range keys {
			re := regexp.MustCompile(`(?m)^\s*# ` + regexp.QuoteMeta(key) + `:`)
			if !re.Match(raw) {
				t.Errorf("config.example.yml has no comment line starting with %q", "# "+key+":")
			}
		}
	}
}

// TestExampleOptionalLinesLoad: the lines written `#key: value` load as they are once
// uncommented, and mean what their comments say.
func TestExampleOptionalLinesLoad(t *testing.T) {
	raw, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	uncommented := regexp.MustCompile(`(?m)^(\s*)#([^\s#])`).ReplaceAllString(string(raw), "$1$2")
	if uncommented == string(raw) {
		t.Fatal("config.example.yml has no optional `#key: value` line")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yml")
	writeFile(t, path, uncommented)
	writeFile(t, filepath.Join(dir, "password"), "example-password\n")
	writeCA(t, filepath.Join(dir, "vb365-ca.pem"))
	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("%v\n%s", err, uncommented)
	}
	s := cfg.Servers[0]
	d := s.Discovery
	if fmt.Sprint(s.Sessions) != "[668f478c-0326-440a-8bdf-58cf39163ea2]" || len(s.Collect) != len(CollectKinds) ||
		s.TLSConfig.ServerName != "vb365.example.local" || len(d.RetrievalIDs) != 1 || len(d.Regexps()) != 1 {
		t.Errorf("the optional lines loaded as %+v, discovery %+v", s, d)
	}
}

// TestExampleFailsOnlyForMissingFiles: copied alone, the example's only problems are the
// password and CA files it names, which a new user creates next to it.
func TestExampleFailsOnlyForMissingFiles(t *testing.T) {
	raw, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	path := writeConfig(t, string(raw))
	_, err = Load(path)
	if err == nil {
		t.Fatal("the example loaded without its files")
	}
	for _, line := range strings.Split(relErr(err, filepath.Dir(path)), "\n") {
		if !regexp.MustCompile(`^config\.yml:\d+: servers\[0\]\.(password_file|tls_config\.ca_file): cannot read the file: no such file or directory$`).MatchString(line) {
			t.Errorf("a problem other than a missing file: %s", line)
		}
	}
}

// serverKeys lists the yaml keys of a server entry.
func serverKeys() []string {
	keys, _ := yamlFields(reflect.TypeFor[ServerConfig]())
	return keys
}
