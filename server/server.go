// Package server holds one long-lived object per configured VB365 server. A Server owns the
// server's API client (HTTP connections, token), the cache of finished sessions and the
// coalescing of concurrent scrapes; the collector only asks it for a Snapshot.
package server

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/vb365-exporter/vb365_exporter/config"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// SessionResult is one configured session in a snapshot.
type SessionResult struct {
	ID vb365.ID
	// Session is nil when the session could not be read.
	Session *vb365.Session
	Err     error
	// Cached is true when the session came from the finished-session cache.
	Cached bool
	// Log is what the log of a session that ended Failed or Warning says; nil until it has
	// been read, and for every other session.
	Log *SessionLog
}

// SessionLog is what a finished session's log says about why it ended as it did. A
// finished session's log does not change, so it is read once and kept with the session.
type SessionLog struct {
	// Reason is the item that says why (vb365.LogSummary.Reason), its message scrubbed by the client
	// and cut by vb365.ReasonMessage; nil when the log has no Error or Warning item.
	Reason *vb365.LogItem
	// Warnings and Errors count the log's items of those types (vb365.LogSummary).
	Warnings, Errors int
	// Cut is set when the log was longer than the bounds; Reason then ends "(log cut)".
	Cut bool
	// Err is why the log could not be read (yet): Reason then says so, without a type, and
	// the counts are unknown.
	Err error
}

// Snapshot is what one scrape learned about one server.
type Snapshot struct {
	Server   string
	Start    time.Time
	Duration time.Duration
	// Up is true when the exporter authenticated and the API answered during the scrape.
	Up bool
	// Err is the server-level reason for Up being false.
	Err      error
	Sessions []SessionResult
	// Calls are the API requests of this scrape, for the debug page.
	Calls []vb365.Call
	// Discovery is nil when discovery is off (see discovery.go).
	Discovery *DiscoveryResult
	// Retrievals are the server's data retrievals; RetrievalsErr says why they are missing.
	Retrievals    []vb365.Retrieval
	RetrievalsErr error
	// RetrievalsDropped counts the data retrievals beyond MaxRetrievals (see retrievals.go).
	RetrievalsDropped int
	// The installation's kinds (installation.go, jobs.go), empty when not read: the
	// collector of each says why. The Dropped counts are what the bounds left out.
	Jobs                 []JobResult
	JobsDropped          int
	JobSessionsTruncated int
	License              *vb365.License
	Repositories         []vb365.Repository
	RepositoriesDropped  int
	Proxies              []vb365.Proxy
	ProxiesDropped       int
	// Organizations are the listed organizations with what the background reads learnt of
	// them (organizations.go); OrganizationsDropped what MaxOrganizations left out.
	Organizations        []OrganizationResult
	OrganizationsDropped int
	// Restores is nil until the restores' history has been read (restores.go).
	Restores *RestoreResult
	// Collectors are the parts of a read that succeed or fail on their own (a kind of
	// object such as jobs or the license, the session logs), in the order they were read.
	// A failed collector says so here and never takes Up down.
	Collectors []CollectorResult
}

// CollectorResult is how one collector fared in a read.
type CollectorResult struct {
	// Name is the collector's name as the collector label shows it: data_retrievals, jobs,
	// license, repositories, proxies, organizations, restores, logs.
	Name string
	// Err is why it failed; nil when it succeeded.
	Err      error
	Duration time.Duration
}

