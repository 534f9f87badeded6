package target

import (
	"fmt"
	"sync"

	"github.com/vb365-exporter/vb365_exporter/config"
)

// Pool holds the Targets of the running config. A reload keeps the Target of every server
// whose connection settings did not change, so its token, connections and cache survive.
type Pool struct {
	opts Options

	mu      sync.RWMutex
	targets []*Target
	byName  map[string]*Target
	// retiring are the replaced targets still waiting for their last read to end; closing
	// counts them and the targets Close ends.
	retiring map[*Target]bool
	closing  sync.WaitGroup
}

// NewPool returns an empty pool.
func NewPool(o Options) *Pool {
	return &Pool{opts: o, byName: map[string]*Target{}, retiring: map[*Target]bool{}}
}

// Apply replaces the pool's targets with the servers of cfg. A server whose connection (see
// connection.go) did not change keeps its target, and with it its token, connections and
// cache. Either every target is built or the pool is left as it was, so a bad reload keeps
// the running config.
func (p *Pool) Apply(cfg *config.Config) error {
	p.mu.RLock()
	old := p.byName
	p.mu.RUnlock()

	targets := make([]*Target, 0, len(cfg.Servers))
	byName := make(map[string]*Target, len(cfg.Servers))
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
		t, ok := old[sc.Name]
		if ok && t.key == conn.key() {
			updates = append(updates, func() { t.Update(sc) })
		} else if t, err = build(sc, conn, p.opts); err != nil {
			return fmt.Errorf("servers[%d] (%s): %w", i, sc.Name, err)
		}
		targets = append(targets, t)
		byName[sc.Name] = t
	}
	for _, u := range updates {
		u()
	}
	p.mu.Lock()
	p.targets, p.byName = targets, byName
	for name, t := range old {
		if byName[name] != t {
			p.retiring[t] = true
		}
	}
	p.mu.Unlock()
	for name, t := range old {
		if byName[name] == t {
			continue
		}
		if _, kept := byName[name]; !kept {
			p.opts.Metrics.Forget(name)
		}
		// Closing waits for the target's reads in flight; the reload does not.
		p.closing.Add(1)
		go func() {
			defer p.closing.Done()
			t.Close()
			p.mu.Lock()
			delete(p.retiring, t)
			p.mu.Unlock()
			p.forgetRemoved(name)
		}()
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

// Close ends every target, at shutdown: each logs out after its last read, in parallel so
// that one slow server does not hold up the others. It returns when all have. The reads in
// flight are stopped first: at shutdown nobody waits for their answers, and a read against
// a stalled server would otherwise hold the exit up until its deadline.
func (p *Pool) Close() {
	p.mu.RLock()
	for t := range p.retiring {
		t.stopRead()
	}
	p.mu.RUnlock()
	for _, t := range p.Targets() {
		t.stopRead()
		p.closing.Add(1)
		go func() {
			defer p.closing.Done()
			t.Close()
		}()
	}
	p.closing.Wait()
}

// Targets returns the targets in config order.
func (p *Pool) Targets() []*Target {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return append([]*Target(nil), p.targets...)
}

// Get returns the target of the named server.
func (p *Pool) Get(name string) (*Target, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	t, ok := p.byName[name]
	return t, ok
}
