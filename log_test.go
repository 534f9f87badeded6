package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

// TestToolkitLogsInTheExportersFormat: exporter-toolkit logs through slog; its lines must
// look like the exporter's own (ts=, caller=, level=) and follow --log.level.
func TestToolkitLogsInTheExportersFormat(t *testing.T) {
	for _, lvl := range []string{"debug", "info"} {
		var buf bytes.Buffer
		_, base, err := newLogger(&buf, lvl, "logfmt")
		if err != nil {
			t.Fatal(err)
		}
		s := slogger(base, lvl)
		s.Debug("toolkit debug line", "k", "v")
		s.Info("toolkit info line")
		out := buf.String()
		if got := strings.Contains(out, "toolkit debug line"); got != (lvl == "debug") {
			t.Errorf("--log.level=%s: debug line shown = %v:\n%s", lvl, got, out)
		}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if strings.Contains(line, "time=") || !strings.HasPrefix(line, "level=") || !strings.Contains(line, " ts=") ||
				strings.Index(line, " ts=") > strings.Index(line, " caller=") {
				t.Errorf("--log.level=%s: line not in the exporter's format: %s", lvl, line)
			}
		}
	}
}

// TestOneLogStream runs the exporter and reads its whole log: every line, the toolkit's
// "Listening on" included, has ts= and none has time=.
func TestOneLogStream(t *testing.T) {
	sim := startSim(t, simulator.Options{})
	cfg := writeConfig(t, t.TempDir(), serverSpec{name: "prod", sim: sim, sessions: []string{simulator.ReferenceSessionID}})
	exp := startExporter(t, cfg)
	scrape(t, exp.url+"/metrics", nil)
	exp.stop()
	logs := exp.logs.String()
	if !strings.Contains(logs, `msg="Listening on"`) {
		t.Fatalf("no toolkit line in the log:\n%s", logs)
	}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if strings.Contains(line, " time=") || !strings.HasPrefix(line, "level=") ||
			!strings.Contains(line, " ts=") || strings.Index(line, " ts=") > strings.Index(line, " caller=") {
			t.Errorf("line not in the exporter's format: %s", line)
		}
	}
}