// Server is one configured VB365 server.
type Server struct {
	logger    log.Logger
	client    *vb365.Client
	transport *http.Transport
	now       func() time.Time
	// handshakes counts TLS handshakes with the server, so tests can prove connection reuse.
	handshakes atomic.Uint64
	// sealed is set once a closed server has cleaned up with no read in flight, and cleared
	// when a read starts on it; gate orders it with the handshakes (see admitHandshake).
	gate   sync.RWMutex
	sealed bool
	// onHandshake feeds the shared self-metric.
	onHandshake func()
	mode        readStrategy

	// key is the connection's (see connection.go): a reload that keeps it keeps the Server.
	key string
	// restoresLogged says which restores' ends were logged (see logRestore).
	restoresLogged *restoresLogged

	mu        sync.Mutex
	cfg       *config.ServerConfig
	discovery *Discovery
	cache     map[vb365.ID]cacheEntry
	// logs reads and keeps the logs of finished Failed and Warning sessions of every kind.
	logs *logReader
	last *Snapshot
	// conditions logs each problem once when it appears and once when it clears.
	conditions tracker
	// size is what the last list reads taught about the length of the session list.
	size listSize
	// reading are the shared reads in flight (see shared.go). reads counts the reads in
	// flight, so that a closed server logs out and closes its connections after the last.
	reading []*sharedRead
	reads   int
	closed  bool
	drained sync.Cond
	// cleaning serialises cleanup, so that Close returns only after a logout the last read
	// started has ended: the pool forgets a removed server's self-metrics after Close, and a
	// logout still in flight would bring a series of it back.
	cleaning sync.Mutex
	// discovered are the sessions the last successful discovery selected: when the list
	// cannot be read they are reported as not read rather than vanishing.
	discovered []vb365.ID
	retrievals cachedKind[[]vb365.Retrieval]
	install    installState
	// bg is the context of the background reads (organizations.go); Close ends it.
	bg     context.Context
	stopBG context.CancelFunc
}

type cacheEntry struct {
	session vb365.Session
	readAt  time.Time
}

// Options are the dependencies shared by all servers.
type Options struct {
	Logger  log.Logger
	Metrics *vb365.Metrics
	// Now is the clock; tests replace it.
	Now func() time.Time
	// restoresLogged is shared by the Servers of one pool; nil gives a Server its own.
	restoresLogged *restoresLogged
}

// New builds the Server of one configured server and its API client, reading its TLS
// files. It makes no request.
func New(sc *config.ServerConfig, o Options) (*Server, error) {
	conn, err := newConnection(sc)
	if err != nil {
		return nil, err
	}
	return build(sc, conn, o)
}

