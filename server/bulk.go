package server

import (
	"context"
	"errors"

	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// The read strategy compares what a scrape would cost the server, in bytes-equivalent: every
// request costs requestBytes (headers, TLS records, authentication, routing and a database
// round trip on the server) plus sessionBytes for every session it carries. Reading n
// sessions by ID costs n requests and n sessions; reading the list costs one request per
// page and every session the server holds, wanted or not.
const (
	// sessionBytes is about one session's JSON, _links included, alone or in a page.
	sessionBytes = 600
	// requestBytes makes one request worth about 27 sessions of payload: past that, a page
	// of sessions nobody asked for costs the server more than the GETs it saves.
	requestBytes = 16 << 10
	// minListSessions keeps small configurations on per-ID reads: the saving is a handful of
	// requests, and per-ID reads keep each session's failure its own.
	minListSessions = 16
	// minListPage is the first page size when the list's length is unknown.
	minListPage = 100
)

// readStrategy is how a server reads the sessions a scrape needs. Only tests force one
// (export_test.go), to compare them; a target always chooses by cost.
type readStrategy int

const (
	// readByCost, the zero value, chooses per scrape between the list and per-ID reads by
	// expected cost.
	_ readStrategy = iota
	// readPerID reads every session with its own GET.
	readPerID
	// readList reads the session list first and GETs only what it lacks.
	readList
)

func readCost(requests, sessions int) int64 {
	return int64(requests)*requestBytes + int64(sessions)*sessionBytes
}

func perIDCost(n int) int64 { return readCost(n, n) }

func listCost(total int) int64 {
	pages := max(1, (total+vb365.MaxPageLimit-1)/vb365.MaxPageLimit)
	return readCost(pages, total)
}

// listSize is what the Server knows of the length of the server's unfiltered session list.
type listSize struct {
	n int
	// exact is false when n is only a lower bound (a v8 listing stopped before its end).
	exact bool
}

// planList decides, before any request, whether this scrape reads the n sessions it needs
// from the list. It errs towards per-ID reads: a list read that turns out too long stops
// early (see listRead), so a wrong guess costs at most twice the per-ID reads.
func planList(mode readStrategy, n int, size listSize) bool {
	switch mode {
	case readPerID:
		return false
	case readList:
		return n > 0
	}
	if n < minListSessions {
		return false
	}
	if size.n > 0 {
		return listCost(size.n) < perIDCost(n)
	}
	return readCost(1, firstPage(n, size)) < perIDCost(n)
}

// firstPage is the page size of a list read: the largest page once the list's length is
// known, else about as many sessions as are wanted, so a long list is noticed after one page.
func firstPage(n int, size listSize) int {
	if size.exact {
		return vb365.MaxPageLimit
	}
	return min(max(n, minListPage, size.n), vb365.MaxPageLimit)
}

// errListEnough stops a list read that has found everything or would cost more to finish
// than reading the rest by ID.
var errListEnough = errors.New("list read stopped")

// listRead fills the results of the wanted sessions (ID -> index into snap.Sessions) that
// the session list holds. An error means the list could not be read as far as it needed;
// the sessions found before it stay filled.
func (srv *Server) listRead(ctx context.Context, snap *Snapshot, want map[vb365.ID]int) error {
	srv.mu.Lock()
	size := srv.size
	srv.mu.Unlock()
	limit := firstPage(len(want), size)
	budget := perIDCost(len(want))
	var (
		found int
		seen  int
		spent int64
		total = -1
		// overBudget is a list of unknown length (v8) that outgrew what per-ID reads cost.
		overBudget bool
	)
	err := srv.client.ListAllSessions(ctx, "", limit, 0, func(p *vb365.Page) error {
		n := len(p.Sessions) + len(p.Invalid)
		seen += n
		spent += readCost(1, n)
		if p.TotalCount != nil {
			total = *p.TotalCount
		}
		for _, s := range p.Sessions {
			if i, ok := want[s.ID]; ok && snap.Sessions[i].Session == nil {
				s := s
				snap.Sessions[i].Session, snap.Sessions[i].Err = &s, nil
				found++
			}
		}
		left := len(want) - found
		switch {
		case left == 0:
			return errListEnough
		case total >= 0:
			if listCost(total-seen) >= perIDCost(left) {
				return errListEnough
			}
		case spent+readCost(1, limit) > budget:
			overBudget = true
			return errListEnough
		}
		return nil
	})
	stopped := errors.Is(err, errListEnough)
	if err == nil || stopped {
		srv.mu.Lock()
		switch {
		case total >= 0:
			srv.size = listSize{n: total, exact: true}
		case err == nil:
			srv.size = listSize{n: seen, exact: true}
		case overBudget:
			// Guess the list twice as long as what was read: the next scrapes try a longer
			// first page, and stop trying once even that guess costs more than per-ID reads,
			// after a few scrapes at most.
			srv.size = listSize{n: max(srv.size.n, 2*seen)}
		case seen > srv.size.n:
			srv.size = listSize{n: seen}
		}
		srv.mu.Unlock()
	}
	if stopped {
		err = nil
	}
	return err
}

// noteListSize records the length a one-session probe page reported (v6 and v7 send it).
func (srv *Server) noteListSize(p *vb365.Page) {
	if p == nil || p.TotalCount == nil {
		return
	}
	srv.mu.Lock()
	srv.size = listSize{n: *p.TotalCount, exact: true}
	srv.mu.Unlock()
}
