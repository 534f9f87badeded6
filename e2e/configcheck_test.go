//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vb365-exporter/vb365_exporter/config"
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
			"\n    sessions:\n      - not-a-uuid\n", 1, `config.yml:7: servers[0].sessions[0]: must be a UUID (such as 668f478c-0326-440a-8bdf-58cf39163ea2)`},
		{"password_file a directory", "servers:\n  - name: prod\n    url: https://x:4443\n    username: u\n    password_file: " + dir + "\n", 1,
			`config.yml:5: servers[0].password_file: must be a regular file, not a directory`},
		{"unknown key", "servers:\n  - name: prod\n    url: https://x:4443\n    username: u\n    password: " + simPassword + "\n    pasword: x\n", 1, "config.yml:6"},
		{"missing ca file", "servers:\n  - name: prod\n    url: https://x:4443\n    username: u\n    password: " + simPassword +
			"\n    tls_config:\n      ca_file: " + filepath.Join(dir, "nope.pem") + "\n", 1,
			`config.yml:7: servers[0].tls_config.ca_file: cannot read the file: no such file or directory`},
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

// serverKeys are the keys of a server entry, as an unknown key's problem lists them.
var serverKeys = func() string {
	var keys []string
	for _, f := range reflect.VisibleFields(reflect.TypeFor[config.ServerConfig]()) {
		if name, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); name != "" {
			keys = append(keys, name)
		}
	}
	return strings.Join(keys, ", ")
}()

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
				`:4: servers[0].password_file: cannot read the file: no such file or directory`,
				`:5: servers[0].url: must start with http:// or https://`,
				`:6: servers[0]: unknown key "pasword"; expected one of: ` + serverKeys,
				`:8: servers[0].tls_config.ca_file: cannot read the file: no such file or directory`,
				`:9: servers[0].sessions[0]: must be a UUID (such as 668f478c-0326-440a-8bdf-58cf39163ea2)`,
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

// TestConfigCheckSaysWhatEachServerReads: on success, one line per server by name: its
// sessions, whether discovery is on, and the kinds it collects.
func TestConfigCheckSaysWhatEachServerReads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yml")
	head := "    url: https://vb365.example.local:4443\n    username: u\n    password: p\n"
	if err := os.WriteFile(path, []byte("servers:\n  - name: prod\n"+head+
		"    sessions: [668f478c-0326-440a-8bdf-58cf39163ea2, 8a76872b-7f2c-4c50-95f4-92c4d41bc47c]\n    collect: []\n"+
		"  - name: dr\n"+head+"    discovery: {}\n    collect: [license, jobs]\n"+
		"  - name: all\n"+head), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"--config.check", "--config.file=" + path}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit code %d:\n%s", code, stderr.String())
	}
	want := path + `: server "prod": 2 session(s), discovery off, collects nothing else` + "\n" +
		path + `: server "dr": 0 session(s), discovery on, collects jobs, license` + "\n" +
		path + `: server "all": 0 session(s), discovery off, collects data_retrievals, jobs, license, repositories, proxies, organizations, restores` + "\n" +
		path + ": SUCCESS: 3 server(s), 2 session(s)\n"
	if stdout.String() != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout.String(), want)
	}
}
