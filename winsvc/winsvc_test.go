package winsvc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
)

// fakeSCM records reports and lets the test send requests.
type fakeSCM struct {
	requests chan request
	reports  chan status

	mu  sync.Mutex
	all []status
}

func newFakeSCM() *fakeSCM {
	return &fakeSCM{requests: make(chan request), reports: make(chan status, 64)}
}

func (f *fakeSCM) Requests() <-chan request { return f.requests }

func (f *fakeSCM) Report(s status) {
	f.mu.Lock()
	f.all = append(f.all, s)
	f.mu.Unlock()
	f.reports <- s
}

func (f *fakeSCM) history() []status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]status(nil), f.all...)
}

// guard only keeps a broken state machine from hanging the test binary; it
// is not a performance bound.
const guard = 10 * time.Second

func (f *fakeSCM) expect(t *testing.T, want status) {
	t.Helper()
	select {
	case got := <-f.reports:
		if got != want {
			t.Fatalf("reported %+v, want %+v", got, want)
		}
	case <-time.After(guard):
		t.Fatalf("no report; want %+v; history %+v", want, f.history())
	}
}

func (f *fakeSCM) send(t *testing.T, c cmd) {
	t.Helper()
	select {
	case f.requests <- request{Cmd: c}:
	case <-time.After(guard):
		t.Fatalf("state machine did not take request %v", c)
	}
}

var (
	startPending = status{State: stateStartPending, WaitHint: startWaitHint}
	running      = status{State: stateRunning, Accepts: acceptStop | acceptShutdown}
	stopping     = status{State: stateStopPending, WaitHint: stopWaitHint}
)

func stopped(code int) status { return status{State: stateStopped, ExitCode: code} }

// startServe runs serve in the background and returns a channel with its
// result.
func startServe(f *fakeSCM, run func(context.Context) int) <-chan int {
	result := make(chan int, 1)
	go func() { result <- serve(context.Background(), f, run) }()
	return result
}

func waitResult(t *testing.T, result <-chan int) int {
	t.Helper()
	select {
	case code := <-result:
		return code
	case <-time.After(guard):
		t.Fatal("serve did not return")
	}
	return -1
}

func TestServeStartAndStop(t *testing.T) {
	f := newFakeSCM()
	var ctxErr error
	result := startServe(f, func(ctx context.Context) int {
		<-ctx.Done()
		ctxErr = ctx.Err()
		return 0
	})
	f.expect(t, startPending)
	f.expect(t, running)
	f.send(t, cmdStop)
	f.expect(t, stopping)
	f.expect(t, stopped(0))
	if code := waitResult(t, result); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
	if !errors.Is(ctxErr, context.Canceled) {
		t.Errorf("run's context error = %v, want context.Canceled", ctxErr)
	}
}

func TestServeShutdownPassesRunExitCode(t *testing.T) {
	f := newFakeSCM()
	result := startServe(f, func(ctx context.Context) int {
		<-ctx.Done()
		return 3
	})
	f.expect(t, startPending)
	f.expect(t, running)
	f.send(t, cmdShutdown)
	f.expect(t, stopping)
	f.expect(t, stopped(3))
	if code := waitResult(t, result); code != 3 {
		t.Errorf("exit code %d, want 3", code)
	}
}

func TestServeInterrogateAndRepeatedStop(t *testing.T) {
	f := newFakeSCM()
	release := make(chan struct{})
	canceled := make(chan struct{})
	result := startServe(f, func(ctx context.Context) int {
		<-ctx.Done()
		close(canceled)
		// Keep shutting down until the test lets go, so that requests
		// arrive while the service is stop-pending.
		<-release
		return 0
	})
	f.expect(t, startPending)
	f.expect(t, running)
	f.send(t, cmdInterrogate)
	f.expect(t, running)
	f.send(t, cmdOther)
	f.send(t, cmdInterrogate)
	f.expect(t, running) // cmdOther produced no report of its own
	f.send(t, cmdStop)
	f.expect(t, stopping)
	<-canceled
	f.send(t, cmdStop) // the SCM may repeat a stop; it must not be reported again
	f.send(t, cmdInterrogate)
	f.expect(t, stopping)
	close(release)
	f.expect(t, stopped(0))
	waitResult(t, result)
	want := []status{startPending, running, running, running, stopping, stopping, stopped(0)}
	if got := f.history(); !reflect.DeepEqual(got, want) {
		t.Errorf("history\n got %+v\nwant %+v", got, want)
	}
}

