package server

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/vb365-exporter/vb365_exporter/config"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// MaxCalls is how many calls a scrape keeps for the landing page's debug view; a scrape of
// 10,000 sessions should not keep 10,000. At that count the page says the list may be cut.
const MaxCalls = 200

// collect is one read of the server, bounded by ctx. In order:
//
//  1. the wanted sessions: the configured ones and, with discovery, those it selects from
//     the session list (which also serves the configured sessions it holds);
//  2. each wanted session from the cache or that list, and the rest read, by ID or from the
//     unfiltered list when that costs the server less (bulk.go);
//  3. once each, the logs of sessions that ended Failed or Warning;
//  4. up, from every call of the read; then what is final is kept and what changed logged.
//
// The kinds of collect: (data retrievals, jobs, ...) are read beside all of this
// (installation.go).
func (srv *Server) collect(ctx context.Context) *Snapshot {
	cfg, disc := srv.config()
	start := srv.now()
	rec := vb365.NewCallRecorder(MaxCalls)
	ctx = vb365.WithCallRecorder(ctx, rec)
	snap := &Snapshot{Server: cfg.Name, Start: start}
	calls := &outcomes{}
	conds := conditions{}

	kinds := srv.readKinds(ctx, cfg, snap, calls)

	listed := srv.wanted(ctx, cfg, disc, snap, calls, conds)
	srv.readSessions(ctx, cfg, snap, listed, calls)
	srv.readLogs(ctx, cfg, snap)
	maps.Copy(conds, kinds())
	snap.Collectors = append(snap.Collectors, srv.logs.endRound())

	if !calls.asked {
		// Everything came from cache: ask the server one cheap question so that `up` still
		// tells whether it is reachable and accepts our credentials. v6 and v7 tell the
		// list's length on the way, which the next read strategy decision needs.
		p, err := srv.client.ListSessions(ctx, vb365.ListOptions{Limit: 1})
		calls.add(err)
		srv.noteListSize(p)
	}
	snap.Up = calls.answered
	if !snap.Up {
		snap.Err = calls.err
	}
	snap.Duration = srv.now().Sub(start)
	snap.Calls = rec.Calls()
	srv.keep(cfg, snap)
	srv.conditions.update(srv.logger, causes(snap, conds))
	return snap
}

// wanted puts the sessions this read is about into snap, configured ones first, and
// returns the configured sessions that discovery's list held (ID -> session).
func (srv *Server) wanted(ctx context.Context, cfg *config.ServerConfig, d *Discovery, snap *Snapshot, calls *outcomes, conds conditions) map[vb365.ID]vb365.Session {
	snap.Sessions = make([]SessionResult, len(cfg.Sessions))
	configured := make(map[vb365.ID]bool, len(cfg.Sessions))
	for i, id := range cfg.Sessions {
		snap.Sessions[i].ID = id
		configured[id] = true
	}
	if d == nil {
		srv.mu.Lock()
		srv.discovered = nil
		srv.mu.Unlock()
		return nil
	}
	found, dropped, listed, err := srv.discover(ctx, d, cfg.Sessions)
	calls.add(err)
	snap.Discovery = &DiscoveryResult{Err: err}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if err != nil {
		// The sessions of the last discovery turn into scrape_success 0 rather than
		// vanishing, which would resolve the alerts on them.
		before := len(snap.Sessions)
		for _, id := range srv.discovered {
			if !configured[id] {
				snap.Sessions = append(snap.Sessions, SessionResult{ID: id, Err: err})
			}
		}
		msg := "session discovery failed"
		if len(snap.Sessions) > before { // a first scrape has nothing discovered before
			msg += "; previously discovered sessions are reported as not read"
		}
		conds["discovery: "+vb365.Reason(err)] = []any{"msg", msg, "reason", vb365.Reason(err), "err", err}
		conds["discovery: dropping"] = nil // not read: as it was
		return nil
	}
	snap.Discovery.Sessions, snap.Discovery.Dropped = len(found), dropped
	srv.discovered = srv.discovered[:0]
	for i := range found {
		s := found[i]
		srv.discovered = append(srv.discovered, s.ID)
		if !configured[s.ID] {
			// From the list: they cost no request of their own.
			snap.Sessions = append(snap.Sessions, SessionResult{ID: s.ID, Session: &s})
		}
	}
	if dropped > 0 {
		conds["discovery: dropping"] = []any{"msg", "more sessions discovered than max_sessions allows; the oldest are dropped (see vb365_discovery_sessions_dropped)",
			"max_sessions", d.MaxSessions, "dropped", dropped}
	}
	return listed
}

