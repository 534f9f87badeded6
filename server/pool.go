package server

import (
	"fmt"
	"sync"

	"github.com/vb365-exporter/vb365_exporter/config"
)

// Pool holds the servers of the running config. A reload keeps the Server of every one
// whose connection settings did not change, so its token, connections and cache survive.
type Pool struct {
	opts Options

	mu      sync.RWMutex
	servers []*Server
	byName  map[string]*Server
	// retiring are the replaced servers still waiting for their last read to end; closing
	// counts them and the servers Close ends.
	retiring map[*Server]bool
	closing  sync.WaitGroup
}

// NewPool returns an empty pool.
func NewPool(o Options) *Pool {
	o.restoresLogged = newRestoresLogged()
	return &Pool{opts: o, byName: map[string]*Server{}, retiring: map[*Server]bool{}}
}

// Apply replaces the pool's servers with the servers of cfg. A server whose connection (see
// connection.go) did not change keeps its Server, and with it its token, connections and
// cache. Either every server is built or the pool is left as it was, so a bad reload keeps
// the running config.
func (p *Pool) Apply(cfg *config.Config) error {
	p.mu.RLock()
	old := p.byName
	p.mu.RUnlock()

	servers := make([]*Server, 0, len(cfg.Servers))
	byName := make(map[string]*Server, len(cfg.Servers))
	var updates []func()
	for i := range cfg.Servers {
		sc := &cfg.Servers[i]
		if _, dup := byName[sc.Name]; dup {
			return fmt.Errorf("server %q: configured twice", sc.Name)
		}
		conn, err := newConnection(sc)
		if err != nil {
			return fmt.Errorf("servers[%d] (%s): %w", i, sc.Name, err)
		}
		srv, ok := old[sc.Name]
		if ok && srv.key == conn.key() {
			updates = append(updates, func() { srv.Update(sc) })
		} else if srv, err = build(sc, conn, p.opts); err != nil {
			return fmt.Errorf("servers[%d] (%s): %w", i, sc.Name, err)
		}
		servers = append(servers, srv)
		byName[sc.Name] = srv
	}
	for _, u := range updates {
		u()
	}
	p.mu.Lock()
	p.servers, p.byName = servers, byName
	for name, srv := range old {
		if byName[name] != srv {
			p.retiring[srv] = true
		}
	}
	p.mu.Unlock()
	for name, srv := range old {
		if byName[name] == srv {
			continue
		}
		if _, kept := byName[name]; !kept {
			p.opts.Metrics.Forget(name)
		}
		// Closing waits for the server's reads in flight; the reload does not.
		p.closing.Go(func() {
			srv.Close()
			p.mu.Lock()
			delete(p.retiring, srv)
			p.mu.Unlock()
			p.forgetRemoved(name)
		})
	}
	return nil
}

// forgetRemoved drops the self-metrics of a server the config no longer has, once more
// after its last read: a read in flight at the reload may have counted a request since.
func (p *Pool) forgetRemoved(name string) {
	// Under the lock, so that an Apply adding the server back comes wholly before or after.
	p.mu.RLock()
	defer p.mu.RUnlock()
	if _, ok := p.byName[name]; !ok {
		p.opts.Metrics.Forget(name)
	}
}

// Close ends every server, at shutdown: each logs out after its last read, in parallel so
// that one slow server does not hold up the others. It returns when all have. The reads in
// flight are stopped first: at shutdown nobody waits for their answers, and a read against
// a stalled server would otherwise hold the exit up until its deadline.
func (p *Pool) Close() {
	p.mu.RLock()
	for srv := range p.retiring {
		srv.stopRead()
	}
	p.mu.RUnlock()
	for _, srv := range p.Servers() {
		srv.stopRead()
		p.closing.Go(srv.Close)
	}
	p.closing.Wait()
}

// Servers returns the servers in config order.
func (p *Pool) Servers() []*Server {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return append([]*Server(nil), p.servers...)
}

// Get returns the named server.
func (p *Pool) Get(name string) (*Server, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	srv, ok := p.byName[name]
	return srv, ok
}
