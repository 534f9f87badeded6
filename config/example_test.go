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
		{"sessions", fmt.Sprint(s.Sessions), "[668f478c-0326-440a-8bdf-58cf39163ea2]"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

// TestExampleDocumentsEveryKey fails when a ServerConfig key is added without documenting
// it in the example, which is the user-facing reference.
func TestExampleDocumentsEveryKey(t *testing.T) {
	raw, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range serverKeys() {
		re := regexp.MustCompile(`(?m)^\s*# ` + regexp.QuoteMeta(key) + `:`)
		if !re.Match(raw) {
			t.Errorf("config.example.yml has no comment line starting with %q", "# "+key+":")
		}
	}
	if !regexp.MustCompile(`(?m)^\s*# servers:`).Match(raw) {
		t.Error(`config.example.yml does not document "servers"`)
	}
}

// serverKeys lists the yaml keys of a server entry.
func serverKeys() []string {
	var keys []string
	t := reflect.TypeFor[ServerConfig]()
	for i := 0; i < t.NumField(); i++ {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); name != "" {
			keys = append(keys, name)
		}
	}
	return keys
}
