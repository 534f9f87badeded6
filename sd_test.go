package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

func TestSDAnswerExact(t *testing.T) {
	sim := fixedSim(t)
	dir := t.TempDir()
	cfg := writeConfig(t, dir,
		serverSpec{name: "prod", sim: sim},
		serverSpec{name: "dr site", sim: sim})
	exp := startExporter(t, cfg)
	host := strings.TrimPrefix(exp.url, "http://")

	before := sim.sim.Stats().Total
	code, body, hdr := get(t, exp.url+"/sd", nil)
	want := `[{"targets":["` + host + `"],"labels":{"__param_server":"prod","server":"prod"}},` +
		`{"targets":["` + host + `"],"labels":{"__param_server":"dr site","server":"dr site"}}]` + "\n"
	if code != http.StatusOK || body != want || hdr.Get("Content-Type") != "application/json" {
		t.Errorf("/sd: %d %s %q\nwant 200 application/json %q", code, hdr.Get("Content-Type"), body, want)
	}

	// Whoever asks cannot move the targets (and Prometheus' scrapes, basic auth included)
	// elsewhere through the Host header (issue 19 point 11).
	for _, h := range []string{"evil.example:1", "vb365-exporter-1.example:9925"} {
		if _, body, _ = get(t, exp.url+"/sd", map[string]string{"Host": h}); body != want {
			t.Errorf("/sd with Host %s: %q, want %q", h, body, want)
		}
	}

	if n := sim.sim.Stats().Total - before; n != 0 {
		t.Errorf("/sd made %d API requests; it must only list the config", n)
	}

	// Every listed target is a working probe.
	for _, server := range []string{"prod", "dr site"} {
		r := scrape(t, exp.url+"/probe?server="+strings.ReplaceAll(server, " ", "+"), nil)
		if r.mustValue(t, "vb365_up", l("server", server)) != 1 {
			t.Errorf("probe of %q is not up", server)
		}
	}

	// A reload changes the list.
	writeConfig(t, dir, serverSpec{name: "dr site", sim: sim})
	if code, body, _ := post(t, exp.url+"/-/reload"); code != http.StatusOK {
		t.Fatalf("reload: %d %s", code, body)
	}
	if _, body, _ = get(t, exp.url+"/sd", nil); body != `[{"targets":["`+host+`"],"labels":{"__param_server":"dr site","server":"dr site"}}]`+"\n" {
		t.Errorf("/sd after reload: %q", body)
	}
	if code, _, _ := get(t, exp.url+"/probe?server=prod", nil); code != http.StatusBadRequest {
		t.Errorf("probe of a removed server: %d, want 400", code)
	}
	if code, _, _ := post(t, exp.url+"/sd"); code != http.StatusMethodNotAllowed {
		t.Errorf("POST /sd: %d, want 405", code)
	}
}

// Behind a name, proxy or port mapping, --web.external-url names the target; a listen
// address on every interface lists the address the request came in on.
func TestSDTargets(t *testing.T) {
	sim := fixedSim(t)
	cfg := writeConfig(t, t.TempDir(), serverSpec{name: "prod", sim: sim})
	for _, tc := range []struct{ arg, want string }{
		{"--web.external-url=https://vb365-exporter-1.example/", "vb365-exporter-1.example:443"},
		{"--web.external-url=http://[2001:db8::1]:8080/vb365", "[2001:db8::1]:8080"},
	} {
		exp := startExporter(t, cfg, tc.arg)
		_, body, _ := get(t, exp.url+"/sd", map[string]string{"Host": "evil.example:1"})
		if want := `[{"targets":["` + tc.want + `"],"labels":{"__param_server":"prod","server":"prod"}}]` + "\n"; body != want {
			t.Errorf("%s: /sd %q, want %q", tc.arg, body, want)
		}
	}
	addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	exp := startExporter(t, cfg, "--web.listen-address=:"+port)
	_, body, _ := get(t, "http://"+addr+"/sd", map[string]string{"Host": "evil.example:1"})
	if want := `[{"targets":["` + addr + `"],`; !strings.HasPrefix(body, want) {
		t.Errorf("listening on :%s: /sd %q, want targets [%s]", port, body, addr)
	}
	exp.stop()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"--web.external-url=vb365-exporter:9925"}, &out, &errOut); code == 0 ||
		!strings.Contains(errOut.String(), `--web.external-url: "vb365-exporter:9925" is not an http:// or https:// URL with a host`) {
		t.Errorf("a URL without scheme: exit %d, %s", code, errOut.String())
	}
}

func post(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Post(url, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}
