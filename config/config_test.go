package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	promconfig "github.com/prometheus/common/config"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

func cfgTLS12() promconfig.TLSVersion { return promconfig.TLSVersions["TLS12"] }

const testPassword = "S3cr3t-Pa55w0rd"

// writeConfig writes content as config.yml in a fresh directory and returns its path.
func writeConfig(t *testing.T, content string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// writeCA writes a CA certificate, which Load reads to check a ca_file.
func writeCA(t *testing.T, path string) {
	t.Helper()
	_, caPEM, err := simulator.GenerateCert("vb365.example.local")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, string(caPEM))
}

// relErr makes an error message independent of the temp dir it was produced in.
func relErr(err error, dir string) string {
	return strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
}

const validServer = `servers:
  - name: prod
    url: https://vb365.example.local:4443
    username: 'EXAMPLE\monitoring'
    password: hunter2
`

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name    string
		yaml    string
		files   map[string]string // written next to config.yml before loading
		wantErr string
	}{
		{
			name:    "unknown top-level key",
			yaml:    validServer + "scrape_interval: 1m\n",
			wantErr: `config.yml:6: unknown key "scrape_interval"; expected one of: servers`,
		},
		{
			name:    "unknown server key",
			yaml:    validServer + "    pasword_file: pw\n",
			wantErr: `config.yml:6: servers[0]: unknown key "pasword_file"; expected one of: ` + strings.Join(serverKeys(), ", "),
		},
		{
			name:    "unknown tls_config key",
			yaml:    validServer + "    tls_config:\n      insecure_skip_verify: true\n      ca_path: /x\n",
			wantErr: `config.yml:8: servers[0].tls_config: unknown key "ca_path"; expected one of: ca, cert, key, ca_file, cert_file, key_file, ca_ref, cert_ref, key_ref, server_name, insecure_skip_verify, min_version, max_version`,
		},
		{
			name:    "repeated key",
			yaml:    validServer + "    username: other\n",
			wantErr: `config.yml:6: servers[0].username: key is repeated (first at line 4)`,
		},
		{
			name:    "missing name",
			yaml:    "servers:\n  - url: https://h\n    username: u\n    password: pw0rd\n",
			wantErr: `config.yml:2: servers[0].name: is required`,
		},
		{
			name:    "missing url",
			yaml:    "servers:\n  - name: a\n    username: u\n    password: pw0rd\n",
			wantErr: `config.yml:2: servers[0].url: is required`,
		},
		{
			name:    "missing username",
			yaml:    "servers:\n  - name: a\n    url: https://h\n    password: pw0rd\n",
			wantErr: `config.yml:2: servers[0].username: is required`,
		},
		{
			name:    "empty username",
			yaml:    "servers:\n  - name: a\n    url: https://h\n    username: ''\n    password: pw0rd\n",
			wantErr: `config.yml:4: servers[0].username: must not be empty`,
		},
		{
			name:    "duplicate server name",
			yaml:    validServer + "  - name: prod\n    url: https://other:4443\n    username: u\n    password: pw0rd\n",
			wantErr: `config.yml:6: servers[1].name: duplicate server name (first defined at line 2)`,
		},
		{
			name:    "empty server name",
			yaml:    "servers:\n  - name: ''\n    url: https://h\n    username: u\n    password: pw0rd\n",
			wantErr: `config.yml:2: servers[0].name: must not be empty`,
		},
		{
			name:    "url without scheme",
			yaml:    "servers:\n  - name: a\n    url: vb365.example.local:4443\n    username: u\n    password: pw0rd\n",
			wantErr: `config.yml:3: servers[0].url: must start with http:// or https://`,
		},
		{
			name:    "url host only",
			yaml:    "servers:\n  - name: a\n    url: vb365.example.local\n    username: u\n    password: pw0rd\n",
			wantErr: `config.yml:3: servers[0].url: must start with http:// or https://`,
		},
		{
			name:    "url ftp scheme",
			yaml:    "servers:\n  - name: a\n    url: ftp://vb365:4443\n    username: u\n    password: pw0rd\n",
			wantErr: `config.yml:3: servers[0].url: has a scheme other than http and https`,
		},
		{
			name:    "url without host",
			yaml:    "servers:\n  - name: a\n    url: 'https://'\n    username: u\n    password: pw0rd\n",
			wantErr: `config.yml:3: servers[0].url: has no host`,
		},
		{
			name:    "url with path",
			yaml:    "servers:\n  - name: a\n    url: https://vb365:4443/v6\n    username: u\n    password: pw0rd\n",
			wantErr: `config.yml:3: servers[0].url: must not have a path (the API version is set by api_version)`,
		},
		{
			name:    "url with query",
			yaml:    "servers:\n  - name: a\n    url: https://vb365:4443?x=1\n    username: u\n    password: pw0rd\n",
			wantErr: `config.yml:3: servers[0].url: must not have a query`,
		},
		{
			name:    "url with fragment",
			yaml:    "servers:\n  - name: a\n    url: https://vb365:4443#top\n    username: u\n    password: pw0rd\n",
			wantErr: `config.yml:3: servers[0].url: must not have a fragment`,
		},
		{
			name:    "insecure_skip_verify not a bool",
			yaml:    validServer + "    tls_config:\n      insecure_skip_verify: maybe\n",
			wantErr: `config.yml:7: servers[0].tls_config.insecure_skip_verify: must be true or false`,
		},
		{
			name:    "password not a string",
			yaml:    "servers:\n  - name: a\n    url: https://h\n    username: u\n    password: [x]\n",
			wantErr: `config.yml:5: servers[0].password: must be a string`,
		},
		{
			name:    "url with userinfo",
			yaml:    "servers:\n  - name: a\n    url: https://admin:pw@vb365:4443\n    username: u\n    password: pw0rd\n",
			wantErr: `config.yml:3: servers[0].url: must not contain user information; use username and password_file`,
		},
		{
			name:    "url unparsable",
			yaml:    "servers:\n  - name: a\n    url: 'https://vb365:44x3'\n    username: u\n    password: pw0rd\n",
			wantErr: `config.yml:3: servers[0].url: is not a valid URL; expected scheme://host[:port]`,
		},
		{
			name:    "unsupported api_version",
			yaml:    validServer + "    api_version: v9\n",
			wantErr: `config.yml:6: servers[0].api_version: must be one of v6, v7, v8`,
		},
		{
			name:    "password and password_file",
			yaml:    validServer + "    password_file: pw\n",
			files:   map[string]string{"pw": "x\n"},
			wantErr: `config.yml:6: servers[0].password_file: password and password_file are mutually exclusive`,
		},
		{
			name:    "neither password nor password_file",
			yaml:    "servers:\n  - name: a\n    url: https://h\n    username: u\n",
			wantErr: `config.yml:2: servers[0].password: one of password or password_file is required`,
		},
		{
			name:    "missing password_file",
			yaml:    "servers:\n  - name: a\n    url: https://h\n    username: u\n    password_file: nope\n",
			wantErr: `config.yml:5: servers[0].password_file: cannot read the file: no such file or directory`,
		},
		{
			name:    "password_file is a directory",
			yaml:    "servers:\n  - name: a\n    url: https://h\n    username: u\n    password_file: .\n",
			wantErr: `config.yml:5: servers[0].password_file: must be a regular file, not a directory`,
		},
		{
			name:    "empty password_file",
			yaml:    "servers:\n  - name: a\n    url: https://h\n    username: u\n    password_file: pw\n",
			files:   map[string]string{"pw": ""},
			wantErr: `config.yml:5: servers[0].password_file: the file is empty`,
		},
		{
			name:    "password_file with only a newline",
			yaml:    "servers:\n  - name: a\n    url: https://h\n    username: u\n    password_file: pw\n",
			files:   map[string]string{"pw": "\r\n"},
			wantErr: `config.yml:5: servers[0].password_file: the file is empty`,
		},
		{
			name:    "session not a UUID",
			yaml:    validServer + "    sessions:\n      - 668f478c-0326-440a-8bdf-58cf39163ea2\n      - abc\n",
			wantErr: `config.yml:8: servers[0].sessions[1]: must be a UUID (such as 668f478c-0326-440a-8bdf-58cf39163ea2)`,
		},
		{
			name:    "session not a scalar",
			yaml:    validServer + "    sessions:\n      - {id: 1}\n",
			wantErr: `config.yml:7: servers[0].sessions[0]: must be a string`,
		},
		{
			name:    "sessions not a list",
			yaml:    validServer + "    sessions: 668f478c-0326-440a-8bdf-58cf39163ea2\n",
			wantErr: `config.yml:6: servers[0].sessions: must be a list`,
		},
		{
			name:    "duplicate session ID ignoring case",
			yaml:    validServer + "    sessions:\n      - 668f478c-0326-440a-8bdf-58cf39163ea2\n      - 668F478C-0326-440A-8BDF-58CF39163EA2\n",
			wantErr: `config.yml:8: servers[0].sessions[1]: duplicate session ID (first at line 7)`,
		},
		{
			name:    "zero timeout",
			yaml:    validServer + "    timeout: 0s\n",
			wantErr: `config.yml:6: servers[0].timeout: must be greater than 0`,
		},
		{
			name:    "negative timeout",
			yaml:    validServer + "    timeout: -5s\n",
			wantErr: `config.yml:6: servers[0].timeout: must not be negative`,
		},
		{
			name:    "timeout not a duration",
			yaml:    validServer + "    timeout: soon\n",
			wantErr: `config.yml:6: servers[0].timeout: must be a duration such as 30s, 5m or 1h`,
		},
		{
			name:    "zero max_concurrent_requests",
			yaml:    validServer + "    max_concurrent_requests: 0\n",
			wantErr: `config.yml:6: servers[0].max_concurrent_requests: must be greater than 0`,
		},
		{
			name:    "zero max_retrievals",
			yaml:    validServer + "    max_retrievals: 0\n",
			wantErr: `config.yml:6: servers[0].max_retrievals: must be greater than 0`,
		},
		{
			name:    "max_concurrent_requests not a number",
			yaml:    validServer + "    max_concurrent_requests: many\n",
			wantErr: `config.yml:6: servers[0].max_concurrent_requests: must be an integer`,
		},
		{
			name:    "negative cache_ttl",
			yaml:    validServer + "    cache_ttl: -1m\n",
			wantErr: `config.yml:6: servers[0].cache_ttl: must not be negative`,
		},
		{
			name:    "tls_config fails Validate",
			yaml:    validServer + "    tls_config:\n      ca: PEM\n      ca_file: ca.pem\n",
			wantErr: `config.yml:6: servers[0].tls_config: at most one of ca, ca_file & ca_ref must be configured`,
		},
		{
			name:    "tls_config bad min_version",
			yaml:    validServer + "    tls_config:\n      min_version: TLS14\n",
			wantErr: `config.yml:7: servers[0].tls_config.min_version: must be one of TLS10, TLS11, TLS12, TLS13`,
		},
		{
			name:    "empty file",
			yaml:    "",
			wantErr: `config.yml: servers: no servers configured`,
		},
		{
			name:    "only comments",
			yaml:    "# nothing here yet\n",
			wantErr: `config.yml: servers: no servers configured`,
		},
		{
			name:    "servers key without value",
			yaml:    "servers:\n",
			wantErr: `config.yml:1: servers: no servers configured`,
		},
		{
			name:    "empty servers list",
			yaml:    "servers: []\n",
			wantErr: `config.yml:1: servers: no servers configured`,
		},
		{
			name:    "servers not a list",
			yaml:    "servers: prod\n",
			wantErr: `config.yml:1: servers: must be a list`,
		},
		{
			name:    "server not a mapping",
			yaml:    "servers:\n  - prod\n",
			wantErr: `config.yml:2: servers[0]: must be a mapping`,
		},
		{
			name:    "top level not a mapping",
			yaml:    "- prod\n",
			wantErr: `config.yml:1: must be a mapping with a servers key`,
		},
		{
			name:    "invalid YAML",
			yaml:    "servers:\n  - name: a\n    url: b: c\n",
			wantErr: `config.yml:3: invalid YAML: mapping values are not allowed in this context`,
		},
		{
			name:    "second YAML document",
			yaml:    validServer + "---\nservers: []\n",
			wantErr: `config.yml:6: only one YAML document is allowed`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, tc.yaml)
			dir := filepath.Dir(path)
			for name, content := range tc.files {
				writeFile(t, filepath.Join(dir, name), content)
			}
			cfg, err := Load(path)
			if err == nil {
				t.Fatalf("Load succeeded with %+v, want error %q", cfg, tc.wantErr)
			}
			got := strings.ReplaceAll(relErr(err, dir), dir, "DIR")
			if got != tc.wantErr {
				t.Errorf("error mismatch\n got: %s\nwant: %s", got, tc.wantErr)
			}
		})
	}
}

func TestLoadMissingConfigFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.yml")
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("got %v, want an error naming %s and the reason", err, path)
	}
}

// TestLoadErrorsNeverContainPassword puts the password into every field that can fail and
// checks that the resulting error masks it.
func TestLoadErrorsNeverContainPassword(t *testing.T) {
	p := testPassword
	head := "servers:\n  - name: a\n    url: https://h\n    username: u\n"
	cases := map[string]string{
		"url":                     "servers:\n  - name: a\n    url: ftp://" + p + "\n    username: u\n    password: " + p + "\n",
		"url userinfo":            "servers:\n  - name: a\n    url: https://u:" + p + "@h\n    username: u\n    password: " + p + "\n",
		"url unparsable":          "servers:\n  - name: a\n    url: 'https://h:" + p + "'\n    username: u\n    password: " + p + "\n",
		"api_version":             head + "    password: " + p + "\n    api_version: " + p + "\n",
		"unknown server key":      head + "    password: " + p + "\n    " + p + ": 1\n",
		"unknown top-level key":   head + "    password: " + p + "\n" + p + ": 1\n",
		"unknown tls key":         head + "    password: " + p + "\n    tls_config:\n      " + p + ": 1\n",
		"tls min_version":         head + "    password: " + p + "\n    tls_config:\n      min_version: " + p + "\n",
		"session":                 head + "    password: " + p + "\n    sessions: [" + p + "]\n",
		"timeout":                 head + "    password: " + p + "\n    timeout: " + p + "\n",
		"cache_ttl":               head + "    password: " + p + "\n    cache_ttl: -" + p + "\n",
		"max_concurrent_requests": head + "    password: " + p + "\n    max_concurrent_requests: " + p + "\n",
		"password not a string":   head + "    password: [" + p + "]\n",
		"password and file":       head + "    password: " + p + "\n    password_file: pw\n",
		"session from file":       head + "    password_file: pw\n    sessions: [" + p + "]\n",
		"tls key inline":          head + "    password: x\n    tls_config:\n      key: " + p + "\n      cert: c\n      min_version: " + p + "\n",
		"unterminated quote":      head + "    password: '" + p + "\n",
		"duplicate server name":   head + "    password: " + p + "\n  - name: a\n    url: https://h\n    username: u\n    password: " + p + "\n",
	}
	for name, yml := range cases {
		t.Run(name, func(t *testing.T) {
			path := writeConfig(t, yml)
			writeFile(t, filepath.Join(filepath.Dir(path), "pw"), p+"\n")
			_, err := Load(path)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if strings.Contains(err.Error(), p) {
				t.Errorf("error leaks the password: %s", err)
			}
		})
	}
}