// readSessions fills the configured sessions from the cache or discovery's list, and reads
// the rest: from the session list when that costs the server less (see planList), and one
// GET per session for those still missing, so that a session the list lacks still gets its
// own answer (a 404 stays that session's).
func (srv *Server) readSessions(ctx context.Context, cfg *config.ServerConfig, snap *Snapshot, listed map[vb365.ID]vb365.Session, calls *outcomes) {
	var toRead []int
	ttl := cfg.CacheTTLDuration()
	srv.mu.Lock()
	for i := range cfg.Sessions {
		r := &snap.Sessions[i]
		if e, ok := srv.cache[r.ID]; ok && ttl > 0 && snap.Start.Sub(e.readAt) < ttl {
			s := e.session
			r.Session, r.Cached = &s, true
		} else if s, ok := listed[r.ID]; ok {
			r.Session = &s
		} else {
			toRead = append(toRead, i)
		}
	}
	size := srv.size
	srv.mu.Unlock()

	if planList(srv.mode, len(toRead), size) {
		want := make(map[vb365.ID]int, len(toRead))
		for _, i := range toRead {
			want[snap.Sessions[i].ID] = i
		}
		calls.add(srv.listRead(ctx, snap, want))
		rest := toRead[:0]
		for _, i := range toRead {
			if snap.Sessions[i].Session == nil {
				rest = append(rest, i)
			}
		}
		toRead = rest
	}
	each(ctx, cfg.MaxConcurrentRequests, toRead, func(i int) {
		r := &snap.Sessions[i]
		r.Session, r.Err = srv.client.GetSession(ctx, r.ID)
		calls.add(r.Err)
	})
}

// readLogs attaches to each session that ended Failed or Warning what its log says (see
// logReader: each log read once, going on where a read stopped, failures paused). Log
// reads are not calls for up: a broken LogItems endpoint is not a server that is down.
func (srv *Server) readLogs(ctx context.Context, cfg *config.ServerConfig, snap *Snapshot) {
	var toRead []int
	for i := range snap.Sessions {
		if wantsLog(snap.Sessions[i].Session) {
			toRead = append(toRead, i)
		}
	}
	each(ctx, cfg.MaxConcurrentRequests, toRead, func(i int) {
		r := &snap.Sessions[i]
		r.Log = srv.logs.read(ctx, "session "+string(r.ID), vb365.SessionLogPath(r.ID), r.Session.Status)
	})
}

// WantsLog reports whether the session's log is read for why it ended: it ended Failed or
// Warning. Log stays nil until it has been read.
func (r *SessionResult) WantsLog() bool { return wantsLog(r.Session) }

// wantsLog reports whether a session's log says why it failed: it ended Failed or Warning.
func wantsLog(s *vb365.Session) bool {
	return s != nil && s.Final() && (s.Status == vb365.StatusFailed || s.Status == vb365.StatusWarning)
}

// keep caches the finished configured sessions, and forgets what is no longer wanted.
func (srv *Server) keep(cfg *config.ServerConfig, snap *Snapshot) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	wanted := make(map[vb365.ID]bool, len(snap.Sessions))
	for _, r := range snap.Sessions {
		wanted[r.ID] = true
	}
	for i := range cfg.Sessions {
		r := &snap.Sessions[i]
		if r.Session != nil && !r.Cached && cfg.CacheTTLDuration() > 0 && r.Session.Final() {
			srv.cache[r.ID] = cacheEntry{session: *r.Session, readAt: snap.Start}
		}
	}
	for id := range srv.cache {
		if !wanted[id] {
			delete(srv.cache, id)
		}
	}
	srv.last = snap
}

// each runs fn for every index with at most n in flight, and stops starting new ones when
// ctx ends (the calls themselves end with it too).
func each(ctx context.Context, n int, idx []int, fn func(int)) {
	var g errgroup.Group
	g.SetLimit(max(n, 1))
	for _, i := range idx {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error { fn(i); return nil })
	}
	_ = g.Wait()
}

// outcomes gathers what the calls of one read came to, for `up`: the API answered when any
// call got an answer about its request.
type outcomes struct {
	mu       sync.Mutex
	asked    bool
	answered bool
	// err is the first failure, the reason given when nothing answered.
	err error
}

func (o *outcomes) add(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.asked = true
	if apiAnswered(err) {
		o.answered = true
	} else if o.err == nil {
		o.err = err
	}
}

// apiAnswered is true when a call reached the API with a valid token and got an answer that
// is about the request rather than the server's health: 2xx and 4xx other than 401.
func apiAnswered(err error) bool {
	if err == nil {
		return true
	}
	var apiErr *vb365.APIError
	if errors.As(err, &apiErr) && apiErr.Endpoint != "token" {
		return apiErr.StatusCode < 500 && apiErr.StatusCode != http.StatusUnauthorized
	}
	var decErr *vb365.DecodeError
	return errors.As(err, &decErr) && decErr.Endpoint != "token"
}
