package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "password")
	if err := os.WriteFile(pw, []byte(simPassword), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, config string
		code         int
		want         string
	}{
		{"valid", "servers:\n  - name: prod\n    url: https://vb365.example.local:4443\n    username: u\n    password_file: " + pw +
			"\n    sessions:\n      - 668f478c-0326-440a-8bdf-58cf39163ea2\n", 0, "SUCCESS: 1 server(s), 1 session(s)"},
		{"bad uuid", "servers:\n  - name: prod\n    url: https://vb365.example.local:4443\n    username: u\n    password: " + simPassword +
			"\n    sessions:\n      - not-a-uuid\n", 1, `config.yml:7: servers[0].sessions[0]: "not-a-uuid" is not a UUID`},
		{"unknown key", "servers:\n  - name: prod\n    url: https://x:4443\n    username: u\n    password: " + simPassword + "\n    pasword: x\n", 1, "config.yml:6"},
		{"missing ca file", "servers:\n  - name: prod\n    url: https://x:4443\n    username: u\n    password: " + simPassword +
			"\n    tls_config:\n      ca_file: " + filepath.Join(dir, "nope.pem") + "\n", 1, "nope.pem"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.yml")
			if err := os.WriteFile(path, []byte(tc.config), 0o600); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"--config.check", "--config.file=" + path}, &stdout, &stderr)
			out := stdout.String() + stderr.String()
			if code != tc.code {
				t.Errorf("exit code %d, want %d; output:\n%s", code, tc.code, out)
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("output does not contain %q:\n%s", tc.want, out)
			}
			if strings.Contains(out, simPassword) {
				t.Errorf("output contains the password:\n%s", out)
			}
		})
	}
}

func TestVersionFlag(t *testing.T) {
	var stdout bytes.Buffer
	if code := run(context.Background(), []string{"--version"}, &stdout, &stdout); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if !strings.Contains(stdout.String(), "vb365_exporter, version") {
		t.Errorf("--version printed %q", stdout.String())
	}
}