func build(sc *config.ServerConfig, conn connection, o Options) (*Server, error) {
	if o.Logger == nil {
		o.Logger = log.NewNopLogger()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.restoresLogged == nil {
		o.restoresLogged = newRestoresLogged()
	}
	srv := &Server{
		restoresLogged: o.restoresLogged,
		logger:         log.With(o.Logger, "server", sc.Name),
		now:            o.Now,
		key:            conn.key(),
		cache:          map[vb365.ID]cacheEntry{},
	}
	srv.Update(sc)
	srv.drained.L = &srv.mu
	srv.bg, srv.stopBG = context.WithCancel(context.Background())
	srv.onHandshake = func() { o.Metrics.TLSHandshake(sc.Name) }
	transport, err := newTransport(conn, srv.admitHandshake)
	if err != nil {
		return nil, err
	}
	client, err := vb365.New(vb365.Options{
		BaseURL:        conn.URL,
		APIVersion:     conn.APIVersion,
		Username:       conn.Username,
		Password:       func() string { return conn.password },
		HTTPClient:     &http.Client{Transport: transport},
		RequestTimeout: conn.Timeout,
		MaxConcurrent:  conn.MaxConcurrentRequests,
		Server:         sc.Name,
		Metrics:        o.Metrics,
		Now:            o.Now,
	})
	if err != nil {
		return nil, err
	}
	srv.client, srv.transport = client, transport
	srv.logs = newLogReader(client, o.Now)
	return srv, nil
}

// Close ends the server when a reload replaces or removes it, and at shutdown: once the
// reads in flight have ended (their deadlines bound the wait), it logs the token out and
// closes the idle connections, which would otherwise stay open, two goroutines each, until
// they time out. A read that starts on a closed server still works, and the server cleans
// up again after it.
func (srv *Server) Close() {
	srv.mu.Lock()
	srv.closed = true
	srv.stopBG() // a background read counts as a read: stopped, it ends at once
	for srv.reads > 0 {
		srv.drained.Wait()
	}
	srv.mu.Unlock()
	srv.cleanup()
}

// release ends one read; the last read of a closed server cleans up.
func (srv *Server) release() {
	srv.mu.Lock()
	srv.reads--
	last, closed := srv.reads == 0, srv.closed
	srv.mu.Unlock()
	if last {
		srv.drained.Broadcast()
		if closed {
			srv.cleanup()
		}
	}
}

// cleanup may run twice for one end (Close and the last read both see it): the client
// sends a token's logout once, and closing idle connections twice is harmless. Once no read
// is in flight, the server is sealed before its idle connections are closed.
func (srv *Server) cleanup() {
	srv.cleaning.Lock()
	defer srv.cleaning.Unlock()
	if err := srv.client.Logout(context.Background()); err != nil {
		level.Debug(srv.logger).Log("msg", "logout failed; the token expires on its own", "err", err)
	}
	srv.mu.Lock()
	if srv.closed && srv.reads == 0 {
		srv.gate.Lock()
		srv.sealed = true
		srv.gate.Unlock()
	}
	srv.mu.Unlock()
	srv.transport.CloseIdleConnections()
}

// begin counts a read starting; srv.mu is held. A read on a closed server still works: it
// unseals the server until it ends and cleans up again.
func (srv *Server) begin() {
	srv.reads++
	if srv.closed {
		srv.gate.Lock()
		srv.sealed = false
		srv.gate.Unlock()
	}
}

// errSealed refuses a handshake on a closed server with no read in flight.
var errSealed = errors.New("the server was closed by a reload or at shutdown")

// admitHandshake counts a TLS handshake, or refuses it once the server is sealed. net/http
// finishes a dial that its request gave up on (a background read stopped by Close) and keeps
// the connection idle: on a closed server that connection would stay open until it timed
// out, and counting its handshake would bring back the self-metrics the pool forgot when
// the server was removed. The count is made under the gate, so every counted handshake comes
// before the seal, and so before the pool forgets the server's series.
func (srv *Server) admitHandshake() error {
	srv.gate.RLock()
	defer srv.gate.RUnlock()
	if srv.sealed {
		return errSealed
	}
	srv.handshakes.Add(1)
	srv.onHandshake()
	return nil
}

// ListAllSessions pages through the server's whole session list, in the server's order
// (which the API does not document), for tools that show what a server holds; fn sees each
// page as it arrives.
func (srv *Server) ListAllSessions(ctx context.Context, retrievalID vb365.ID, pageSize int, fn func(*vb365.Page) error) error {
	srv.mu.Lock()
	srv.begin()
	srv.mu.Unlock()
	defer srv.release()
	return srv.client.ListAllSessions(ctx, retrievalID, pageSize, 0, fn)
}

// Name is the server's configured name, the `server` label.
func (srv *Server) Name() string {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.cfg.Name
}

// Update takes a server's new config when it needs no new client (its connection key is
// the same): the sessions, discovery, cache_ttl and max_retrievals.
func (srv *Server) Update(sc *config.ServerConfig) {
	disc := newDiscovery(sc.Discovery)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	srv.cfg, srv.discovery = sc, disc
}

// Last is the most recent snapshot, or nil before the first scrape.
func (srv *Server) Last() *Snapshot {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.last
}

// Snapshot reads the server's sessions, bounded by ctx's deadline. Scrapes that arrive while
// a read is in flight share its API calls and its result when that answers them as well as
// a read of their own would (see join).
func (srv *Server) Snapshot(ctx context.Context) *Snapshot {
	start := srv.now()
	r := srv.join(ctx)
	select {
	case <-r.done:
		return r.snap
	case <-ctx.Done():
		return srv.abandoned(ctx, start)
	}
}

// abandoned is the answer for a caller whose deadline passed while waiting on a shared read:
// what is known, the last snapshot, its sessions marked as cached; before the first one,
// every session not read.
func (srv *Server) abandoned(ctx context.Context, start time.Time) *Snapshot {
	if last := srv.Last(); last != nil {
		s := *last
		s.Calls, s.Sessions = nil, slices.Clone(last.Sessions)
		for i := range s.Sessions {
			s.Sessions[i].Cached = s.Sessions[i].Cached || s.Sessions[i].Session != nil
		}
		return &s
	}
	cfg, disc := srv.config()
	err := ctx.Err()
	if errors.Is(err, context.DeadlineExceeded) {
		err = errors.New("scrape deadline reached before the server answered")
	}
	s := &Snapshot{Server: cfg.Name, Start: start, Duration: srv.now().Sub(start), Err: err}
	for _, id := range cfg.Sessions {
		s.Sessions = append(s.Sessions, SessionResult{ID: id, Err: err})
	}
	s.Sessions = append(s.Sessions, srv.discoveredPlaceholders(cfg, disc, err)...)
	return s
}

// config is the server's config and discovery for one read; a reload replaces them, never
// changes them.
func (srv *Server) config() (*config.ServerConfig, *Discovery) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.cfg, srv.discovery
}
