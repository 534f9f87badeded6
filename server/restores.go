package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/go-kit/log/level"

	"github.com/vb365-exporter/vb365_exporter/config"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// RestoreResult is what the exporter knows of the server's restores: counts of those that
// ended while it runs, the window's history and what runs now.
type RestoreResult struct {
	// Totals are the counter values: restores that ended while the exporter runs, by
	// organization, type and result (an organization/type seen has all three results).
	Totals []RestoreCount
	// Recent are the restores that ended within restore_window, newest end first.
	Recent  []vb365.RestoreSession
	Running []vb365.RestoreSession
	// Latest are up to maxLatestRestores of the newest restores known (ended or running),
	// newest first: for the landing page.
	Latest []vb365.RestoreSession
	// Dropped counts the restores that ended while the exporter runs but are in no total,
	// because MaxRestoreLabelSets label sets were taken.
	Dropped int
}

// RestoreCount is one counter value of RestoreResult.Totals.
type RestoreCount struct {
	Organization, Type, Result string
	Count                      float64
}

// Bounds of what is kept of the restores (the metric help says them): they only stop a
// broken or hostile server, or an unbounded set of organizations and operators.
const (
	// MaxRestoreLabelSets bounds the organization/type/result label sets of the counter.
	MaxRestoreLabelSets = 500
	// MaxRunningRestores bounds the running restores followed and shown.
	MaxRunningRestores = 100
	// MaxRecentRestores bounds the restores of the window kept.
	MaxRecentRestores = 1000
	// maxFollowedRestores is how many running restores a scrape reads by ID, those read
	// least recently first: a scrape costs at most one list and these, and with more running
	// each is still read every few scrapes.
	maxFollowedRestores = 4
	// restoreLookback is how far before the window v6 and v7 list at the first read: they
	// filter by start only, so a restore that ran longer than this and ended within the
	// window is not in the history (v8 asks by end as well).
	restoreLookback = 24 * time.Hour
	// maxRestorePages bounds one list (10,000 restores).
	maxRestorePages   = 10
	maxLatestRestores = 20
)

// restoreKey is one label set of the counter.
type restoreKey struct{ org, typ, result string }

// restoreState is what the exporter keeps of the restores between scrapes.
type restoreState struct {
	// mu is held for a whole read: two reads at once would count an end twice.
	mu      sync.Mutex
	started bool
	// catchingUp is set while the history is longer than one list takes: what the next
	// lists find ended before the first read is history too. cut says the last list was
	// cut short: the next goes on from its newest restore without the slack, which could
	// hold a whole list again.
	catchingUp, cut bool
	// startedAt is when the first read succeeded: a catch-up list's restore that ended after
	// it ended while the exporter runs, and is counted.
	startedAt time.Time
	// newest is the creation time of the newest restore listed: the next list starts there
	// (at from, where the first read started, while none was listed).
	newest, from time.Time
	// known are the restores created from newest-sinceSlack on, which the next list sends
	// again, and whether each has been taken as ended.
	known   map[vb365.ID]knownRestore
	running map[vb365.ID]*followed
	// reads numbers the reads, so that follow knows what this one listed.
	reads   int
	recent  []vb365.RestoreSession
	latest  []vb365.RestoreSession
	totals  map[restoreKey]float64
	dropped int
	// runningCut and recentCut are what the bounds left out in the last read.
	runningCut, recentCut int
}

type knownRestore struct {
	created time.Time
	ended   bool
}

type followed struct {
	r vb365.RestoreSession
	// checked is the read that last read the restore, by list or by ID.
	checked int
}

// restoresLogged are the restores whose end was logged, by server name and ID; bounded,
// oldest forgotten first. The pool owns one for the life of the exporter, so that a Server
// rebuilt by a reload does not log them again; a Server built alone has its own.
type restoresLogged struct {
	mu    sync.Mutex
	ids   map[string]bool
	order []string
}

func newRestoresLogged() *restoresLogged { return &restoresLogged{ids: map[string]bool{}} }

const maxLoggedRestores = 20000

