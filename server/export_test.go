package server

import (
	"net/http"
	"time"

	"github.com/vb365-exporter/vb365_exporter/config"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// ttl is a cache_ttl as a config carries it.
func ttl(d time.Duration) *config.Duration {
	c := config.Duration(d)
	return &c
}

// Tests compare the read strategies, which a target otherwise chooses by cost.
type ReadStrategy = readStrategy

const (
	ReadPerID = readPerID
	ReadList  = readList
)

// ForceReadStrategy makes t read every scrape's sessions one way.
func ForceReadStrategy(t *Server, m ReadStrategy) { t.mode = m }

// TLSHandshakes is the number of TLS handshakes this server's connections have made.
func (srv *Server) TLSHandshakes() uint64 { return srv.handshakes.Load() }

// TLSHandshakesWith is TLSHandshakes read together with what read reads (the self-metric):
// no handshake is counted in between, though net/http may finish a dial at any time.
func (srv *Server) TLSHandshakesWith(read func()) uint64 {
	srv.gate.Lock()
	defer srv.gate.Unlock()
	read()
	return srv.handshakes.Load()
}

// Select is the selector's choice from a whole list at once.
func (d *Discovery) Select(listed []vb365.Session, now time.Time) (keep []vb365.Session, dropped int) {
	sel := d.selector(now)
	for _, s := range listed {
		sel.add(s)
	}
	return sel.result()
}

// WaitRetired returns once the servers that reloads replaced or removed have closed and the
// pool has forgotten the removed ones' self-metrics.
func (p *Pool) WaitRetired() { p.closing.Wait() }

// LateHandshake makes a TLS handshake with the server's configured URL through its own
// transport, outside any read, as net/http does when it finishes a dial that a request gave
// up on.
func (srv *Server) LateHandshake(url string) error {
	resp, err := (&http.Client{Transport: srv.transport}).Get(url + "/v8/")
	if err == nil {
		resp.Body.Close()
	}
	return err
}
