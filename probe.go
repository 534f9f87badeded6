package main

import (
	"fmt"
	"net/http"

	"github.com/go-kit/log/level"

	"github.com/vb365-exporter/vb365_exporter/collector"
)

// The multi-target endpoints: probePath for one server's metrics and sdPath listing the
// servers as probe targets for Prometheus' http_sd. The landing page links them.
const (
	probePath = "/probe"
	sdPath    = "/sd"
)

// discoveryRoutes adds the multi-target endpoints.
func (e *exporter) discoveryRoutes(mux *http.ServeMux) {
	for path, h := range map[string]http.Handler{probePath: e.probeHandler(), sdPath: e.sdHandler()} {
		// ServeMux panics on a second registration; --web.telemetry-path wins.
		if path == e.opts.telemetryPath {
			level.Warn(e.logger).Log("msg", "endpoint not served: --web.telemetry-path uses its path", "path", path)
			continue
		}
		mux.Handle(path, h)
	}
}

// probeHandler answers /probe?server=NAME with the VB365 metrics of that one server, so that
// Prometheus can scrape each server as its own target with its own interval and timeout.
// The exporter's own metrics stay on /metrics, so that they are not repeated per server.
func (e *exporter) probeHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		names := r.URL.Query()["server"]
		if len(names) != 1 || names[0] == "" {
			http.Error(w, "the server parameter is required once: /probe?server=NAME, NAME being a server name of the config file", http.StatusBadRequest)
			return
		}
		t, ok := e.pool.Get(names[0])
		if !ok {
			// The name is echoed quoted, so that odd input cannot forge more of the answer.
			http.Error(w, fmt.Sprintf("server %q is not configured", names[0]), http.StatusBadRequest)
			return
		}
		e.serveVB365(w, r, []collector.Source{t})
	})
}