// TestLoadErrorsNeverContainQuotedPassword: a password with a quote or backslash must not
// leak either in the escaped form a quoted value takes.
func TestLoadErrorsNeverContainQuotedPassword(t *testing.T) {
	const p = `Pa"ss\w0rd-9zq`
	escaped := strconv.Quote(p)
	escaped = escaped[1 : len(escaped)-1]
	head := "servers:\n  - name: a\n    url: https://h\n    username: u\n    password: '" + p + "'\n"
	for name, yml := range map[string]string{
		"timeout":     head + "    timeout: '" + p + "'\n",
		"max_age":     head + "    discovery:\n      max_age: '" + p + "'\n",
		"api_version": head + "    api_version: '" + p + "'\n",
		"session":     head + "    sessions: ['" + p + "']\n",
		"regexp":      head + "    discovery:\n      name_regexps: ['(" + p + "']\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Load(writeConfig(t, yml))
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if strings.Contains(err.Error(), p) || strings.Contains(err.Error(), escaped) {
				t.Errorf("error leaks the password: %s", err)
			}
		})
	}
}

func TestLoadDefaults(t *testing.T) {
	path := writeConfig(t, validServer)
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
		{"secret", s.Secret(), "hunter2"},
		{"timeout", s.Timeout, Duration(10 * time.Second)},
		{"max_concurrent_requests", s.MaxConcurrentRequests, 8},
		{"max_retrievals", s.MaxRetrievals, 1000},
		{"cache_ttl set", s.CacheTTL != nil, true},
		{"cache_ttl duration", s.CacheTTLDuration(), 10 * time.Minute},
		{"sessions", len(s.Sessions), 0},
		{"insecure_skip_verify", s.TLSConfig.InsecureSkipVerify, false},
		{"ca_file", s.TLSConfig.CAFile, ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestLoadExplicitValues(t *testing.T) {
	absCA := filepath.Join(t.TempDir(), "ca.pem")
	writeCA(t, absCA)
	path := writeConfig(t, `servers:
  - name: prod
    url: HTTPS://vb365.example.local:4443/
    api_version: v8
    username: monitor
    password_file: secrets/pw
    tls_config:
      ca_file: certs/ca.pem
      server_name: vb365
      insecure_skip_verify: true
      min_version: TLS12
    timeout: 2500ms
    max_concurrent_requests: 1
    cache_ttl: 0s
    sessions:
      - 668F478C-0326-440A-8BDF-58CF39163EA2
      - 8a76872b-7f2c-4c50-95f4-92c4d41bc47c
  - name: dr
    url: http://10.0.0.7:4443
    api_version: v7
    username: monitor
    password: "inline pw "
    tls_config:
      ca_file: `+absCA+`
`)
	dir := filepath.Dir(path)
	if err := os.Mkdir(filepath.Join(dir, "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	// Only the final line ending is dropped; the rest may be part of the password.
	writeFile(t, filepath.Join(dir, "secrets", "pw"), " pw with spaces \n\r\n")
	if err := os.Mkdir(filepath.Join(dir, "certs"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeCA(t, filepath.Join(dir, "certs", "ca.pem"))
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	prod, ok := cfg.Server("prod")
	if !ok {
		t.Fatal(`Server("prod") not found`)
	}
	dr, ok := cfg.Server("dr")
	if !ok {
		t.Fatal(`Server("dr") not found`)
	}
	if _, ok := cfg.Server("missing"); ok {
		t.Error(`Server("missing") found, want not found`)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"prod url normalised", prod.URL, "https://vb365.example.local:4443"},
		{"prod api_version", prod.APIVersion, "v8"},
		{"prod password_file absolute", prod.PasswordFile, filepath.Join(dir, "secrets", "pw")},
		{"prod secret", prod.Secret(), " pw with spaces \n"},
		{"prod ca_file absolute", prod.TLSConfig.CAFile, filepath.Join(dir, "certs", "ca.pem")},
		{"prod server_name", prod.TLSConfig.ServerName, "vb365"},
		{"prod insecure_skip_verify", prod.TLSConfig.InsecureSkipVerify, true},
		{"prod min_version", prod.TLSConfig.MinVersion, cfgTLS12()},
		{"prod timeout", prod.Timeout, Duration(2500 * time.Millisecond)},
		{"prod max_concurrent_requests", prod.MaxConcurrentRequests, 1},
		{"prod cache off", prod.CacheTTLDuration(), time.Duration(0)},
		{"prod sessions", fmt.Sprint(prod.Sessions), "[668f478c-0326-440a-8bdf-58cf39163ea2 8a76872b-7f2c-4c50-95f4-92c4d41bc47c]"},
		{"dr url", dr.URL, "http://10.0.0.7:4443"},
		{"dr api_version", dr.APIVersion, "v7"},
		{"dr secret keeps spaces", dr.Secret(), "inline pw "},
		{"dr absolute ca_file untouched", dr.TLSConfig.CAFile, absCA},
		{"dr cache default", dr.CacheTTLDuration(), 10 * time.Minute},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

func TestPasswordFileCRLF(t *testing.T) {
	path := writeConfig(t, "servers:\n  - name: a\n    url: https://h\n    username: u\n    password_file: pw\n")
	writeFile(t, filepath.Join(filepath.Dir(path), "pw"), "windows\r\n")
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Servers[0].Secret(); got != "windows" {
		t.Errorf("Secret() = %q, want %q", got, "windows")
	}
}

func TestCacheTTLDurationNil(t *testing.T) {
	s := &ServerConfig{}
	if got := s.CacheTTLDuration(); got != 10*time.Minute {
		t.Errorf("CacheTTLDuration() on an unloaded ServerConfig = %v, want 10m", got)
	}
}

func TestServerOnNilConfig(t *testing.T) {
	var c *Config
	if _, ok := c.Server("prod"); ok {
		t.Error("nil Config found a server")
	}
}

// TestLoadAliases checks that YAML anchors work, since operators use them to share
// settings between servers.
func TestLoadAliases(t *testing.T) {
	path := writeConfig(t, `servers:
  - name: a
    url: https://h
    username: &user u
    password: p
    sessions: &ids [668f478c-0326-440a-8bdf-58cf39163ea2]
  - name: b
    url: https://h2
    username: *user
    password: p
    sessions: *ids
`)
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	b := cfg.Servers[1]
	if b.Username != "u" || len(b.Sessions) != 1 || b.Sessions[0] != "668f478c-0326-440a-8bdf-58cf39163ea2" {
		t.Errorf("aliases not resolved: %+v", b)
	}
}
