package server

import (
	"context"
	"sync"
	"time"
)

// maxSharedRead bounds how far callers joining a shared read can push its deadline, counted
// from the read's start: far beyond any sensible scrape timeout, so that no stream of
// callers can keep one read (and its connections) alive indefinitely.
const maxSharedRead = 5 * time.Minute

// sharedRead is one read of the server whose result every caller that joined it receives.
type sharedRead struct {
	ctx  *deadlineContext
	done chan struct{}
	snap *Snapshot
}

// join adds the caller to the read in flight, moving that read's deadline to the caller's
// when it is later, or starts a new read. A caller with a later deadline is therefore never
// answered worse than alone; one with an earlier deadline stops waiting at its own.
func (srv *Server) join(ctx context.Context) *sharedRead {
	want := readDeadline(ctx)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if r := srv.reading; r != nil && r.ctx.extend(want) {
		return r
	}
	// The read must not die with the first caller's connection, only with the deadline.
	r := &sharedRead{ctx: newDeadlineContext(context.WithoutCancel(ctx), want, time.Now().Add(maxSharedRead)), done: make(chan struct{})}
	srv.reading = r
	srv.reads++
	go func() {
		snap := srv.collect(r.ctx)
		r.ctx.stop()
		srv.mu.Lock()
		if srv.reading == r {
			srv.reading = nil
		}
		srv.mu.Unlock()
		r.snap = snap
		close(r.done)
		srv.release() // after the callers have their answer: it may log out
	}()
	return r
}

// stopRead ends the shared read in flight now (its callers get what it has so far). The
// read in srv.reading is the only one whose context is still live: one that reached its
// deadline is already ending.
func (srv *Server) stopRead() {
	srv.mu.Lock()
	r := srv.reading
	srv.mu.Unlock()
	if r != nil {
		r.ctx.stop()
	}
}

// readDeadline is when a read for this caller must end: a little before the caller's
// deadline, so that the result, not the abandoned placeholder, reaches it. Zero is none.
func readDeadline(ctx context.Context) time.Time {
	dl, ok := ctx.Deadline()
	if !ok {
		return time.Time{}
	}
	return dl.Add(-min(100*time.Millisecond, time.Until(dl)/10))
}

// deadlineContext is a context whose deadline may move later until it has passed, which
// the standard contexts do not allow. Its values come from the caller that started the read.
type deadlineContext struct {
	context.Context
	done  chan struct{}
	limit time.Time

	mu       sync.Mutex
	deadline time.Time
	timer    *time.Timer
	err      error
}

// newDeadlineContext ends at deadline (at limit when deadline is zero or later).
func newDeadlineContext(values context.Context, deadline, limit time.Time) *deadlineContext {
	if deadline.IsZero() || deadline.After(limit) {
		deadline = limit
	}
	c := &deadlineContext{Context: values, done: make(chan struct{}), limit: limit, deadline: deadline}
	c.timer = time.AfterFunc(time.Until(deadline), c.expire)
	return c
}

func (c *deadlineContext) Deadline() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.deadline, true
}

func (c *deadlineContext) Done() <-chan struct{} { return c.done }

func (c *deadlineContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// extend moves the deadline to d when d is later (zero: the limit), never past the limit.
// It reports false when the context has already ended: the caller needs a read of its own.
func (c *deadlineContext) extend(d time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return false
	}
	if d.IsZero() || d.After(c.limit) {
		d = c.limit
	}
	if d.After(c.deadline) {
		c.deadline = d
		c.timer.Reset(time.Until(d))
	}
	return true
}

func (c *deadlineContext) expire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	if left := time.Until(c.deadline); left > 0 {
		// Extended while the timer was firing.
		c.timer.Reset(left)
		return
	}
	c.err = context.DeadlineExceeded
	close(c.done)
}

// stop ends the context when the read is done, releasing its timer and anything derived.
func (c *deadlineContext) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.timer.Stop()
	if c.err == nil {
		c.err = context.Canceled
		close(c.done)
	}
}
