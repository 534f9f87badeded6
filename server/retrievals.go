package server

import (
	"context"
	"fmt"
	"time"

	"github.com/vb365-exporter/vb365_exporter/config"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// maxRetrievalsAge bounds how long the data retrieval list is reused. A retrieval changes
// slowly (its lastStatus follows its newest session), and reading it on every scrape would
// add a request per scrape to a server the exporter tries to spare; cache_ttl, when shorter,
// wins, so cache_ttl 0 still reads it every scrape.
const maxRetrievalsAge = time.Minute

// bound is a bound or period from the config, or its default: a hand-built config is
// bounded too.
func bound[T int | config.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

func maxRetrievals(cfg *config.ServerConfig) int {
	return bound(cfg.MaxRetrievals, config.DefaultMaxRetrievals)
}

// readRetrievals puts the server's data retrievals into snap: the list read within the
// last minute, or read now. It returns the problems to log (see tracker).
func (srv *Server) readRetrievals(ctx context.Context, cfg *config.ServerConfig, snap *Snapshot, calls *outcomes) conditions {
	list, st, err := readCached(srv, cfg, &srv.retrievals, calls, func() ([]vb365.Retrieval, vb365.ListStats, error) {
		list, invalid, dropped, err := srv.client.ListRetrievals(ctx, maxRetrievals(cfg))
		return list, vb365.ListStats{Invalid: invalid, Dropped: dropped}, err
	})
	snap.Retrievals, snap.RetrievalsErr, snap.RetrievalsDropped = list, err, st.Dropped
	conds := conditions{}
	switch {
	case vb365.IsClientWide(err):
		// Every call failed alike; the server's line says it once.
	case err != nil:
		conds["retrievals: "+vb365.Reason(err)] = []any{"msg", "data retrievals not read; their metrics are absent",
			"reason", vb365.Reason(err), "err", err}
	case st.Invalid > 0:
		conds["retrievals: malformed entries"] = []any{"msg", "some data retrievals could not be decoded and are not shown",
			"err", fmt.Errorf("%d malformed entries in the data retrieval list", st.Invalid)}
	}
	switch {
	case err != nil:
		conds["retrievals: dropping"] = nil // not read: as it was
	case st.Dropped > 0:
		conds["retrievals: dropping"] = []any{"msg", "more data retrievals than max_retrievals allows; the rest are not exported (see vb365_data_retrievals_dropped)",
			"max_retrievals", maxRetrievals(cfg), "dropped", st.Dropped}
	}
	return conds
}
