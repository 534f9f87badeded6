//go:build !windows

package server

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/vb365-exporter/vb365_exporter/config"
)

// TestConnectionRereadsTLSFilesBounded: a server is built after Load checked its TLS files,
// and reads them again; swapped since for a FIFO or a 1 GiB file, they fail the build with a
// reason rather than block it or take the memory.
func TestConnectionRereadsTLSFilesBounded(t *testing.T) {
	dir := t.TempDir()
	fifo, big := filepath.Join(dir, "fifo"), filepath.Join(dir, "big")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil { // sparse
		t.Fatal(err)
	}
	f.Close()
	for path, want := range map[string]string{fifo: "must be a regular file, not a named pipe (FIFO)", big: "must be a file of at most 1024 KiB"} {
		sc := &config.ServerConfig{URL: "https://vb365.invalid:4443", TLSConfig: config.TLSConfig{CAFile: path}}
		_, err := newConnection(sc)
		if err == nil || !strings.Contains(err.Error(), "tls_config.ca_file: "+want) {
			t.Errorf("%s: error %v, want one ending %q", filepath.Base(path), err, want)
		}
	}
}
