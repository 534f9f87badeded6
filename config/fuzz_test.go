package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// fuzzFilePassword is the content of the password_file the seeds refer to. It never occurs in
// a seed, so any error that shows it leaked the secret.
const fuzzFilePassword = "file-Secret-7Qx!zz"

// FuzzLoad feeds arbitrary bytes to Load as config.yml, next to a password file. Load must
// not panic, an accepted config must satisfy every documented invariant, and no error may
// contain a password: neither the file's nor an inline one.
func FuzzLoad(f *testing.F) {
	for _, seed := range []string{
		validServer,
		"servers:\n  - name: prod\n    url: https://vb365.example.local:4443\n    api_version: v8\n    username: u\n    password_file: pw\n    timeout: 5s\n    max_concurrent_requests: 2\n    cache_ttl: 0s\n    sessions:\n      - 668F478C-0326-440A-8BDF-58CF39163EA2\n",
		"servers:\n  - name: a\n    url: http://h:1\n    username: u\n    password: inline-Secret-42abc\n    tls_config:\n      insecure_skip_verify: true\n      server_name: x\n",
		"servers:\n  - name: inline-Secret-42abc\n    url: https://inline-Secret-42abc@h\n    username: u\n    password: inline-Secret-42abc\n",
		"servers:\n  - &s {name: a, url: 'http://h', username: u, password: p}\n  - *s\n",
		"servers: []\n",
		"servers:\n  - name: a\n    url: ftp://h\n    username: u\n    password_file: pw\n    sessions: [nope]\n",
		"",
		"---\n---\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "pw"), []byte(fuzzFilePassword+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "config.yml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(path)
		if err != nil {
			if cfg != nil {
				t.Fatal("Load returned a config with an error")
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, path+":") && !strings.HasPrefix(line, "cannot read config file") {
					t.Fatalf("error line does not start with the file: %q", line)
				}
			}
			// The file's own path is not a secret; drop it so a password that happens to be
			// a piece of the temp dir's name does not count as a leak.
			msg := strings.ReplaceAll(err.Error(), dir, "")
			if !strings.Contains(string(data), fuzzFilePassword) && strings.Contains(msg, fuzzFilePassword) {
				t.Fatalf("error shows the password file's content: %s", msg)
			}
			for _, pw := range inlinePasswords(data) {
				if strings.Contains(msg, pw) {
					t.Fatalf("error shows the inline password %q: %s", pw, msg)
				}
			}
			return
		}
		names := map[string]bool{}
		for _, s := range cfg.Servers {
			if s.Name == "" || names[s.Name] {
				t.Fatalf("accepted empty or duplicate server name %q", s.Name)
			}
			names[s.Name] = true
			if !strings.HasPrefix(s.URL, "http://") && !strings.HasPrefix(s.URL, "https://") || strings.HasSuffix(s.URL, "/") {
				t.Fatalf("accepted url %q", s.URL)
			}
			if s.Username == "" || s.Secret() == "" {
				t.Fatalf("server %q: accepted without username or password", s.Name)
			}
			if !slices.Contains(APIVersions, s.APIVersion) || s.Timeout <= 0 || s.MaxConcurrentRequests < 1 || s.CacheTTLDuration() < 0 {
				t.Fatalf("server %q: bad settings accepted: %+v", s.Name, s)
			}
			for _, id := range s.Sessions {
				if parsed, err := vb365.ParseID(string(id)); err != nil || parsed != id {
					t.Fatalf("accepted session id %q", id)
				}
			}
		}
	})
}

// inlinePasswords returns the inline passwords of data that are long enough that finding one
// in an error can only mean it leaked (a short one like "a" occurs in any sentence).
func inlinePasswords(data []byte) []string {
	var doc struct {
		Servers []map[string]any `yaml:"servers"`
	}
	if yaml.Unmarshal(data, &doc) != nil {
		return nil
	}
	var out []string
	for _, s := range doc.Servers {
		if pw, ok := s["password"].(string); ok && len(pw) >= 10 && strings.TrimSpace(pw) == pw {
			out = append(out, pw)
		}
	}
	return out
}
