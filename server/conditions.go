package server

import (
	"maps"
	"slices"
	"strings"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// conditions are the problems one read found, each under a key that stays the same while
// the problem lasts (an error class, never an error's text, which carries times), with the
// warning that announces it. A nil line means the read could not tell (the list it comes
// from was not read): the condition stays as it was.
type conditions map[string][]any

// tracker logs each condition once when it appears and once when it clears, so that a
// lasting problem costs two lines, not one a scrape. It is the server's only "log once".
type tracker struct{ active map[string]bool }

func (tr *tracker) update(logger log.Logger, now conditions) {
	for _, k := range slices.Sorted(maps.Keys(now)) {
		if tr.active[k] || now[k] == nil {
			continue
		}
		if tr.active == nil {
			tr.active = map[string]bool{}
		}
		tr.active[k] = true
		level.Warn(logger).Log(now[k]...)
	}
	for _, k := range slices.Sorted(maps.Keys(tr.active)) {
		if _, ok := now[k]; !ok {
			delete(tr.active, k)
			level.Info(logger).Log("msg", "failure cleared", "cause", k)
		}
	}
}

// causes adds to conds the failures of the read itself: the server's, when nothing
// answered, and the sessions' by reason, with a few example IDs.
func causes(snap *Snapshot, conds conditions) conditions {
	serverReason := ""
	if snap.Err != nil {
		serverReason = vb365.Reason(snap.Err)
		conds["server: "+serverReason] = []any{"msg", "VB365 server not usable", "err", snap.Err}
	}
	type group struct {
		ids []string
		err error
	}
	groups := map[string]*group{}
	for _, r := range snap.Sessions {
		if r.Err == nil {
			continue
		}
		reason := vb365.Reason(r.Err)
		if reason == serverReason {
			continue // the server's line already says it, for every session
		}
		g := groups[reason]
		if g == nil {
			g = &group{err: r.Err}
			groups[reason] = g
		}
		g.ids = append(g.ids, string(r.ID))
	}
	for reason, g := range groups {
		conds["session: "+reason] = []any{"msg", "sessions not read", "reason", reason, "sessions", len(g.ids),
			"example_session_ids", strings.Join(g.ids[:min(3, len(g.ids))], ","), "err", g.err}
	}
	return conds
}
