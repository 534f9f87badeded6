package server

import (
	"context"
	"sync"
	"time"

	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// Bounds of the log reads of one server. A log that fails is tried again after
// logRetryFirst, then after twice as long each time up to logRetryMax: a LogItems endpoint
// that always fails costs a few requests an hour per log, not one per scrape.
const (
	// maxLogReads bounds the logs one read (a round) fetches: a first scrape of many
	// finished sessions reads their logs over several scrapes instead of holding this one up.
	maxLogReads   = 50
	logRetryFirst = 30 * time.Second
	logRetryMax   = time.Hour
	logCutNote    = " (log cut)"
)

// logReader reads the logs of finished sessions, of any kind (data retrieval sessions, job
// sessions), for why they ended:
//   - a log read to its end is kept, and never read again while it is asked for;
//   - a read stopped by the deadline or a failed page goes on, next time, from the page
//     where it stopped (vb365.LogProgress: counts and candidate reasons, never the items);
//   - a failed read is retried only after a pause that doubles with each failure;
//   - a round (one collect) starts at most maxLogReads reads, and at its end what was not
//     asked for during it or the round before is forgotten.
//
// Log reads never count for up: a failed one shows in the reason of its session and in the
// collector result "logs".
type logReader struct {
	client *vb365.Client
	now    func() time.Time

	mu    sync.Mutex
	logs  map[string]*logState
	round uint64
	// reads counts the reads this round started; err is its first failure; from and to
	// span its reads.
	reads    int
	err      error
	from, to time.Time
}

type logState struct {
	path string
	// log is set once the log has been read to its end.
	log      *SessionLog
	progress vb365.LogProgress
	// err is the last read's failure; failures count them in a row, and the next read waits
	// until retryAt.
	err      error
	failures int
	retryAt  time.Time
	asked    uint64
	busy     bool
}

func newLogReader(client *vb365.Client, now func() time.Time) *logReader {
	return &logReader{client: client, now: now, logs: map[string]*logState{}}
}

// read returns what the log at path (vb365.SessionLogPath, vb365.JobSessionLogPath) says
// about why the finished session key, which ended with status, ended so: kept, or read
// now within ctx, going on where an earlier read stopped. It is nil while the log is not
// read yet (this round has started its maxLogReads reads, or another read of it is in
// flight); a log that could not be read has Err set and a Reason that says so.
func (lr *logReader) read(ctx context.Context, key, path, status string) *SessionLog {
	lr.mu.Lock()
	st := lr.logs[key]
	if st == nil || st.path != path {
		st = &logState{path: path}
		lr.logs[key] = st
	}
	st.asked = lr.round
	switch {
	case st.log != nil:
		lr.mu.Unlock()
		return st.log
	case st.busy:
		lr.mu.Unlock()
		return nil
	case st.err != nil && (lr.now().Before(st.retryAt) || lr.reads >= maxLogReads):
		lr.note(st.err)
		lr.mu.Unlock()
		return unreadLog(st.err)
	case lr.reads >= maxLogReads:
		lr.mu.Unlock()
		return nil
	}
	lr.reads++
	st.busy = true
	p := st.progress
	start := lr.now()
	if lr.from.IsZero() {
		lr.from = start
	}
	lr.mu.Unlock()

	err := lr.client.ReadLog(ctx, path, &p)

	lr.mu.Lock()
	defer lr.mu.Unlock()
	st.busy = false
	if t := lr.now(); t.After(lr.to) {
		lr.to = t
	}
	if err == nil {
		st.log, st.progress, st.err, st.failures = summarize(status, &p), vb365.LogProgress{}, nil, 0
		return st.log
	}
	// A read cut by the deadline after it got somewhere goes on next time without a pause;
	// one that got nothing (a failure, a stall) waits.
	if ctx.Err() == nil || p.Pages == st.progress.Pages {
		st.failures++
		st.retryAt = lr.now().Add(min(logRetryFirst<<min(st.failures-1, 16), logRetryMax))
	}
	st.progress, st.err = p, err
	lr.note(err)
	return unreadLog(err)
}

func (lr *logReader) note(err error) {
	if lr.err == nil {
		lr.err = err
	}
}

// endRound ends a round: it returns how its log reads fared, and forgets the logs not
// asked for during it (sessions no longer wanted).
func (lr *logReader) endRound() CollectorResult {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	res := CollectorResult{Name: "logs", Err: lr.err, Duration: lr.to.Sub(lr.from)}
	for k, st := range lr.logs {
		// Reads may overlap (see join): what the round before asked for stays one more.
		if lr.round-st.asked > 1 && !st.busy {
			delete(lr.logs, k)
		}
	}
	lr.round++
	lr.reads, lr.err, lr.from, lr.to = 0, nil, time.Time{}, time.Time{}
	return res
}

// unreadLog is the log of a session whose log could not be read: its reason says so.
func unreadLog(err error) *SessionLog {
	return &SessionLog{Err: err, Reason: &vb365.LogItem{Message: "log could not be read: " + vb365.Reason(err)}}
}

// summarize turns a log read to its end into what is kept of it.
func summarize(status string, p *vb365.LogProgress) *SessionLog {
	s := &p.Summary
	l := &SessionLog{Errors: s.Errors, Warnings: s.Warnings, Cut: p.Cut}
	if why, ok := s.Reason(status); ok {
		// The client normalised and scrubbed the message (see vb365's masks.text): only the
		// cut is left.
		msg := vb365.ReasonMessage(why.Message)
		if p.Cut {
			msg = vb365.Cut(msg, vb365.MaxReasonBytes-len(logCutNote)) + logCutNote
		}
		why.Message = msg
		l.Reason = &why
	}
	return l
}
