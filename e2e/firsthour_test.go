//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

// Each command's help starts with the flags that command takes, and lists no flag that only
// another command reads.
func TestHelpShowsEachCommandsOwnFlags(t *testing.T) {
	serveOnly := []string{"--web.listen-address", "--web.config.file", "--web.telemetry-path", "--scrape.timeout-offset",
		"--scrape.default-timeout", "--log.level", "--log.format", "--config.check"}
	sessionsOnly := []string{"--server", "--status", "--since", "--retrieval-id", "--limit", "--output"}
	logOnly := []string{"--type"}
	listOnly := []string{"--status", "--since", "--retrieval-id", "--limit"}
	for _, tc := range []struct {
		args          []string
		first         string // the first flag listed
		want, notWant []string
	}{
		{[]string{"sessions", "--help"}, "--server", append(sessionsOnly, "--config.file", "--help", "--version", "sessions log"), append(serveOnly, logOnly...)},
		{[]string{"help", "sessions"}, "--server", sessionsOnly, append(serveOnly, logOnly...)},
		{[]string{"sessions", "log", "--help"}, "--server", append(logOnly, "--server", "--output", "--config.file", "<SESSION_ID>"), append(serveOnly, listOnly...)},
		{[]string{"help", "sessions", "log"}, "--server", append(logOnly, "--server", "--output"), append(serveOnly, listOnly...)},
		{[]string{"serve", "--help"}, "--config.check", append(serveOnly, "--config.file"), append(sessionsOnly, logOnly...)},
		// No command is the exporter, so its help shows what the exporter takes.
		{[]string{"--help"}, "--config.check", append(serveOnly, "--config.file", "sessions"), sessionsOnly},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), tc.args, &stdout, &stderr); code != 0 {
				t.Fatalf("exit code %d: %s", code, stderr.String())
			}
			out := stdout.String()
			flags := regexp.MustCompile(`(?m)^\s+(?:-\w, )?(--(?:\[no-\])?[\w.-]+)`).FindAllStringSubmatch(out, -1)
			if len(flags) == 0 {
				t.Fatalf("no flags in:\n%s", out)
			}
			if got := strings.Replace(flags[0][1], "[no-]", "", 1); got != tc.first {
				t.Errorf("first flag %s, want %s:\n%s", got, tc.first, out)
			}
			listed := map[string]bool{}
			for _, f := range flags {
				listed[strings.Replace(f[1], "[no-]", "", 1)] = true
			}
			for _, w := range tc.want {
				if !listed[w] && !strings.Contains(out, "\n  "+w+"") {
					t.Errorf("%s not listed:\n%s", w, out)
				}
			}
			for _, n := range tc.notWant {
				if listed[n] {
					t.Errorf("%s listed:\n%s", n, out)
				}
			}
		})
	}
	// What help does not list is not accepted either.
	var sink bytes.Buffer
	if code := run(context.Background(), []string{"sessions", "--web.listen-address=:1"}, &sink, &sink); code != 2 {
		t.Errorf("sessions accepted --web.listen-address (exit %d)", code)
	}
}

// A binary built without ldflags (`go build .`, `go install`) still says which release and
// which commit it is. The test builds one from a copy of the source in a fresh repository,
// so the revision to expect is known, and then checks config.example.yml with that binary.
func TestPlainBuildVersionAndExampleConfig(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go not on PATH: %v", err)
	}
	src := t.TempDir()
	copyCheckout(t, src)
	gitIn := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir = src
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	gitIn("init", "-q")
	gitIn("add", "-A")
	gitIn("commit", "-q", "-m", "test")
	rev := gitIn("rev-parse", "HEAD")

	bin := filepath.Join(t.TempDir(), "vb365_exporter")
	build := exec.Command(goBin, "build", "-o", bin, ".")
	build.Dir = src
	// A developer's GOFLAGS may switch VCS stamping off (-buildvcs=false); a user's go build
	// has it on, which is what this test is about.
	build.Env = append(os.Environ(), "GOFLAGS=-buildvcs=true", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	t.Run("Version", func(t *testing.T) {
		want, err := os.ReadFile(filepath.Join(repoRoot(t), "VERSION"))
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "--version").CombinedOutput()
		if err != nil {
			t.Fatalf("--version: %v\n%s", err, out)
		}
		first := strings.SplitN(string(out), "\n", 2)[0]
		if wantLine := "vb365_exporter, version " + strings.TrimSpace(string(want)) + " (branch: unknown, revision: " + rev + ")"; first != wantLine {
			t.Errorf("--version printed\n%s\nwant the first line\n%s", out, wantLine)
		}
		if !regexp.MustCompile(`(?m)^\s+build date:\s+\d{4}-\d\d-\d\dT`).Match(out) {
			t.Errorf("no build date from the commit time:\n%s", out)
		}
	})

	t.Run("ExampleConfig", func(t *testing.T) {
		dir := t.TempDir()
		example, err := os.ReadFile(filepath.Join(repoRoot(t), "config.example.yml"))
		if err != nil {
			t.Fatal(err)
		}
		cfg := filepath.Join(dir, "config.yml")
		if err := os.WriteFile(cfg, example, 0o600); err != nil {
			t.Fatal(err)
		}
		check := func() (int, string) {
			out, err := exec.Command(bin, "--config.check", "--config.file="+cfg).CombinedOutput()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			return code, string(out)
		}
		// Without the files it names, the check fails: it does read them.
		if code, out := check(); code != 1 {
			t.Errorf("check without the password and CA files: exit %d, want 1:\n%s", code, out)
		}
		files := exampleFiles(t, example)
		if len(files) == 0 {
			t.Fatal("config.example.yml names no file")
		}
		_, caPEM, err := simulator.GenerateCert("vb365.example.local")
		if err != nil {
			t.Fatal(err)
		}
		for key, path := range files {
			if filepath.IsAbs(path) {
				t.Errorf("%s: %s is absolute; the walk-through keeps the files next to the config", key, path)
				continue
			}
			content := []byte("example-password\n")
			if strings.HasSuffix(key, "ca_file") {
				content = caPEM
			}
			if err := os.WriteFile(filepath.Join(dir, path), content, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if code, out := check(); code != 0 || !strings.Contains(out, "SUCCESS") {
			t.Errorf("check with the files it names: exit %d:\n%s", code, out)
		}
	})
}

// exampleFiles returns every `*_file` key of the example config with its value.
func exampleFiles(t *testing.T, data []byte) map[string]string {
	t.Helper()
	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && strings.HasSuffix(k, "_file") {
					out[path+"."+k] = s
				}
				walk(path+"."+k, x)
			}
		case []any:
			for i, x := range v {
				walk(path+"["+strconv.Itoa(i)+"]", x)
			}
		}
	}
	walk("", doc)
	return out
}

// copyCheckout copies the files git would put in a clone (tracked or new, not ignored).
func copyCheckout(t *testing.T, dst string) {
	t.Helper()
	root := repoRoot(t)
	ls := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	ls.Dir = root
	out, err := ls.Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		data, err := os.ReadFile(filepath.Join(root, name))
		if os.IsNotExist(err) {
			continue // deleted in the working tree
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