func TestServeRunExitsByItself(t *testing.T) {
	f := newFakeSCM()
	result := startServe(f, func(context.Context) int { return 2 })
	if code := waitResult(t, result); code != 2 {
		t.Errorf("exit code %d, want 2", code)
	}
	want := []status{startPending, running, stopping, stopped(2)}
	if got := f.history(); !reflect.DeepEqual(got, want) {
		t.Errorf("history\n got %+v\nwant %+v", got, want)
	}
}

func TestServeStopsWhenRequestsClose(t *testing.T) {
	f := newFakeSCM()
	result := startServe(f, func(ctx context.Context) int {
		<-ctx.Done()
		return 0
	})
	f.expect(t, startPending)
	f.expect(t, running)
	close(f.requests)
	f.expect(t, stopping)
	f.expect(t, stopped(0))
	waitResult(t, result)
}

func TestStateString(t *testing.T) {
	for s, want := range map[state]string{
		stateStopped: "Stopped", stateStartPending: "StartPending",
		stateStopPending: "StopPending", stateRunning: "Running", state(42): "state(42)",
	} {
		if got := s.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(s), got, want)
		}
	}
}

func TestResolveConfigPath(t *testing.T) {
	exeDir := filepath.Join(t.TempDir(), "vb365_exporter")
	abs := filepath.Join(t.TempDir(), "etc", "config.yml")
	for _, tc := range []struct{ path, want string }{
		{"config.yml", filepath.Join(exeDir, "config.yml")},
		{filepath.Join("conf", "config.yml"), filepath.Join(exeDir, "conf", "config.yml")},
		{filepath.Join("..", "shared.yml"), filepath.Join(filepath.Dir(exeDir), "shared.yml")},
		{abs, abs},
		{string(filepath.Separator) + "config.yml", string(filepath.Separator) + "config.yml"},
		{"", ""},
	} {
		if got := ResolveConfigPath(tc.path, exeDir); got != tc.want {
			t.Errorf("ResolveConfigPath(%q, %q) = %q, want %q", tc.path, exeDir, got, tc.want)
		}
	}
}

func TestResolveArgs(t *testing.T) {
	exeDir := filepath.Join(t.TempDir(), "exe")
	abs := filepath.Join(t.TempDir(), "abs.yml")
	in := func(name string) string { return filepath.Join(exeDir, name) }
	flags := []FileFlag{{Name: "config.file", Default: "config.yml"}, {Name: "web.config.file"}}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"default added", nil, []string{"--config.file=" + in("config.yml")}},
		{"equals form", []string{"--config.file=my.yml", "--log.level=debug"},
			[]string{"--config.file=" + in("my.yml"), "--log.level=debug"}},
		{"separate value", []string{"--config.file", "my.yml", "--web.config.file", "web.yml"},
			[]string{"--config.file", in("my.yml"), "--web.config.file", in("web.yml")}},
		{"absolute kept", []string{"--config.file=" + abs}, []string{"--config.file=" + abs}},
		{"empty web config means none", []string{"--web.config.file="},
			[]string{"--web.config.file=", "--config.file=" + in("config.yml")}},
		{"similar flag name untouched", []string{"--config.filex=a.yml"},
			[]string{"--config.filex=a.yml", "--config.file=" + in("config.yml")}},
		{"after terminator untouched", []string{"--log.level=info", "--", "--config.file=x.yml"},
			[]string{"--log.level=info", "--config.file=" + in("config.yml"), "--", "--config.file=x.yml"}},
		{"flag without value left alone", []string{"--web.config.file"},
			[]string{"--web.config.file", "--config.file=" + in("config.yml")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			orig := append([]string(nil), tc.args...)
			got := ResolveArgs(tc.args, exeDir, flags...)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ResolveArgs(%q)\n got %q\nwant %q", tc.args, got, tc.want)
			}
			if !reflect.DeepEqual(tc.args, orig) {
				t.Errorf("input changed to %q", tc.args)
			}
		})
	}
}

type event struct {
	id   uint32
	kind string
	msg  string
}

type fakeSink struct {
	events []event
	err    error
}

func (s *fakeSink) add(id uint32, kind, msg string) error {
	s.events = append(s.events, event{id, kind, msg})
	return s.err
}
func (s *fakeSink) Info(id uint32, msg string) error    { return s.add(id, "info", msg) }
func (s *fakeSink) Warning(id uint32, msg string) error { return s.add(id, "warning", msg) }
func (s *fakeSink) Error(id uint32, msg string) error   { return s.add(id, "error", msg) }

