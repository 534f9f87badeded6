package target

import (
	"context"
	"fmt"
	"time"

	"github.com/go-kit/log/level"

	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// maxRetrievalsAge bounds how long the data retrieval list is reused. A retrieval changes
// slowly (its lastStatus follows its newest session), and reading it on every scrape would
// add a request per scrape to a server the exporter tries to spare; cache_ttl, when shorter,
// wins, so cache_ttl 0 still reads it every scrape.
const maxRetrievalsAge = time.Minute

// DefaultMaxRetrievals is how many data retrievals a target keeps when its Config sets no
// bound: the config file's default for max_retrievals.
const DefaultMaxRetrievals = 1000

// retrievalsCache is the last good data retrieval list.
type retrievalsCache struct {
	list    []vb365.Retrieval
	invalid int
	dropped int
	readAt  time.Time
}

func maxRetrievals(cfg Config) int {
	if cfg.MaxRetrievals > 0 {
		return cfg.MaxRetrievals
	}
	return DefaultMaxRetrievals
}

// cachedRetrievals returns the cached list when it is younger than the TTL.
func (t *Target) cachedRetrievals(cfg Config, now time.Time) (retrievalsCache, bool) {
	ttl := min(cfg.CacheTTL, maxRetrievalsAge)
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.retrievals
	return c, ttl > 0 && !c.readAt.IsZero() && now.Sub(c.readAt) < ttl
}

// sideReads are the list reads of a scrape that run next to the per-session reads: the data
// retrievals, and the session list when discovery is on.
type sideReads struct {
	done chan struct{}

	retrievals    []vb365.Retrieval
	retrievalsErr error
	invalid       int
	// retrievalsDropped counts the retrievals beyond max_retrievals.
	retrievalsDropped int
	// retrievalsCached: the list came from cache, so it says nothing of the server now.
	retrievalsCached bool

	discovery bool
	// fullList: discovery reads the whole session list, which then also serves the
	// configured sessions; discDone is closed once listed is set.
	fullList bool
	discDone chan struct{}
	listed   []vb365.Session
	found    []vb365.Session
	dropped  int
	discErr  error
}

// startSideReads starts the scrape's list reads; finishSideReads waits for them. They share
// the client's concurrency limit and the scrape's deadline with the session reads.
func (t *Target) startSideReads(ctx context.Context, cfg Config) *sideReads {
	sr := &sideReads{done: make(chan struct{}), discDone: make(chan struct{}), discovery: cfg.Discovery != nil}
	sr.fullList = sr.discovery && len(cfg.Discovery.RetrievalIDs) == 0
	if !sr.discovery {
		t.mu.Lock()
		t.disc = discoveryState{}
		t.mu.Unlock()
	}
	go func() {
		defer close(sr.done)
		type result struct {
			c   retrievalsCache
			err error
		}
		rc := make(chan result, 1)
		if c, ok := t.cachedRetrievals(cfg, t.now()); ok {
			sr.retrievalsCached = true
			rc <- result{c, nil}
		} else {
			go func() {
				c := retrievalsCache{readAt: t.now()}
				var err error
				c.list, c.invalid, c.dropped, err = t.client.ListRetrievals(ctx, maxRetrievals(cfg))
				if err == nil {
					t.mu.Lock()
					t.retrievals = c
					t.mu.Unlock()
				}
				rc <- result{c, err}
			}()
		}
		if sr.discovery {
			sr.found, sr.dropped, sr.listed, sr.discErr = t.discover(ctx, cfg.Discovery, cfg.Sessions)
		}
		close(sr.discDone)
		r := <-rc
		sr.retrievals, sr.retrievalsErr, sr.invalid, sr.retrievalsDropped = r.c.list, r.err, r.c.invalid, r.c.dropped
	}()
	return sr
}

// finishSideReads waits for the side reads, puts their results into the snapshot, and
// returns whether the API answered any of them and the first error otherwise.
func (t *Target) finishSideReads(sr *sideReads, snap *Snapshot, cfg Config) (answered bool, firstErr error) {
	<-sr.done
	snap.Retrievals, snap.RetrievalsErr, snap.RetrievalsDropped = sr.retrievals, sr.retrievalsErr, sr.retrievalsDropped
	if !sr.retrievalsCached {
		answered = apiAnswered(sr.retrievalsErr)
		if !answered {
			firstErr = sr.retrievalsErr
		}
	}
	switch {
	case vb365.IsClientWide(sr.retrievalsErr):
		// Every call failed alike; logCauses' server line says it once.
	case sr.retrievalsErr != nil:
		t.logRetrievalsOnce(vb365.Reason(sr.retrievalsErr), "data retrievals not read; their metrics are absent", sr.retrievalsErr)
	case sr.invalid > 0:
		t.logRetrievalsOnce("malformed entries", "some data retrievals could not be decoded and are not shown",
			fmt.Errorf("%d malformed entries in the data retrieval list", sr.invalid))
	default:
		t.logRetrievalsOnce("", "", nil)
	}
	if sr.retrievalsErr == nil {
		t.logRetrievalsDropped(cfg, len(sr.retrievals), sr.retrievalsDropped)
	}
	if sr.discovery {
		t.mergeDiscovered(snap, cfg, sr.found, sr.dropped, sr.discErr)
		if apiAnswered(sr.discErr) {
			answered = true
		} else if firstErr == nil {
			firstErr = sr.discErr
		}
	}
	return answered, firstErr
}

// logRetrievalsOnce logs a retrievals problem when its cause first appears and when it
// clears, instead of on every scrape; an empty cause means no problem.
func (t *Target) logRetrievalsOnce(cause, msg string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case cause == t.retrievalsFailure:
	case cause != "":
		t.retrievalsFailure = cause
		level.Warn(t.logger).Log("msg", msg, "reason", cause, "err", err)
	default:
		level.Info(t.logger).Log("msg", "data retrievals read again", "cause", t.retrievalsFailure)
		t.retrievalsFailure = ""
	}
}

// logRetrievalsDropped warns once when the max_retrievals guard starts dropping, and says
// once when the list fits again, instead of on every scrape.
func (t *Target) logRetrievalsDropped(cfg Config, kept, dropped int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case dropped > 0 && !t.retrievalsDropping:
		t.retrievalsDropping = true
		level.Warn(t.logger).Log("msg", "more data retrievals than max_retrievals allows; the rest are not exported (see vb365_data_retrievals_dropped)",
			"max_retrievals", maxRetrievals(cfg), "dropped", dropped)
	case dropped == 0 && t.retrievalsDropping:
		t.retrievalsDropping = false
		level.Info(t.logger).Log("msg", "data retrievals fit within max_retrievals again", "retrievals", kept)
	}
}
