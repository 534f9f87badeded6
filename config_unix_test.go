//go:build !windows

package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

// TestReloadNeverEchoesTheFile: with the config path turned into a symlink to a shadow-like
// file, a reload fails and says so, and where to look; neither its answer nor the log shows
// a line of the file, and the answer does not show the path either.
func TestReloadNeverEchoesTheFile(t *testing.T) {
	sim := startSim(t, simulator.Options{})
	dir := t.TempDir()
	cfg := writeConfig(t, dir, serverSpec{name: "prod", sim: sim})
	exp := startExporter(t, cfg)

	lines := []string{
		"root:$6$Zq1xY2wVabcd$0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abc:19000:0:99999:7:::",
		"daemon:*:19000:0:99999:7:::",
		"alice:$y$j9T$saltsaltsalt$hashhashhashhashhashhashhashhashhashhash123:19500:0:99999:7:::",
	}
	shadow := filepath.Join(t.TempDir(), "shadow")
	if err := os.WriteFile(shadow, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(cfg); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(shadow, cfg); err != nil {
		t.Fatal(err)
	}
	code, body := reload(t, exp)
	if code != http.StatusInternalServerError {
		t.Errorf("reload = %d, want 500", code)
	}
	if !strings.Contains(body, "reload failed") || !strings.Contains(body, "log") {
		t.Errorf("the answer does not say that the reload failed and where to look: %q", body)
	}
	if strings.Contains(body, dir) || strings.Contains(body, "config.yml") {
		t.Errorf("the answer shows the config path: %q", body)
	}
	logs := exp.logs.String()
	if !strings.Contains(logs, "keeping the previous one") || !strings.Contains(logs, "config.yml:3: unknown key (not shown") {
		t.Errorf("the log does not say what is wrong:\n%s", logs)
	}
	for _, line := range lines {
		for _, field := range strings.Split(line, ":") {
			if len(field) >= 5 && strings.Contains(body+logs, field) {
				t.Errorf("%q of the file is shown:\nanswer: %s\nlog:\n%s", field, body, logs)
			}
		}
	}
}

// TestFirstStartDoesNotSpeakOfAPreviousConfig: a bad config at the first start says that
// the exporter cannot start, not that it keeps a previous one it does not have.
func TestFirstStartDoesNotSpeakOfAPreviousConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yml")
	if err := os.WriteFile(path, []byte("servers:\n  - name: prod\n    urll: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	if code := run(context.Background(), []string{"--config.file=" + path, "--web.listen-address=127.0.0.1:0"}, io.Discard, &logs); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	out := logs.String()
	if strings.Contains(out, "previous") || !strings.Contains(out, "cannot start") || !strings.Contains(out, "urll") {
		t.Errorf("log:\n%s", out)
	}
}

// TestConfigCheckEndsWhenStopped: --config.check reading a config path that blocks (a FIFO
// without a writer) returns when its context ends, as it does on SIGTERM.
func TestConfigCheckEndsWhenStopped(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "config.yml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stderr bytes.Buffer
	if code := run(ctx, []string{"--config.check", "--config.file=" + fifo}, io.Discard, &stderr); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if !strings.Contains(stderr.String(), "stopped while reading the config file") {
		t.Errorf("stderr: %s", stderr.String())
	}
	// A writer lets the blocked read end, so that no goroutine outlives the test.
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
}
