// Command distcheck checks the binaries that `make crossbuild` writes, so
// that a release cannot silently ship a dynamically linked or unstamped
// binary. For each FILE, named NAME-GOOS-GOARCH[.exe], it checks that
//   - Go's build info says it was built for that GOOS/GOARCH with
//     CGO_ENABLED=0 and -trimpath;
//   - an ELF (Linux) binary is statically linked: it has no program
//     interpreter (PT_INTERP) and needs no shared library (DT_NEEDED), so it
//     runs in a distroless or scratch image and on any distribution;
//   - an ELF binary has the given version stamped into
//     github.com/prometheus/common/version.Version (read from its symbol
//     table and data, because Go leaves -ldflags out of the build info of a
//     -trimpath build);
//   - with -run, a binary for the host platform prints the version and
//     revision when run with --version.
//
// Without -version only the build and linking checks apply (the simulator
// does not link the version package).
//
// It reads the binaries with debug/buildinfo and debug/elf rather than
// parsing `file` output, whose wording differs between versions.
//
// Usage: distcheck [-version 0.1.0 [-revision REV] [-run]] FILE...
package main

import (
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

const versionSymbol = "github.com/prometheus/common/version.Version"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("distcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	version := fs.String("version", "", "version that must be stamped into every binary (empty: not checked, for tools that do not link prometheus/common/version)")
	revision := fs.String("revision", "", "revision that --version must print (with -run)")
	runHost := fs.Bool("run", false, "run binaries for the host platform with --version")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: distcheck [-version VERSION [-revision REV] [-run]] FILE...")
		return 2
	}
	failed := false
	for _, path := range fs.Args() {
		if err := check(path, *version, *revision, *runHost); err != nil {
			fmt.Fprintf(stderr, "FAIL %s: %v\n", path, err)
			failed = true
			continue
		}
		fmt.Fprintf(stdout, "ok   %s\n", path)
	}
	if failed {
		return 1
	}
	return 0
}

// check runs every check that applies to path.
func check(path, version, revision string, runHost bool) error {
	goos, goarch, err := platformFromName(path)
	if err != nil {
		return err
	}
	if err := checkBuildInfo(path, goos, goarch); err != nil {
		return err
	}
	if goos == "linux" {
		if err := checkStatic(path); err != nil {
			return err
		}
	}
	if version == "" {
		return nil
	}
	if goos == "linux" {
		got, err := elfStringVar(path, versionSymbol)
		if err != nil {
			return fmt.Errorf("version not stamped: %w", err)
		}
		if got != version {
			return fmt.Errorf("%s = %q, want %q", versionSymbol, got, version)
		}
	}
	if runHost && goos == runtime.GOOS && goarch == runtime.GOARCH {
		return checkVersionOutput(path, version, revision)
	}
	return nil
}

// platformFromName takes GOOS and GOARCH from a NAME-GOOS-GOARCH[.exe] file
// name, the layout make crossbuild uses.
func platformFromName(path string) (goos, goarch string, err error) {
	base := strings.TrimSuffix(filepath.Base(path), ".exe")
	parts := strings.Split(base, "-")
	if len(parts) < 3 {
		return "", "", fmt.Errorf("name %q is not NAME-GOOS-GOARCH[.exe]", filepath.Base(path))
	}
	goos, goarch = parts[len(parts)-2], parts[len(parts)-1]
	if (goos == "windows") != strings.HasSuffix(path, ".exe") {
		return "", "", fmt.Errorf("name %q: only windows binaries end in .exe", filepath.Base(path))
	}
	return goos, goarch, nil
}

func checkBuildInfo(path, goos, goarch string) error {
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read Go build info: %w", err)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	var problems []string
	want := func(key, value string) {
		if got := settings[key]; got != value {
			problems = append(problems, fmt.Sprintf("%s=%q, want %q", key, got, value))
		}
	}
	want("GOOS", goos)
	want("GOARCH", goarch)
	want("CGO_ENABLED", "0")
	want("-trimpath", "true")
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// checkStatic fails for an ELF file that the kernel would hand to a dynamic
// loader or that names shared libraries it needs.
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("not an ELF file: %w", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			interp, _ := io.ReadAll(io.LimitReader(p.Open(), 4096))
			return fmt.Errorf("dynamically linked: program interpreter %s", strings.TrimRight(string(interp), "\x00"))
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		return fmt.Errorf("read DT_NEEDED: %w", err)
	}
	if len(libs) > 0 {
		return fmt.Errorf("dynamically linked: needs %s", strings.Join(libs, ", "))
	}
	return nil
}

// elfStringVar returns the value of the Go string variable name, as set by
// -X at link time: it finds the variable's string header through the symbol
// table and reads the bytes it points to from the loaded segments. A
// variable that was never set lives in .bss, which no file data backs, and
// is reported as an error.
func elfStringVar(path, name string) (string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return "", fmt.Errorf("symbol table: %w", err)
	}
	ptrSize := 8
	if f.Class == elf.ELFCLASS32 {
		ptrSize = 4
	}
	word := func(b []byte) uint64 {
		if ptrSize == 4 {
			return uint64(f.ByteOrder.Uint32(b))
		}
		return f.ByteOrder.Uint64(b)
	}
	for _, s := range syms {
		if s.Name != name {
			continue
		}
		hdr := make([]byte, 2*ptrSize)
		if err := elfReadAt(f, s.Value, hdr); err != nil {
			return "", fmt.Errorf("%s has no initialized data: %w", name, err)
		}
		ptr, n := word(hdr[:ptrSize]), word(hdr[ptrSize:])
		if n > 4096 {
			return "", fmt.Errorf("%s: implausible length %d", name, n)
		}
		data := make([]byte, n)
		if err := elfReadAt(f, ptr, data); err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		return string(data), nil
	}
	return "", fmt.Errorf("no symbol %s (is the package linked in?)", name)
}

func elfReadAt(f *elf.File, addr uint64, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	end := addr + uint64(len(b))
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && addr >= p.Vaddr && end <= p.Vaddr+p.Filesz {
			_, err := p.ReadAt(b, int64(addr-p.Vaddr))
			return err
		}
	}
	return fmt.Errorf("address %#x is not backed by file data", addr)
}

func checkVersionOutput(path, version, revision string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	cmd := exec.Command(abs, "--version")
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s --version: %w: %s", filepath.Base(path), err, out.String())
	}
	text := out.String()
	if !strings.Contains(text, "version "+version) {
		return fmt.Errorf("--version does not print version %s:\n%s", version, text)
	}
	if revision != "" && !strings.Contains(text, "revision: "+revision) {
		return fmt.Errorf("--version does not print revision %s:\n%s", revision, text)
	}
	return nil
}
