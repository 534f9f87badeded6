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
// target is --web.external-url's host:port, else the listen address the request came in
// on; never a request header, which whoever asks could set to send Prometheus (and the
// scrapes' basic auth) elsewhere. __param_server turns into /probe's server parameter.
func (e *exporter) sdHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "This endpoint requires a GET request.", http.StatusMethodNotAllowed)
			return
		}
		host := e.opts.sdTarget
		if host == "" {
			var listen []string
			if e.opts.web != nil && e.opts.web.WebListenAddresses != nil {
				listen = *e.opts.web.WebListenAddresses
			}
			host = listenTarget(r, listen)
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

// listenTarget is the listen address the request came in on, as configured when it names
// a host, else the local address of the connection (":9925" names none).
func listenTarget(r *http.Request, listen []string) string {
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return ""
	}
	_, port, _ := net.SplitHostPort(local.String())
	for _, l := range listen {
		h, p, err := net.SplitHostPort(l)
		if err == nil && p == port && h != "" && !net.ParseIP(h).IsUnspecified() {
			return l
		}
	}
	return local.String()
}
