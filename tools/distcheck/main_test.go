package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// fakeModule is a stand-in for github.com/prometheus/common/version and a
// main that prints like version.Print, so that -X ldflags stamp a real
// variable and -run checks real output without building the exporter.
var fakeModule = map[string]string{
	"go.mod":             "module github.com/prometheus/common\n\ngo 1.24\n",
	"version/version.go": "package version\n\nvar Version, Revision string\n",
	"cmd/fake/main.go": `package main

import (
	"fmt"

	"github.com/prometheus/common/version"
)

func main() { fmt.Printf("fake, version %s (branch: main, revision: %s)\n", version.Version, version.Revision) }
`,
	"cmd/cgofake/main.go": `package main

// #include <stdlib.h>
import "C"

func main() { C.free(nil) }
`,
}

func writeFakeModule(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range fakeModule {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type buildOpts struct {
	goos, goarch, cgo string
	trimpath          bool
	version           string
	noStamp           bool
	pkg               string
}

func build(t *testing.T, mod, out string, o buildOpts) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go toolchain not on PATH: %v", err)
	}
	if o.pkg == "" {
		o.pkg = "./cmd/fake"
	}
	args := []string{"build", "-o", out}
	if o.trimpath {
		args = append(args, "-trimpath")
	}
	if !o.noStamp {
		args = append(args, "-ldflags", "-X "+versionSymbol+"="+o.version+" -X github.com/prometheus/common/version.Revision=abc123")
	}
	args = append(args, o.pkg)
	cmd := exec.Command(goBin, args...)
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "GOOS="+o.goos, "GOARCH="+o.goarch, "CGO_ENABLED="+o.cgo, "GOFLAGS=-buildvcs=false")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return out
}

func TestStaticReleaseBinariesPass(t *testing.T) {
	mod := writeFakeModule(t)
	dist := t.TempDir()
	var files []string
	// One foreign ELF architecture and one non-ELF format cover the code
	// paths; every extra platform only adds a cold standard-library build.
	for _, p := range [][2]string{{"linux", "amd64"}, {"linux", "arm64"}, {"windows", "amd64"}} {
		name := "fake-" + p[0] + "-" + p[1]
		if p[0] == "windows" {
			name += ".exe"
		}
		files = append(files, build(t, mod, filepath.Join(dist, name),
			buildOpts{goos: p[0], goarch: p[1], cgo: "0", trimpath: true, version: "9.9.9"}))
	}
	var stdout, stderr bytes.Buffer
	args := append([]string{"-version", "9.9.9", "-revision", "abc123", "-run"}, files...)
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("run = %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if got := strings.Count(stdout.String(), "ok "); got != len(files) {
		t.Errorf("%d ok lines, want %d:\n%s", got, len(files), stdout.String())
	}
}

func TestRunChecksVersionOutputOfHostBinary(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skipf("the fixture is a linux binary; host is %s", runtime.GOOS)
	}
	mod := writeFakeModule(t)
	bin := build(t, mod, filepath.Join(t.TempDir(), "fake-linux-"+runtime.GOARCH),
		buildOpts{goos: "linux", goarch: runtime.GOARCH, cgo: "0", trimpath: true, version: "9.9.9"})
	if err := check(bin, "9.9.9", "abc123", true); err != nil {
		t.Fatalf("matching revision: %v", err)
	}
	err := check(bin, "9.9.9", "other", true)
	if err == nil || !strings.Contains(err.Error(), "revision other") {
		t.Errorf("wrong revision: err = %v, want a revision complaint", err)
	}
}

