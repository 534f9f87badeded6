// Package winsvc lets the exporter binary run as a Windows service.
//
// VB365 runs on Windows Server and many admins run the exporter right beside
// it, started by the service control manager (SCM). Everything that does not
// need Windows lives in this file so that it is tested on Linux: the service
// state machine (start, stop, shutdown, interrogate, a run that exits by
// itself), the resolution of relative file flags (services start in
// System32, not next to the executable) and the mapping of log records to
// event log severities. The files with build tags only adapt
// golang.org/x/sys/windows/svc and svc/eventlog to these pieces.
package winsvc

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// cmd is a control request from the SCM, independent of x/sys/windows/svc.
type cmd int

const (
	cmdOther cmd = iota // anything we did not ask for; never acted upon
	cmdStop
	cmdShutdown
	cmdInterrogate
)

// state mirrors the SCM service states this package reports.
type state int

const (
	stateStopped state = iota + 1
	stateStartPending
	stateStopPending
	stateRunning
)

func (s state) String() string {
	switch s {
	case stateStopped:
		return "Stopped"
	case stateStartPending:
		return "StartPending"
	case stateStopPending:
		return "StopPending"
	case stateRunning:
		return "Running"
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// accepts is the set of controls the service tells the SCM it handles.
type accepts uint

const (
	acceptStop accepts = 1 << iota
	acceptShutdown
)

// status is what the service reports to the SCM.
type status struct {
	State   state
	Accepts accepts
	// WaitHint tells the SCM how long a pending state may last before it
	// considers the service hung.
	WaitHint time.Duration
	// ExitCode is only meaningful with stateStopped.
	ExitCode int
}

// request is one change request from the SCM.
type request struct {
	Cmd cmd
}

// control is the SCM as seen by the service: a stream of requests in and
// status reports out. On Windows it wraps the channels that svc.Run hands to
// Handler.Execute; tests drive it directly.
type control interface {
	Requests() <-chan request
	Report(status)
}

// Wait hints for the pending states. The exporter starts in milliseconds and
// its HTTP server shuts down within its own timeout; these only need to be
// long enough that the SCM does not declare a slow machine hung.
const (
	startWaitHint = 10 * time.Second
	stopWaitHint  = 30 * time.Second
)

// serve runs the service state machine: it reports StartPending, starts run,
// reports Running and then follows the SCM's requests. Stop and Shutdown
// cancel run's context; serve then waits for run to return so that the
// exporter can finish in-flight scrapes and close its listener before the SCM
// kills the process. If run returns by itself (a bad config, a port in use)
// the service stops with run's exit code, which makes the SCM apply the
// configured recovery actions. The last report is always Stopped with the
// exit code, which serve also returns.
func serve(ctx context.Context, c control, run func(context.Context) int) int {
	c.Report(status{State: stateStartPending, WaitHint: startWaitHint})

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- run(runCtx) }()

	current := status{State: stateRunning, Accepts: acceptStop | acceptShutdown}
	c.Report(current)

	requests := c.Requests()
	var code int
loop:
	for {
		select {
		case code = <-done:
			break loop
		case r, ok := <-requests:
			if !ok {
				// Nobody can ask us to stop any more, so stop now rather
				// than run on unmanaged.
				requests = nil
				current = stopPending()
				c.Report(current)
				cancel()
				continue
			}
			switch r.Cmd {
			case cmdInterrogate:
				c.Report(current)
			case cmdStop, cmdShutdown:
				if current.State == stateStopPending {
					continue
				}
				current = stopPending()
				c.Report(current)
				cancel()
			case cmdOther:
				// Not in the accepted set; the SCM does not send these, and
				// answering would only confuse it.
			}
		}
	}

	if current.State != stateStopPending {
		c.Report(stopPending())
	}
	c.Report(status{State: stateStopped, ExitCode: code})
	return code
}

func stopPending() status {
	return status{State: stateStopPending, WaitHint: stopWaitHint}
}

// ResolveConfigPath returns path resolved against exeDir when it is relative.
// A service's working directory is %SystemRoot%\System32, so a relative
// --config.file given in the service's command line (or the default
// "config.yml") would otherwise point there instead of next to the
// executable, where the README tells admins to put it. Absolute paths, paths
// rooted on the current drive (`\dir\file` on Windows) and the empty string
// (meaning "not set") are returned unchanged.
func ResolveConfigPath(path, exeDir string) string {
	if path == "" || filepath.IsAbs(path) || strings.HasPrefix(path, string(filepath.Separator)) || filepath.VolumeName(path) != "" {
		return path
	}
	return filepath.Join(exeDir, path)
}

// FileFlag names a command-line flag that takes a file path, for ResolveArgs.
type FileFlag struct {
	// Name is the flag name without dashes, e.g. "config.file".
	Name string
	// Default is the flag's default value; when the flag is absent from
	// args and Default is relative, ResolveArgs adds the flag with Default
	// resolved against the executable's directory.
	Default string
}

// ResolveArgs returns a copy of args in which the values of the given file
// flags are resolved with ResolveConfigPath. It understands the two forms
// kingpin accepts, `--name=value` and `--name value`, and stops at `--`.
// It exists so that main can keep parsing flags in one place while a service
// still finds its files next to the executable.
func ResolveArgs(args []string, exeDir string, flags ...FileFlag) []string {
	out := make([]string, len(args), len(args)+len(flags))
	copy(out, args)
	seen := make(map[string]bool, len(flags))
	for i := 0; i < len(out); i++ {
		a := out[i]
		if a == "--" {
			break
		}
		for _, f := range flags {
			long := "--" + f.Name
			switch {
			case strings.HasPrefix(a, long+"="):
				out[i] = long + "=" + ResolveConfigPath(strings.TrimPrefix(a, long+"="), exeDir)
				seen[f.Name] = true
			case a == long && i+1 < len(out):
				out[i+1] = ResolveConfigPath(out[i+1], exeDir)
				seen[f.Name] = true
				i++
			}
		}
	}
	var missing []string
	for _, f := range flags {
		if !seen[f.Name] && f.Default != "" {
			if p := ResolveConfigPath(f.Default, exeDir); p != f.Default {
				missing = append(missing, "--"+f.Name+"="+p)
			}
		}
	}
	if len(missing) == 0 {
		return out
	}
	// Flags must come before a "--" terminator to be parsed as flags.
	for i, a := range out {
		if a == "--" {
			return append(append(append([]string{}, out[:i]...), missing...), out[i:]...)
		}
	}
	return append(out, missing...)
}

// eventSink is the part of *eventlog.Log the loggers use; a fake implements
// it in tests.
type eventSink interface {
	Info(eid uint32, msg string) error
	Warning(eid uint32, msg string) error
	Error(eid uint32, msg string) error
}

// Event IDs by severity, so that admins can filter in Event Viewer without
// parsing messages. They stay within 1..1000, the range EventCreate.exe's
// message file (the one eventlog.InstallAsEventCreate registers) covers.
const (
	eventIDInfo    uint32 = 1
	eventIDWarning uint32 = 2
	eventIDError   uint32 = 3
)

// maxEventMessage keeps a record below the event log's per-string limit
// (31,839 characters); longer ones are rejected by ReportEvent.
const maxEventMessage = 31000

type severity int

const (
	severityInfo severity = iota
	severityWarning
	severityError
)

func severityOfLevel(level string) severity {
	switch strings.ToLower(level) {
	case "error", "err", "crit", "critical", "fatal", "emerg", "alert":
		return severityError
	case "warn", "warning":
		return severityWarning
	}
	return severityInfo
}

func emit(sink eventSink, sev severity, msg string) error {
	if len(msg) > maxEventMessage {
		msg = msg[:maxEventMessage] + "…"
	}
	switch sev {
	case severityError:
		return sink.Error(eventIDError, msg)
	case severityWarning:
		return sink.Warning(eventIDWarning, msg)
	}
	return sink.Info(eventIDInfo, msg)
}

// levelRE finds the level in a logfmt (`level=warn`) or JSON
// (`"level":"warn"`) record, the two formats --log.format offers.
var levelRE = regexp.MustCompile(`(?:^|[\s,{])"?level"?\s*[=:]\s*"?([A-Za-z]+)`)

// eventWriter turns each Write into one event. go-kit's loggers write each
// record with a single Write, so handing this writer to the code that
// already builds a logger from --log.level and --log.format keeps those
// flags working for a service.
type eventWriter struct {
	sink eventSink
}

func (w eventWriter) Write(p []byte) (int, error) {
	msg := strings.TrimRight(string(p), "\r\n")
	if strings.TrimSpace(msg) == "" {
		return len(p), nil
	}
	sev := severityInfo
	if m := levelRE.FindStringSubmatch(msg); m != nil {
		sev = severityOfLevel(m[1])
	}
	if err := emit(w.sink, sev, msg); err != nil {
		return 0, err
	}
	return len(p), nil
}

// MainFunc is the shape of the exporter's run: it parses args, logs to
// stderr and returns the process exit code when ctx ends.
type MainFunc func(ctx context.Context, args []string, stdout, stderr io.Writer) int

// Main is what main calls first: when the process was started by the
// Windows service control manager it runs main as the service named name and
// returns isService=true with the exit code; otherwise (and on every other
// OS) it returns isService=false at once and main carries on as usual.
//
// As a service, relative paths of the given file flags are resolved against
// the executable's directory (the working directory is System32), and
// stdout/stderr go to the Windows event log, one event per log record, so
// --log.level and --log.format keep working and no --log.file is needed. If
// the event log cannot be opened, output goes to NAME.log beside the
// executable instead.
func Main(name string, main MainFunc, args []string, flags ...FileFlag) (isService bool, exitCode int) {
	return Run(name, func(ctx context.Context) int {
		exe, err := os.Executable()
		if err != nil {
			exe = "."
		}
		return runAsService(ctx, name, exe, args, flags, newEventWriterOrFile, main)
	})
}

// runAsService prepares output and arguments for main as a service.
func runAsService(ctx context.Context, name, exe string, args []string, flags []FileFlag,
	newWriter func(name, exeDir string) (io.WriteCloser, error), main MainFunc,
) int {
	exeDir := filepath.Dir(exe)
	w, err := newWriter(name, exeDir)
	if err != nil {
		// No event log and no writable directory: run anyway, since the
		// metrics endpoint is still useful, and stay silent.
		w = nopWriteCloser{io.Discard}
	}
	defer w.Close()
	return main(ctx, ResolveArgs(args, exeDir, flags...), w, w)
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// newEventWriterOrFile opens the event log, falling back to a log file
// beside the executable.
func newEventWriterOrFile(name, exeDir string) (io.WriteCloser, error) {
	if w, err := NewServiceWriter(name); err == nil {
		return w, nil
	}
	return os.OpenFile(filepath.Join(exeDir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
}
