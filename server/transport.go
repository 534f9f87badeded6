package server

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"time"

	promconfig "github.com/prometheus/common/config"
)

// idleConnTimeout outlives the usual scrape intervals (up to a few minutes), so that the
// connections of one scrape are still open at the next. A server that closes them earlier
// only costs a new handshake; net/http retries an idempotent GET on a connection found dead.
const idleConnTimeout = 5 * time.Minute

// newTransport builds the HTTP transport of one server. Every request that may be in flight
// (max_concurrent_requests; the client's limit covers token calls too) keeps an idle
// connection, so a steady state makes no new TLS handshakes; each handshake that does
// happen is put to admit, which counts it or, with an error, refuses it.
func newTransport(conn connection, admit func() error) (*http.Transport, error) {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = conn.MaxConcurrentRequests
	transport.MaxConnsPerHost = conn.MaxConcurrentRequests
	transport.MaxIdleConns = max(transport.MaxIdleConns, transport.MaxIdleConnsPerHost)
	transport.IdleConnTimeout = idleConnTimeout
	tlsConfig, err := promconfig.NewTLSConfig(&conn.TLS)
	if err != nil {
		return nil, fmt.Errorf("tls_config: %w", err)
	}
	verify := tlsConfig.VerifyConnection
	// VerifyConnection runs once per handshake, full or resumed, and regardless of
	// insecure_skip_verify, which makes it the one place that sees every handshake.
	tlsConfig.VerifyConnection = func(cs tls.ConnectionState) error {
		if verify != nil {
			if err := verify(cs); err != nil {
				return err
			}
		}
		return admit()
	}
	transport.TLSClientConfig = tlsConfig
	return transport, nil
}