func TestDynamicBinariesFail(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skipf("needs a native ELF toolchain; host is %s", runtime.GOOS)
	}
	// Any distribution's shell is dynamically linked.
	if err := checkStatic("/bin/sh"); err == nil || !strings.Contains(err.Error(), "program interpreter") {
		t.Errorf("checkStatic(/bin/sh) = %v, want a program interpreter error", err)
	}
	// The failure this tool exists for: cgo sneaking in (net, os/user).
	mod := writeFakeModule(t)
	bin := build(t, mod, filepath.Join(t.TempDir(), "cgofake-linux-"+runtime.GOARCH),
		buildOpts{goos: "linux", goarch: runtime.GOARCH, cgo: "1", trimpath: true, version: "9.9.9", pkg: "./cmd/cgofake"})
	if err := checkStatic(bin); err == nil || !strings.Contains(err.Error(), "dynamically linked") {
		t.Errorf("checkStatic(cgo binary) = %v, want dynamically linked", err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-version", "9.9.9", bin}, &stdout, &stderr); code != 1 {
		t.Errorf("run = %d, want 1; stderr:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), `CGO_ENABLED="1", want "0"`) {
		t.Errorf("stderr does not name CGO_ENABLED:\n%s", stderr.String())
	}
}

func TestBuildInfoProblemsAreReported(t *testing.T) {
	mod := writeFakeModule(t)
	dir := t.TempDir()
	bin := build(t, mod, filepath.Join(dir, "fake-linux-arm64"),
		buildOpts{goos: "linux", goarch: "amd64", cgo: "0", trimpath: false, version: "1.0.0"})
	err := check(bin, "9.9.9", "", false)
	if err == nil {
		t.Fatal("check passed a binary with three problems")
	}
	for _, want := range []string{`GOARCH="amd64", want "arm64"`, `-trimpath="", want "true"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	stale := build(t, mod, filepath.Join(dir, "stale-linux-amd64"),
		buildOpts{goos: "linux", goarch: "amd64", cgo: "0", trimpath: true, version: "1.0.0"})
	if err := check(stale, "9.9.9", "", false); err == nil || !strings.Contains(err.Error(), `"1.0.0", want "9.9.9"`) {
		t.Errorf("check(stale version) = %v, want a version mismatch", err)
	}
	unstamped := build(t, mod, filepath.Join(dir, "unstamped-linux-amd64"),
		buildOpts{goos: "linux", goarch: "amd64", cgo: "0", trimpath: true, noStamp: true})
	if err := check(unstamped, "9.9.9", "", false); err == nil || !strings.Contains(err.Error(), "version not stamped") {
		t.Errorf("check(unstamped) = %v, want version not stamped", err)
	}
	// Without -version (the simulator) only build and linking count.
	if err := check(unstamped, "", "", true); err != nil {
		t.Errorf("check(unstamped, no version) = %v, want nil", err)
	}
	text := filepath.Join(dir, "notes-linux-amd64")
	if err := os.WriteFile(text, []byte("not a binary\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := check(text, "9.9.9", "", false); err == nil || !strings.Contains(err.Error(), "build info") {
		t.Errorf("check(text file) = %v, want a build info error", err)
	}
}

func TestPlatformFromName(t *testing.T) {
	for _, tc := range []struct {
		path, goos, goarch string
		ok                 bool
	}{
		{"dist/vb365_exporter-linux-amd64", "linux", "amd64", true},
		{"dist/vb365-simulator-linux-arm64", "linux", "arm64", true},
		{"dist/vb365_exporter-windows-amd64.exe", "windows", "amd64", true},
		{"dist/vb365_exporter-darwin-arm64", "darwin", "arm64", true},
		{"dist/vb365_exporter-windows-amd64", "", "", false},
		{"dist/vb365_exporter-linux-amd64.exe", "", "", false},
		{"dist/vb365_exporter", "", "", false},
	} {
		goos, goarch, err := platformFromName(tc.path)
		if (err == nil) != tc.ok || goos != tc.goos || goarch != tc.goarch {
			t.Errorf("platformFromName(%q) = %q, %q, %v; want %q, %q, ok=%v", tc.path, goos, goarch, err, tc.goos, tc.goarch, tc.ok)
		}
	}
}

func TestUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(nil, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "usage:") {
		t.Errorf("run() = %d, stderr %q; want 2 and usage", code, stderr.String())
	}
}
