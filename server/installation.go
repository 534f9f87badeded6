package server

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"sync"
	"time"

	"github.com/vb365-exporter/vb365_exporter/config"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// Bounds of the lists whose length has no key of its own (the metric help says them): installations have a handful of
// repositories and proxies; these only stop a broken or hostile server.
const (
	MaxRepositories = 1000
	MaxProxies      = 1000
)

// kindRead reads one kind into snap and returns the problems to log; its error is the
// kind's collector's.
type kindRead func(ctx context.Context, cfg *config.ServerConfig, snap *Snapshot, calls *outcomes) (conditions, error)

// installState is what the kinds keep between reads.
type installState struct {
	jobs         map[vb365.ID]*jobState
	license      cachedKind[*vb365.License]
	repositories cachedKind[[]vb365.Repository]
	proxies      cachedKind[[]vb365.Proxy]
	restores     restoreState
	orgs         orgState
}

// readKinds starts the kinds cfg collects, each a collector of its own, beside the
// sessions. The function it returns waits for them, adds their collectors to snap in
// config.CollectKinds' order and returns their problems. A kind that fails says so in its
// collector; it never hides another kind, and counts towards up like every call.
func (srv *Server) readKinds(ctx context.Context, cfg *config.ServerConfig, snap *Snapshot, calls *outcomes) func() conditions {
	reads := map[string]kindRead{
		config.CollectDataRetrievals: func(ctx context.Context, cfg *config.ServerConfig, snap *Snapshot, calls *outcomes) (conditions, error) {
			c := srv.readRetrievals(ctx, cfg, snap, calls)
			return c, snap.RetrievalsErr
		},
		config.CollectJobs:          srv.readJobs,
		config.CollectLicense:       srv.readLicense,
		config.CollectRepositories:  srv.readRepositories,
		config.CollectProxies:       srv.readProxies,
		config.CollectOrganizations: srv.readOrganizations,
		config.CollectRestores:      srv.readRestores,
	}
	results := make([]CollectorResult, len(config.CollectKinds))
	conds := make([]conditions, len(config.CollectKinds))
	var wg sync.WaitGroup
	for i, name := range config.CollectKinds {
		if !cfg.Collects(name) || reads[name] == nil {
			continue
		}
		wg.Go(func() {
			start := srv.now()
			c, err := reads[name](ctx, cfg, snap, calls)
			results[i], conds[i] = CollectorResult{Name: name, Err: err, Duration: srv.now().Sub(start)}, c
		})
	}
	return func() conditions {
		wg.Wait()
		all := conditions{}
		for i := range results {
			if results[i].Name != "" {
				snap.Collectors = append(snap.Collectors, results[i])
				maps.Copy(all, conds[i])
			}
		}
		return all
	}
}

// cachedKind is a kind's last good read. Data retrievals, license, repositories and proxies
// change slowly and are read at most once a minute (cache_ttl, when shorter).
type cachedKind[T any] struct {
	val    T
	stats  vb365.ListStats
	readAt time.Time
}

func readCached[T any](srv *Server, cfg *config.ServerConfig, c *cachedKind[T], calls *outcomes, read func() (T, vb365.ListStats, error)) (T, vb365.ListStats, error) {
	ttl, now := min(cfg.CacheTTLDuration(), maxRetrievalsAge), srv.now()
	srv.mu.Lock()
	cur := *c
	srv.mu.Unlock()
	if ttl > 0 && !cur.readAt.IsZero() && now.Sub(cur.readAt) < ttl {
		return cur.val, cur.stats, nil
	}
	v, st, err := read()
	calls.add(err)
	if err == nil {
		srv.mu.Lock()
		*c = cachedKind[T]{val: v, stats: st, readAt: now}
		srv.mu.Unlock()
	}
	return v, st, err
}

func (srv *Server) readLicense(ctx context.Context, cfg *config.ServerConfig, snap *Snapshot, calls *outcomes) (conditions, error) {
	l, _, err := readCached(srv, cfg, &srv.install.license, calls, func() (*vb365.License, vb365.ListStats, error) {
		l, err := srv.client.License(ctx)
		return l, vb365.ListStats{}, err
	})
	snap.License = l
	return kindProblems(config.CollectLicense, err, vb365.ListStats{}, 0)
}

func (srv *Server) readRepositories(ctx context.Context, cfg *config.ServerConfig, snap *Snapshot, calls *outcomes) (conds conditions, err error) {
	snap.Repositories, snap.RepositoriesDropped, conds, err = readKindList(ctx, srv, cfg, &srv.install.repositories, calls,
		config.CollectRepositories, MaxRepositories, srv.client.Repositories)
	return conds, err
}

func (srv *Server) readProxies(ctx context.Context, cfg *config.ServerConfig, snap *Snapshot, calls *outcomes) (conds conditions, err error) {
	snap.Proxies, snap.ProxiesDropped, conds, err = readKindList(ctx, srv, cfg, &srv.install.proxies, calls,
		config.CollectProxies, MaxProxies, srv.client.Proxies)
	return conds, err
}

// readKindList reads a cached kind's list of at most bound entries (see readCached).
func readKindList[T any](ctx context.Context, srv *Server, cfg *config.ServerConfig, c *cachedKind[[]T], calls *outcomes, kind string, bound int,
	list func(context.Context, int) ([]T, vb365.ListStats, error)) ([]T, int, conditions, error) {
	v, st, err := readCached(srv, cfg, c, calls, func() ([]T, vb365.ListStats, error) { return list(ctx, bound) })
	conds, err := kindProblems(kind, err, st, bound)
	return v, st.Dropped, conds, err
}

// kindProblems are a kind's problems to log, and its collector's error: a 403 or 404 names
// its likely cause, since both are lasting (the account's rights, the API version).
func kindProblems(kind string, err error, st vb365.ListStats, bound int) (conditions, error) {
	var apiErr *vb365.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.StatusCode {
		case http.StatusForbidden:
			err = fmt.Errorf("the account may not read %s: %w", kind, err)
		case http.StatusNotFound:
			err = fmt.Errorf("the server does not serve %s at this api_version: %w", kind, err)
		}
	}
	conds := conditions{}
	switch {
	case vb365.IsClientWide(err):
		// Every call failed alike; the server's line says it once.
	case err != nil:
		conds[kind+": "+vb365.Reason(err)] = []any{"msg", kind + " not read; their metrics are absent (vb365_collector_success 0)",
			"collector", kind, "reason", vb365.Reason(err), "err", err}
	case st.Invalid > 0:
		conds[kind+": malformed entries"] = []any{"msg", "some " + kind + " could not be decoded and are not shown",
			"collector", kind, "malformed", st.Invalid}
	}
	switch {
	case err != nil:
		conds[kind+": dropping"] = nil // not read: as it was
	case st.Dropped > 0:
		conds[kind+": dropping"] = []any{"msg", "more " + kind + " than the exporter keeps; the rest are not exported (see vb365_" + kind + "_dropped)",
			"max", bound, "dropped", st.Dropped}
	}
	return conds, err
}
