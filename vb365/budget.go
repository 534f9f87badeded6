package vb365

import (
	"context"
	"sync/atomic"

	"golang.org/x/sync/semaphore"
)

// maxBodiesInFlight bounds the bytes of answer bodies being read at once in the whole
// process, across every Client: however many servers, sessions and logs are read at once,
// and whatever the servers send, the bodies held or being decoded stay within it. It must
// hold the largest single cap (maxPageBody); what does not fit waits, within its deadline.
const maxBodiesInFlight = 96 << 20

var bodies = &budget{sem: semaphore.NewWeighted(maxBodiesInFlight), size: maxBodiesInFlight}

// budget is a weighted semaphore over bytes that remembers its peak, for the tests.
type budget struct {
	sem         *semaphore.Weighted
	size        int64
	inUse, peak atomic.Int64
}

// acquire takes n bytes of the budget (at most all of it), waiting within ctx.
func (b *budget) acquire(ctx context.Context, n int64) error {
	if err := b.sem.Acquire(ctx, min(n, b.size)); err != nil {
		return err
	}
	used := b.inUse.Add(min(n, b.size))
	for p := b.peak.Load(); used > p && !b.peak.CompareAndSwap(p, used); p = b.peak.Load() {
	}
	return nil
}

func (b *budget) release(n int64) {
	b.inUse.Add(-min(n, b.size))
	b.sem.Release(min(n, b.size))
}
