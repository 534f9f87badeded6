package vb365

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the client's self-metrics, shared by all servers' clients.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	tokens   *prometheus.CounterVec
	// handshakes is fed by the server package's transport, which owns the TLS setup.
	handshakes *prometheus.CounterVec
}

// NewMetrics creates the self-metrics and registers them with reg (when not nil).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	m := &Metrics{
		requests: counter("vb365_exporter_api_requests_total",
			"VB365 REST API requests made by the exporter, by server, endpoint (token, session, list, retrievals, logitems, logout) and HTTP status code (\"error\" when no answer came).",
			"server", "endpoint", "code"),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "vb365_exporter_api_request_duration_seconds",
			Help:    "Latency of VB365 REST API requests made by the exporter, by server and endpoint.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"server", "endpoint"}),
		tokens: counter("vb365_exporter_token_requests_total",
			"Token requests to the VB365 REST API, by server, grant type (password, refresh_token) and result (success, failure).",
			"server", "grant_type", "result"),
		handshakes: counter("vb365_exporter_tls_handshakes_total",
			"TLS handshakes (full or resumed) with the VB365 REST API, by server. A steady state reuses connections and adds none.",
			"server"),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.duration, m.tokens, m.handshakes)
	}
	return m
}

// TLSHandshake counts one handshake with server. The series is looked up per handshake
// rather than held, so that one removed by Forget is not fed through a stale handle.
func (m *Metrics) TLSHandshake(server string) {
	if m != nil {
		m.handshakes.WithLabelValues(server).Inc()
	}
}

// Forget removes every series of server, when a reload removes it from the config; they
// would otherwise be exported until the exporter restarts.
func (m *Metrics) Forget(server string) {
	if m == nil {
		return
	}
	l := prometheus.Labels{"server": server}
	m.requests.DeletePartialMatch(l)
	m.duration.DeletePartialMatch(l)
	m.tokens.DeletePartialMatch(l)
	m.handshakes.DeletePartialMatch(l)
}
