package vb365

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// Call is one API request as the debug page shows it: no headers, no query values that could
// hold a secret (the API takes none in URLs), no bodies.
type Call struct {
	Method   string
	Path     string
	Status   int // 0 when no answer came
	Duration time.Duration
	Error    string
}

// CallRecorder collects the calls of one scrape.
type CallRecorder struct {
	mu    sync.Mutex
	calls []Call
	max   int
}

// NewCallRecorder keeps at most limit calls; a scrape of 10,000 sessions should not keep 10,000.
func NewCallRecorder(limit int) *CallRecorder { return &CallRecorder{max: limit} }

// Calls returns a copy of the recorded calls.
func (r *CallRecorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Call(nil), r.calls...)
}

type recorderKey struct{}

// WithCallRecorder makes the client record every call made with the returned context.
func WithCallRecorder(ctx context.Context, r *CallRecorder) context.Context {
	return context.WithValue(ctx, recorderKey{}, r)
}

func recordCall(ctx context.Context, req *http.Request, status int, d time.Duration, err error) {
	r, _ := ctx.Value(recorderKey{}).(*CallRecorder)
	if r == nil {
		return
	}
	c := Call{Method: req.Method, Path: req.URL.Path, Status: status, Duration: d}
	if req.URL.RawQuery != "" {
		c.Path += "?" + req.URL.RawQuery
	}
	if err != nil {
		c.Error = Reason(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.calls) < r.max {
		r.calls = append(r.calls, c)
	}
}
