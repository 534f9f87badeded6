package main

import (
	"bytes"
	"context"
	"fmt"
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
			"\n    tls_config:\n      ca_file: " + filepath.Join(dir, "nope.pem") + "\n", 1,
			`config.yml:7: servers[0].tls_config.ca_file: cannot read "` + filepath.Join(dir, "nope.pem") + `": no such file or directory`},
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

// TestConfigCheckListsEveryProblem: a file with five different mistakes gives five lines,
// each `file:line: key: problem`, and a count, in one run.
func TestConfigCheckListsEveryProblem(t *testing.T) {
	for name, c := range map[string]struct {
		config string
		want   []string
	}{
		"five mistakes": {
			config: "servers:\n  - name: prod\n    username: u\n    password_file: missing-pw\n" +
				"    url: vb365.example.local:4443\n    pasword: " + simPassword + "\n" +
				"    tls_config:\n      ca_file: missing-ca.pem\n    sessions: [not-a-uuid]\n",
			want: []string{
				`:4: servers[0].password_file: cannot read password file "DIR/missing-pw": no such file or directory`,
				`:5: servers[0].url: "vb365.example.local:4443" must start with http:// or https://`,
				`:6: servers[0].pasword: unknown key`,
				`:8: servers[0].tls_config.ca_file: cannot read "DIR/missing-ca.pem": no such file or directory`,
				`:9: servers[0].sessions[0]: "not-a-uuid" is not a UUID`,
			},
		},
		"tab in the indentation": {
			config: "servers:\n  - name: prod\n    url: https://x:4443\n\tusername: u\n",
			want:   []string{`:4: invalid YAML: a tab in the indentation (YAML indents with spaces only)`},
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "config.yml")
			if err := os.WriteFile(path, []byte(c.config), 0o600); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), []string{"--config.check", "--config.file=" + path}, &stdout, &stderr); code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			var want []string
			for _, w := range c.want {
				want = append(want, path+strings.ReplaceAll(w, "DIR", dir))
			}
			want = append(want, fmt.Sprintf("%s: FAILED: %d problem(s)", path, len(c.want)))
			if got := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("stderr:\n%s\nwant:\n%s", stderr.String(), strings.Join(want, "\n"))
			}
			if stdout.Len() != 0 || strings.Contains(stderr.String(), simPassword) {
				t.Errorf("stdout %q; stderr must not show the password", stdout.String())
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
