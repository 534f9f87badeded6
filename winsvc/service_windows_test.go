//go:build windows

package winsvc

import (
	"context"
	"testing"
	"time"

	"golang.org/x/sys/windows/svc"
)

// Execute needs no service control manager: svc.Run only feeds it
// channels, so the adapter is tested by feeding them here.
func TestExecuteTranslatesForTheSCM(t *testing.T) {
	r := make(chan svc.ChangeRequest)
	s := make(chan svc.Status, 16)
	h := &handler{run: func(ctx context.Context) int {
		<-ctx.Done()
		return 3
	}}
	type result struct {
		specific bool
		code     uint32
	}
	done := make(chan result, 1)
	go func() {
		specific, code := h.Execute(nil, r, s)
		done <- result{specific, code}
	}()
	next := func() svc.Status {
		t.Helper()
		select {
		case st := <-s:
			return st
		case <-time.After(10 * time.Second):
			t.Fatal("no status")
		}
		return svc.Status{}
	}
	if st := next(); st.State != svc.StartPending {
		t.Fatalf("first status %+v, want StartPending", st)
	}
	if st := next(); st.State != svc.Running || st.Accepts != svc.AcceptStop|svc.AcceptShutdown {
		t.Fatalf("second status %+v, want Running accepting stop and shutdown", st)
	}
	r <- svc.ChangeRequest{Cmd: svc.Interrogate}
	if st := next(); st.State != svc.Running {
		t.Fatalf("interrogate answered %+v, want Running", st)
	}
	r <- svc.ChangeRequest{Cmd: svc.Stop}
	if st := next(); st.State != svc.StopPending || st.WaitHint != uint32(stopWaitHint.Milliseconds()) {
		t.Fatalf("after stop %+v, want StopPending with the wait hint", st)
	}
	got := <-done
	if !got.specific || got.code != 3 {
		t.Errorf("Execute = (%v, %d), want (true, 3)", got.specific, got.code)
	}
	select {
	case st := <-s:
		t.Errorf("status %+v after StopPending; Stopped is svc.Run's to report", st)
	default:
	}
}