// readRestores brings the restores up to date. The first read takes the window's history
// (v8: ended within it; v6/v7: started within it and restoreLookback before), which is shown
// in the recent gauge and logged as history but never counted. Every later read lists only
// what started from the newest restore seen on (inclusive, so de-duplicated by ID) and
// follows running restores by ID: a quiet server costs one list request and one per running
// restore (at most maxFollowedRestores).
func (srv *Server) readRestores(ctx context.Context, cfg *config.ServerConfig, snap *Snapshot, calls *outcomes) (conditions, error) {
	st := &srv.install.restores
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.known == nil {
		st.known, st.running, st.totals = map[vb365.ID]knownRestore{}, map[vb365.ID]*followed{}, map[restoreKey]float64{}
	}
	st.reads, st.runningCut = st.reads+1, 0
	now, window := srv.now(), time.Duration(bound(cfg.RestoreWindow, config.DefaultRestoreWindow))
	var stats vb365.ListStats
	list := func(q vb365.RestoreQuery, history bool) error {
		q.MaxPages = maxRestorePages
		ls, err := srv.client.RestoreSessions(ctx, q, func(r vb365.RestoreSession) { st.fold(srv, r, history, now, window) })
		calls.add(err)
		stats.Invalid += ls.Invalid
		stats.Truncated = stats.Truncated || ls.Truncated
		return err
	}
	var err error
	if !st.started {
		if cfg.APIVersion == "v8" {
			err = list(vb365.RestoreQuery{EndFrom: now.Add(-window)}, true)
			// Only the start list says where the next goes on: a cut one stops before the
			// newest the end list holds, and what runs from between must still be listed.
			st.newest = time.Time{}
		}
		st.from = now.Add(-window - restoreLookback)
		if err == nil {
			err = list(vb365.RestoreQuery{StartFrom: st.from}, true)
		}
		st.started, st.catchingUp, st.startedAt = err == nil, stats.Truncated, now
	} else {
		from, slack := st.from, sinceSlack
		if st.cut {
			slack = 0
		}
		if n := st.newest.Add(-slack); n.After(from) {
			from = n
		}
		err = list(vb365.RestoreQuery{StartFrom: from}, st.catchingUp)
		// Only the first read's history is caught up with: a later list cut short holds
		// restores that are new, however many.
		st.catchingUp = st.catchingUp && stats.Truncated
	}
	st.cut = stats.Truncated
	conds, err := kindProblems(config.CollectRestores, err, stats, 0)
	if err == nil && st.started {
		if err = st.follow(ctx, srv, calls, now, window); err != nil && !vb365.IsClientWide(err) {
			conds["restores: running: "+vb365.Reason(err)] = []any{"msg", "running restores not read by ID; they are read again next scrape",
				"reason", vb365.Reason(err), "err", err}
		}
		st.prune(now, window)
		snap.Restores = st.result()
	}
	if stats.Truncated {
		conds["restores: list cut"] = []any{"msg", fmt.Sprintf("more restores than one read takes (%d pages of %d); the rest are read from the newest one on next time, as history", maxRestorePages, vb365.RestoreSessionPage)}
	}
	if st.runningCut > 0 {
		conds["restores: running cut"] = []any{"msg", "more restores run at once than the exporter follows; the others are not shown or counted", "max", MaxRunningRestores, "dropped", st.runningCut}
	}
	if st.recentCut > 0 {
		conds["restores: recent cut"] = []any{"msg", "more restores ended within restore_window than the exporter keeps; the oldest are not in vb365_restore_sessions_recent", "max", MaxRecentRestores, "dropped", st.recentCut}
	}
	if st.dropped > 0 {
		conds["restores: label sets"] = []any{"msg", "more organization/type/result combinations than the exporter counts; restores of the others are counted in vb365_restore_sessions_dropped", "max", MaxRestoreLabelSets}
	}
	return conds, err
}

// follow reads the running restores not listed in this read by ID, least recently read
// first; one that is gone (404) is forgotten.
func (st *restoreState) follow(ctx context.Context, srv *Server, calls *outcomes, now time.Time, window time.Duration) error {
	due := slices.SortedFunc(maps.Values(st.running), func(a, b *followed) int {
		return cmp.Or(cmp.Compare(a.checked, b.checked), a.r.CreationTime.Compare(b.r.CreationTime))
	})
	var errs []error
	for _, f := range due[:min(len(due), maxFollowedRestores)] {
		if f.checked == st.reads {
			break // listed in this read
		}
		r, err := srv.client.GetRestoreSession(ctx, f.r.ID)
		calls.add(err)
		var apiErr *vb365.APIError
		switch {
		case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound:
			delete(st.running, f.r.ID)
			st.latest = slices.DeleteFunc(st.latest, func(o vb365.RestoreSession) bool { return o.ID == f.r.ID })
		case err != nil:
			errs = append(errs, err)
		default:
			st.fold(srv, *r, false, now, window)
		}
	}
	return errors.Join(errs...)
}

// fold takes one restore read: a running one is followed, an ended one is taken once. It
// is counted and logged when it ended while the exporter runs (not history), however long
// ago its end says; history is logged, marked so, when it ended within the window.
func (st *restoreState) fold(srv *Server, r vb365.RestoreSession, history bool, now time.Time, window time.Duration) {
	if r.CreationTime.After(st.newest) {
		st.newest = r.CreationTime
	}
	if k, ok := st.known[r.ID]; ok && k.ended {
		return
	}
	st.known[r.ID] = knownRestore{r.CreationTime, r.Ended()}
	st.note(r.Organization, r.Type)
	st.remember(r)
	if !r.Ended() {
		if f := st.running[r.ID]; f != nil {
			f.r, f.checked = r, st.reads
		} else if len(st.running) < MaxRunningRestores {
			st.running[r.ID] = &followed{r: r, checked: st.reads}
		} else {
			st.runningCut++
		}
		return
	}
	// One seen running ended while the exporter runs, whatever list says so; so did one a
	// catch-up list finds ended after the first read.
	if st.started && history && r.EndTime.After(st.startedAt) {
		history = false
	}
	if st.running[r.ID] != nil {
		history = false
		delete(st.running, r.ID)
	}
	if r.EndTime.IsZero() {
		if history {
			return // ended, but when is not known: not in the window
		}
		r.EndTime = now // first seen ended now
	}
	recent := now.Sub(r.EndTime) <= window
	if !history {
		st.count(restoreKey{r.Organization, r.Type, r.Result})
	}
	if recent {
		st.recent = append(st.recent, r)
	}
	if recent || !history {
		srv.logRestore(&r, history, now)
	}
}

