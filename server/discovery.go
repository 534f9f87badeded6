package server

import (
	"container/heap"
	"context"
	"sort"
	"time"

	"github.com/vb365-exporter/vb365_exporter/config"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// DiscoveryResult is what session discovery did in one scrape.
type DiscoveryResult struct {
	// Sessions is how many sessions discovery selected (after the max_sessions guard),
	// including those that are also configured.
	Sessions int
	// Dropped is how many selected sessions the max_sessions guard cut off.
	Dropped int
	// Err is why the session list could not be read; the counts are 0 then.
	Err error
}

// selector picks the sessions to follow from the server's session list, one session at a
// time: those created within MaxAge or still Running, of the configured retrievals, with a
// matching name, newest first, at most MaxSessions of them; dropped counts the ones the cap
// cut off. A zero MaxAge means no age limit, a zero MaxSessions
// config.DefaultDiscoveryMaxSessions (a hand-built Discovery is bounded too). It holds only
// the best MaxSessions candidates so far (a heap with the oldest on top), so that the memory
// discovery takes follows max_sessions, not the length of the server's list.
type selector struct {
	d          *Discovery
	now        time.Time
	max        int
	retrievals map[vb365.ID]bool
	heap       sessionHeap
	// kept indexes the heap by ID: the first occurrence of a session wins (one that moved
	// between two pages of the list shows up twice). A repeated session that was already
	// dropped is counted again; that only happens when the list shifts while it is read.
	kept    map[vb365.ID]bool
	dropped int
}

func (d *Discovery) selector(now time.Time) *selector {
	sel := &selector{d: d, now: now, max: d.MaxSessions, retrievals: map[vb365.ID]bool{}, kept: map[vb365.ID]bool{}}
	if sel.max <= 0 {
		sel.max = config.DefaultDiscoveryMaxSessions
	}
	for _, id := range d.RetrievalIDs {
		sel.retrievals[id] = true
	}
	return sel
}

func (sel *selector) add(s vb365.Session) {
	d := sel.d
	if sel.kept[s.ID] {
		return
	}
	// The API filters by retrieval already; checking again keeps a server that ignores
	// the filter from flooding the selection.
	if len(sel.retrievals) > 0 && !sel.retrievals[s.RetrievalID] {
		return
	}
	if d.MaxAge > 0 && s.Status != vb365.StatusRunning && sel.now.Sub(s.CreationTime) > d.MaxAge {
		return
	}
	if !d.nameMatches(s.Name) {
		return
	}
	if len(sel.heap) < sel.max {
		sel.kept[s.ID] = true
		heap.Push(&sel.heap, s)
		return
	}
	sel.dropped++
	if oldest := sel.heap[0]; newer(&s, &oldest) {
		delete(sel.kept, oldest.ID)
		sel.kept[s.ID] = true
		sel.heap[0] = s
		heap.Fix(&sel.heap, 0)
	}
}

// result is the selection, newest first.
func (sel *selector) result() (keep []vb365.Session, dropped int) {
	keep = append([]vb365.Session(nil), sel.heap...)
	sort.Slice(keep, func(i, j int) bool { return newer(&keep[i], &keep[j]) })
	return keep, sel.dropped
}

// newer orders sessions newest first, ties by ID, as the selection is reported.
func newer(a, b *vb365.Session) bool {
	if !a.CreationTime.Equal(b.CreationTime) {
		return a.CreationTime.After(b.CreationTime)
	}
	return a.ID < b.ID
}

// sessionHeap is a min-heap by newer: the session to drop first is on top.
type sessionHeap []vb365.Session

func (h sessionHeap) Len() int           { return len(h) }
func (h sessionHeap) Less(i, j int) bool { return newer(&h[j], &h[i]) }
func (h sessionHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *sessionHeap) Push(x any)        { *h = append(*h, x.(vb365.Session)) }
func (h *sessionHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func (d *Discovery) nameMatches(name string) bool {
	if len(d.NameRegexps) == 0 {
		return true
	}
	for _, re := range d.NameRegexps {
		if re.MatchString(name) {
			return true
		}
	}
	return false
}

// discover reads the session list, once per configured retrieval or once for all, and
// selects from it page by page, so that it never holds more than max_sessions candidates
// and one page. listed are the configured sessions (IDs in configured) the list held, so
// that they can be taken from it instead of being read again: the list is the same answer
// a GET would give, newer by at most this scrape.
func (srv *Server) discover(ctx context.Context, d *Discovery, configured []vb365.ID) (keep []vb365.Session, dropped int, listed map[vb365.ID]vb365.Session, err error) {
	filters := d.RetrievalIDs
	if len(filters) == 0 {
		filters = []vb365.ID{""}
	}
	want := make(map[vb365.ID]bool, len(configured))
	for _, id := range configured {
		want[id] = true
	}
	listed = map[vb365.ID]vb365.Session{}
	sel := d.selector(srv.now())
	for _, rid := range filters {
		err := srv.client.ListAllSessions(ctx, rid, 0, 0, func(p *vb365.Page) error {
			for _, s := range p.Sessions {
				if _, dup := listed[s.ID]; want[s.ID] && !dup {
					listed[s.ID] = s
				}
				sel.add(s)
			}
			return nil
		})
		if err != nil {
			return nil, 0, nil, err
		}
	}
	keep, dropped = sel.result()
	return keep, dropped, listed, nil
}

// discoveredPlaceholders are the not-read results of the last discovered sessions, for a
// caller whose deadline passed before the read finished.
func (srv *Server) discoveredPlaceholders(cfg *config.ServerConfig, d *Discovery, err error) []SessionResult {
	if d == nil {
		return nil
	}
	configured := make(map[vb365.ID]bool, len(cfg.Sessions))
	for _, id := range cfg.Sessions {
		configured[id] = true
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	var out []SessionResult
	for _, id := range srv.discovered {
		if !configured[id] {
			out = append(out, SessionResult{ID: id, Err: err})
		}
	}
	return out
}
