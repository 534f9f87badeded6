//go:build windows

package winsvc

import (
	"context"
	"fmt"
	"io"

	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"
)

// Run runs run as the Windows service name when the process was started by
// the service control manager and returns isService=true with run's exit
// code once the service has stopped. Otherwise, as on every other OS, it
// returns isService=false at once and the caller runs interactively.
func Run(name string, run func(ctx context.Context) int) (isService bool, exitCode int) {
	isSvc, err := svc.IsWindowsService()
	if err != nil || !isSvc {
		return false, 0
	}
	h := &handler{run: run}
	if err := svc.Run(name, h); err != nil {
		// The dispatcher could not even connect to the SCM; there is no
		// service to report to, so the process exit code is all we have.
		return true, 1
	}
	return true, h.exitCode
}

// handler adapts svc.Handler to the platform-neutral state machine.
type handler struct {
	run      func(ctx context.Context) int
	exitCode int
}

func (h *handler) Execute(_ []string, r <-chan svc.ChangeRequest, s chan<- svc.Status) (bool, uint32) {
	c := &scm{in: r, out: s, requests: make(chan request), done: make(chan struct{})}
	go c.forward()
	h.exitCode = serve(context.Background(), c, h.run)
	close(c.done)
	switch {
	case h.exitCode == 0:
		return false, 0
	case h.exitCode < 0:
		return true, 1
	default:
		// Service-specific, so the SCM shows our code rather than
		// interpreting it as a Win32 error number.
		return true, uint32(h.exitCode)
	}
}

// scm implements control over the channels svc.Run provides.
type scm struct {
	in       <-chan svc.ChangeRequest
	out      chan<- svc.Status
	requests chan request
	done     chan struct{}
}

func (c *scm) forward() {
	for {
		select {
		case cr := <-c.in:
			req := request{Cmd: cmdOther}
			switch cr.Cmd {
			case svc.Stop:
				req.Cmd = cmdStop
			case svc.Shutdown:
				req.Cmd = cmdShutdown
			case svc.Interrogate:
				req.Cmd = cmdInterrogate
			}
			select {
			case c.requests <- req:
			case <-c.done:
				return
			}
		case <-c.done:
			return
		}
	}
}

func (c *scm) Requests() <-chan request { return c.requests }

func (c *scm) Report(st status) {
	if st.State == stateStopped {
		// svc.Run reports Stopped itself, together with the exit code that
		// Execute returns; sending it here too would first tell the SCM
		// "stopped, no error" even when run failed.
		return
	}
	out := svc.Status{WaitHint: uint32(st.WaitHint.Milliseconds())}
	switch st.State {
	case stateStartPending:
		out.State = svc.StartPending
	case stateRunning:
		out.State = svc.Running
	case stateStopPending:
		out.State = svc.StopPending
	}
	if st.Accepts&acceptStop != 0 {
		out.Accepts |= svc.AcceptStop
	}
	if st.Accepts&acceptShutdown != 0 {
		out.Accepts |= svc.AcceptShutdown
	}
	c.out <- out
}

// NewServiceWriter returns a writer that turns each Write into one event in
// the Application event log under source name. Handing it to the code that
// builds the logger from --log.level and --log.format keeps those flags
// working for the service.
func NewServiceWriter(name string) (io.WriteCloser, error) {
	el, err := eventlog.Open(name)
	if err != nil {
		return nil, fmt.Errorf("open event log source %q: %w", name, err)
	}
	return eventWriteCloser{eventWriter{sink: el}, el}, nil
}

type eventWriteCloser struct {
	eventWriter
	io.Closer
}
