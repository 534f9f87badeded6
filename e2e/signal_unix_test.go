//go:build e2e && unix

package e2e

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSIGTERMWhileLoadingTheConfig runs the built binary with a config path that blocks the
// first load (a FIFO without a writer): SIGTERM still ends it, through its own handler.
func TestSIGTERMWhileLoadingTheConfig(t *testing.T) {
	bin := exporterBinary
	fifo := filepath.Join(t.TempDir(), "config.yml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config.file="+fifo, "--web.listen-address=127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The first line is logged after the signal handler is set up.
	sc := bufio.NewScanner(stderr)
	var log strings.Builder
	for sc.Scan() && !strings.Contains(log.String(), "starting vb365_exporter") {
		log.WriteString(sc.Text() + "\n")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
		}
		done <- cmd.Wait()
	}()
	select {
	case err := <-done:
		if err != nil || !strings.Contains(log.String(), "stopped while loading the config file") {
			t.Errorf("exit: %v (want 0 after SIGTERM, by the exporter's own handler); log:\n%s", err, log.String())
		}
	case <-time.After(time.Minute): // a guard against the hang, not a timing assertion
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("SIGTERM did not end the exporter while it loaded the config")
	}
}
