package server

import (
	"context"
	"slices"
	"time"
)

// maxSharedRead bounds a read, counted from its start, for a caller without a deadline.
const maxSharedRead = 5 * time.Minute

// maxReads bounds the reads of one server in flight at once: a caller beyond it shares a
// read even when that read cannot answer it in time (it then answers from what is known).
const maxReads = 4

// sharedRead is one read of the server whose result every caller that joined it receives.
type sharedRead struct {
	ctx             context.Context
	cancel          context.CancelFunc
	start, deadline time.Time
	done            chan struct{}
	snap            *Snapshot
}

// join gives the caller a read in flight whose result reaches it in time and that was given
// at least the time the caller alone would give one (its deadline is no later than the
// caller's, and it runs about as long as the caller could wait), or else a read of its own.
// So sharing never makes a scrape worse than running alone: a scrape with a short timeout
// is not made to wait for a long one in flight, and a long one is not answered with what a
// short one had time for. Scrapes alike in timeout (replicas, a reload storm) share one.
func (srv *Server) join(ctx context.Context) *sharedRead {
	now := time.Now()
	want := readDeadline(ctx)
	if limit := now.Add(maxSharedRead); want.IsZero() || want.After(limit) {
		want = limit
	}
	budget := want.Sub(now)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	var best, first *sharedRead
	for _, r := range srv.reading {
		if r.ctx.Err() != nil {
			continue // ending: its result is about to be kept, but it has nothing more to learn
		}
		if !r.deadline.After(want) && r.deadline.Sub(r.start) >= budget-budget/20 && (best == nil || r.deadline.After(best.deadline)) {
			best = r
		}
		if first == nil || r.deadline.Before(first.deadline) {
			first = r
		}
	}
	switch {
	case best != nil:
		return best
	case first != nil && len(srv.reading) >= maxReads:
		return first
	}
	// The read must not die with the caller's connection, only with the deadline.
	rctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), want)
	r := &sharedRead{ctx: rctx, cancel: cancel, start: now, deadline: want, done: make(chan struct{})}
	srv.reading = append(srv.reading, r)
	srv.begin()
	go func() {
		snap := srv.collect(r.ctx)
		r.cancel()
		srv.mu.Lock()
		srv.reading = slices.DeleteFunc(srv.reading, func(x *sharedRead) bool { return x == r })
		srv.mu.Unlock()
		r.snap = snap
		close(r.done)
		srv.release() // after the callers have their answer: it may log out
	}()
	return r
}

// stopRead ends the reads in flight now (their callers get what they have so far).
func (srv *Server) stopRead() {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for _, r := range srv.reading {
		r.cancel()
	}
}

// readDeadline is when a read for this caller must end: a little before the caller's
// deadline, so that the result, not the answer from what is known, reaches it. Zero is none.
func readDeadline(ctx context.Context) time.Time {
	dl, ok := ctx.Deadline()
	if !ok {
		return time.Time{}
	}
	return dl.Add(-min(100*time.Millisecond, time.Until(dl)/10))
}