// note gives an organization/type its three counter series at 0 when first seen, so that
// increase() sees its first restore.
func (st *restoreState) note(org, typ string) {
	if _, ok := st.totals[restoreKey{org, typ, vb365.StatusSuccess}]; ok || len(st.totals)+3 > MaxRestoreLabelSets {
		return
	}
	for _, res := range []string{vb365.StatusSuccess, vb365.StatusWarning, vb365.StatusFailed} {
		st.totals[restoreKey{org, typ, res}] = 0
	}
}

func (st *restoreState) count(k restoreKey) {
	if _, ok := st.totals[k]; ok || len(st.totals) < MaxRestoreLabelSets {
		st.totals[k]++
		return
	}
	st.dropped++
}

// remember keeps r among the newest restores known.
func (st *restoreState) remember(r vb365.RestoreSession) {
	st.latest = slices.DeleteFunc(st.latest, func(o vb365.RestoreSession) bool { return o.ID == r.ID })
	i, _ := slices.BinarySearchFunc(st.latest, r, newestFirst)
	if i < maxLatestRestores {
		st.latest = slices.Insert(st.latest, i, r)
		st.latest = st.latest[:min(len(st.latest), maxLatestRestores)]
	}
}

func newestFirst(a, b vb365.RestoreSession) int {
	return cmp.Or(b.CreationTime.Compare(a.CreationTime), cmp.Compare(a.ID, b.ID))
}

// prune forgets what no later read needs: restores the next list cannot send again, and
// ends out of the window.
func (st *restoreState) prune(now time.Time, window time.Duration) {
	// The next list's startTimeFrom is sent to the second (floored): keep all it can send again.
	from := st.newest.Add(-sinceSlack).Truncate(time.Second)
	maps.DeleteFunc(st.known, func(_ vb365.ID, k knownRestore) bool { return k.created.Before(from) })
	st.recent = slices.DeleteFunc(st.recent, func(r vb365.RestoreSession) bool { return now.Sub(r.EndTime) > window })
	slices.SortFunc(st.recent, func(a, b vb365.RestoreSession) int {
		return cmp.Or(b.EndTime.Compare(a.EndTime), cmp.Compare(a.ID, b.ID))
	})
	st.recentCut = max(0, len(st.recent)-MaxRecentRestores)
	st.recent = slices.Clip(st.recent[:min(len(st.recent), MaxRecentRestores)])
}

func (st *restoreState) result() *RestoreResult {
	res := &RestoreResult{Recent: slices.Clone(st.recent), Latest: slices.Clone(st.latest), Dropped: st.dropped}
	for _, f := range st.running {
		res.Running = append(res.Running, f.r)
	}
	slices.SortFunc(res.Running, newestFirst)
	for k, v := range st.totals {
		res.Totals = append(res.Totals, RestoreCount{k.org, k.typ, k.result, v})
	}
	slices.SortFunc(res.Totals, func(a, b RestoreCount) int {
		return cmp.Or(cmp.Compare(a.Organization, b.Organization), cmp.Compare(a.Type, b.Type), cmp.Compare(a.Result, b.Result))
	})
	return res
}

// logRestore writes the audit line of a restore's end, once per exporter process.
func (srv *Server) logRestore(r *vb365.RestoreSession, history bool, now time.Time) {
	key := srv.Name() + "\x00" + string(r.ID)
	l := srv.restoresLogged
	l.mu.Lock()
	if l.ids[key] {
		l.mu.Unlock()
		return
	}
	if len(l.order) >= maxLoggedRestores {
		delete(l.ids, l.order[0])
		l.order = l.order[1:]
	}
	l.ids[key] = true
	l.order = append(l.order, key)
	l.mu.Unlock()
	kv := []any{"msg", "restore session ended", "id", r.ID, "organization", r.Organization, "type", r.Type,
		"initiated_by", r.InitiatedBy, "client_host", r.ClientHost, "scope", r.Scope, "result", r.Result,
		"duration_seconds", r.Duration(now).Seconds(), "reason", r.Reason, "end", r.EndTime.UTC().Format(time.RFC3339)}
	if history {
		kv = append(kv, "history", true)
	}
	level.Info(srv.logger).Log(kv...)
}
