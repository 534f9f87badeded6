package main

import (
	"encoding/json"
	"net"
	"net/http"
)

// sdTargetGroup is one entry of Prometheus' HTTP service discovery format.
type sdTargetGroup struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

// sdHandler answers /sd with one probe target per configured server, in config order. The
// target is this exporter as the client reached it (the Host header), so the answer is
// right behind any name, port mapping or load balancer Prometheus uses; __param_server
// turns into /probe's server parameter.
func (e *exporter) sdHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "This endpoint requires a GET request.", http.StatusMethodNotAllowed)
			return
		}
		host := r.Host
		if host == "" {
			// HTTP/1.0 without a Host header: the address the request came in on.
			if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
				host = a.String()
			}
		}
		groups := []sdTargetGroup{}
		for _, t := range e.pool.Servers() {
			name := t.Name()
			groups = append(groups, sdTargetGroup{
				Targets: []string{host},
				Labels:  map[string]string{"__param_server": name, "server": name},
			})
		}
		body, err := json.Marshal(groups)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(append(body, '\n'))
	})
}