func TestEventWriterWithLogfmtAndJSON(t *testing.T) {
	sink := &fakeSink{}
	w := eventWriter{sink: sink}
	logfmt := log.NewLogfmtLogger(w)
	jsonl := log.NewJSONLogger(w)
	_ = level.Error(logfmt).Log("msg", "boom")
	_ = level.Warn(jsonl).Log("msg", "careful")
	_ = level.Debug(jsonl).Log("msg", "details")
	if n, err := w.Write([]byte("\n")); n != 1 || err != nil {
		t.Errorf("blank write = %d, %v; want 1, nil", n, err)
	}
	_, _ = w.Write([]byte("usage: vb365_exporter [<flags>]\n"))
	want := []event{
		{eventIDError, "error", `level=error msg=boom`},
		{eventIDWarning, "warning", `{"level":"warn","msg":"careful"}`},
		{eventIDInfo, "info", `{"level":"debug","msg":"details"}`},
		{eventIDInfo, "info", `usage: vb365_exporter [<flags>]`},
	}
	if !reflect.DeepEqual(sink.events, want) {
		t.Errorf("events\n got %+v\nwant %+v", sink.events, want)
	}
}

func TestEventWriterReportsSinkError(t *testing.T) {
	sinkErr := errors.New("event log full")
	w := eventWriter{sink: &fakeSink{err: sinkErr}}
	if n, err := w.Write([]byte("level=info msg=x\n")); n != 0 || !errors.Is(err, sinkErr) {
		t.Errorf("Write = %d, %v; want 0, %v", n, err, sinkErr)
	}
}

func TestEventMessagesAreTruncated(t *testing.T) {
	sink := &fakeSink{}
	_, _ = eventWriter{sink: sink}.Write([]byte(strings.Repeat("x", 2*maxEventMessage)))
	if len(sink.events) != 1 {
		t.Fatalf("got %d events, want 1", len(sink.events))
	}
	if got := sink.events[0].msg; len(got) > maxEventMessage+len("…") || !strings.HasSuffix(got, "…") {
		t.Errorf("message of %d bytes not truncated to %d with an ellipsis", len(got), maxEventMessage)
	}
}

type recordingWriter struct {
	bytes.Buffer
	closed bool
}

func (w *recordingWriter) Close() error { w.closed = true; return nil }

func TestRunAsServiceResolvesArgsAndRedirectsOutput(t *testing.T) {
	exeDir := filepath.Join(t.TempDir(), "Program Files", "vb365_exporter")
	exe := filepath.Join(exeDir, "vb365_exporter.exe")
	out := &recordingWriter{}
	var gotName, gotDir string
	newWriter := func(name, dir string) (io.WriteCloser, error) {
		gotName, gotDir = name, dir
		return out, nil
	}
	var gotArgs []string
	main := func(_ context.Context, args []string, stdout, stderr io.Writer) int {
		gotArgs = args
		fmt.Fprintln(stdout, "to stdout")
		fmt.Fprintln(stderr, "level=info msg=started")
		return 4
	}
	code := runAsService(context.Background(), "vb365_exporter", exe, []string{"--log.level=debug"},
		[]FileFlag{{Name: "config.file", Default: "config.yml"}}, newWriter, main)
	if code != 4 {
		t.Errorf("exit code %d, want main's 4", code)
	}
	if gotName != "vb365_exporter" || gotDir != exeDir {
		t.Errorf("writer opened for (%q, %q), want (vb365_exporter, %q)", gotName, gotDir, exeDir)
	}
	want := []string{"--log.level=debug", "--config.file=" + filepath.Join(exeDir, "config.yml")}
	if !reflect.DeepEqual(gotArgs, want) {
		t.Errorf("main got args %q, want %q", gotArgs, want)
	}
	if got := out.String(); got != "to stdout\nlevel=info msg=started\n" {
		t.Errorf("service output %q", got)
	}
	if !out.closed {
		t.Error("service output not closed when main returned")
	}
}

func TestRunAsServiceRunsWithoutAnyOutput(t *testing.T) {
	failing := func(string, string) (io.WriteCloser, error) { return nil, errors.New("no event log") }
	ran := false
	code := runAsService(context.Background(), "x", filepath.Join(t.TempDir(), "x.exe"), nil, nil, failing,
		func(_ context.Context, _ []string, stdout, _ io.Writer) int {
			ran = true
			fmt.Fprintln(stdout, "dropped") // must not panic on a nil writer
			return 0
		})
	if !ran || code != 0 {
		t.Errorf("ran=%v code=%d; want main to run and exit 0", ran, code)
	}
}

func TestLogFileFallbackBesideExecutable(t *testing.T) {
	dir := t.TempDir()
	// Outside Windows the event log never opens, so this exercises the
	// fallback a Windows service takes when the event log is unavailable.
	w, err := newEventWriterOrFile("vb365_exporter", dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, "level=warn msg=fallback\n"); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "vb365_exporter.log"))
	if err != nil || string(b) != "level=warn msg=fallback\n" {
		t.Errorf("log file = %q, %v", b, err)
	}
}
