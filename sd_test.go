package main

import (
	"io"
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

	// The target is the exporter as Prometheus reached it, e.g. through a DNS name.
	_, body, _ = get(t, exp.url+"/sd", map[string]string{"Host": "vb365-exporter-1.example:9925"})
	if want := `[{"targets":["vb365-exporter-1.example:9925"],"labels":{"__param_server":"prod","server":"prod"}},` +
		`{"targets":["vb365-exporter-1.example:9925"],"labels":{"__param_server":"dr site","server":"dr site"}}]` + "\n"; body != want {
		t.Errorf("/sd behind a name: %q, want %q", body, want)
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
