package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

// The exporter stays the default command: every flag of the pre-command CLI parses as before.
func TestCommandLineCompatibility(t *testing.T) {
	var sink bytes.Buffer
	o, err := parseFlags([]string{"--config.file=x.yml", "--web.listen-address=:1234", "--web.telemetry-path=/m",
		"--log.level=debug", "--log.format=json", "--scrape.timeout-offset=1s"}, &sink, &sink)
	if err != nil || o == nil {
		t.Fatalf("legacy flags: %v", err)
	}
	if o.command != commandServe || o.configFile != "x.yml" || o.telemetryPath != "/m" || (*o.web.WebListenAddresses)[0] != ":1234" ||
		o.logLevel != "debug" || o.logFormat != "json" || o.timeoutOffset != time.Second {
		t.Errorf("legacy flags parsed as %+v", o)
	}
	if o, err := parseFlags([]string{"serve", "--config.check"}, &sink, &sink); err != nil || o.command != commandServe || !o.configCheck {
		t.Errorf("explicit serve: %v %+v", err, o)
	}
	o, err = parseFlags([]string{"--config.file=y.yml", "sessions", "--server", "prod", "--status", "failed,WARNING", "--since", "7d", "-o", "yaml", "--limit", "5"}, &sink, &sink)
	if err != nil {
		t.Fatal(err)
	}
	s := o.sessions
	if o.command != commandSessions || o.configFile != "y.yml" || s.Server != "prod" || s.Status != "failed,WARNING" ||
		s.Since != "7d" || s.Output != "yaml" || s.Limit != 5 {
		t.Errorf("sessions flags parsed as %+v", o)
	}
	// `sessions list` is what `sessions` alone runs.
	if o, err := parseFlags([]string{"sessions", "list", "--limit", "3"}, &sink, &sink); err != nil || o.command != commandSessions || o.sessions.Limit != 3 {
		t.Errorf("sessions list: %v %+v", err, o)
	}
	o, err = parseFlags([]string{"sessions", "log", "--server", "prod", "--type", "error,Warning", "-o", "json", simulator.DemoFailedID}, &sink, &sink)
	if err != nil {
		t.Fatal(err)
	}
	if g := o.sessionsLog; o.command != commandSessionsLog || g.Server != "prod" || g.Types != "error,Warning" || g.Output != "json" || g.SessionID != simulator.DemoFailedID {
		t.Errorf("sessions log flags parsed as %+v", o)
	}
	for _, args := range [][]string{
		{"sessions", "log"},                                           // no session ID
		{"sessions", "log", "not-a-uuid"},                             // not a UUID
		{"sessions", "log", "--type", "Info", simulator.DemoFailedID}, // unknown type
		{"sessions", "log", "-o", "yaml", simulator.DemoFailedID},     // list's format only
		{"sessions", "log", "--status", "Failed", simulator.DemoFailedID},
	} {
		if _, err := parseFlags(args, &sink, &sink); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	if _, err := parseFlags([]string{"sessions", "--limit=-1"}, &sink, &sink); err == nil {
		t.Error("negative --limit accepted")
	}
	if _, err := parseFlags([]string{"--server=prod"}, &sink, &sink); err == nil {
		t.Error("a sessions flag was accepted by the exporter command")
	}
}

func TestOneLine(t *testing.T) {
	if got := oneLine("line one\n  line two "); got != "line one line two" {
		t.Errorf("oneLine = %q", got)
	}
}
