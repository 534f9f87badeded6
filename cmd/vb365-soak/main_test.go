package main

import (
	mrand "math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

func TestParseFigures(t *testing.T) {
	text := `# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 42
go_memstats_heap_inuse_bytes 1.2582912e+07
vb365_up{server="v6"} 1
vb365_up{server="badpw"} 0
vb365_data_retrieval_session_progress{server="v6",session_id="x"} 5
`
	f, err := parseFigures(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if f.goroutines != 42 || f.heap != 12582912 || f.up["v6"] != 1 || f.up["badpw"] != 0 || len(f.up) != 2 {
		t.Errorf("figures = %+v", f)
	}
	if _, err := parseFigures(strings.NewReader("vb365_up{server=\"v6\"} 1\n")); err == nil {
		t.Error("a page without Go runtime metrics was accepted")
	}
}

// Every fault the soak draws must be one the simulator accepts, and over many draws every
// kind and endpoint must come up: the soak claims to inject all of them. Redirects point only
// at the traps, and the quiet end of the soak draws nothing that makes token requests back off.
func TestRandomFaultsCoverEveryKind(t *testing.T) {
	r := mrand.New(mrand.NewPCG(1, 2))
	sim := simulator.New(simulator.Options{Username: "u", Password: "p"})
	kinds, endpoints, fields := map[string]bool{}, map[string]bool{}, map[string]bool{}
	ids := []string{simulator.ReferenceSessionID}
	traps := []string{"http://127.0.0.1:1", "http://127.0.0.2:2"}
	for i := range 4000 {
		quiet := i%2 == 1
		f := randomFault(r, ids, traps, quiet)
		if err := sim.SetFault(f); err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		kinds[f.Kind], endpoints[f.Endpoint] = true, true
		switch f.Kind {
		case simulator.FaultRedirect:
			u, err := url.Parse(f.Location)
			if err != nil || !slices.Contains(traps, "http://"+u.Host) {
				t.Errorf("redirect to %q, not to a trap", f.Location)
			}
		case simulator.FaultTokenAnswer:
			fields[f.Field] = true
			if quiet && (f.Field == "access_token" || strings.HasPrefix(f.Value, `"`)) {
				t.Errorf("quiet end drew an unusable token answer: %+v", f)
			}
		}
		if quiet && f.Status == 400 && (f.Endpoint == simulator.EndpointToken || f.Endpoint == simulator.EndpointAny) &&
			(f.Kind == simulator.FaultStatus || f.Kind == simulator.FaultEcho) {
			t.Errorf("quiet end drew a refused token request: %+v", f)
		}
	}
	all := []string{simulator.FaultLatency, simulator.FaultStall, simulator.FaultStatus, simulator.FaultRateLimit,
		simulator.FaultMalformed, simulator.FaultTruncated, simulator.FaultNonJSON, simulator.FaultHuge,
		simulator.FaultUnauthorized, simulator.FaultReset, simulator.FaultRedirect, simulator.FaultEcho,
		simulator.FaultTokenAnswer, simulator.FaultPageCap, simulator.FaultEndless, simulator.FaultHugeList,
		simulator.FaultLongEnum}
	for _, k := range all {
		if !kinds[k] {
			t.Errorf("kind %s never drawn", k)
		}
	}
	for _, e := range []string{simulator.EndpointSession, simulator.EndpointToken, simulator.EndpointList,
		simulator.EndpointRetrievals, simulator.EndpointLogItems, simulator.EndpointAny} {
		if !endpoints[e] {
			t.Errorf("endpoint %s never drawn", e)
		}
	}
	if !fields["expires_in"] || !fields["access_token"] {
		t.Errorf("token answer fields drawn: %v", fields)
	}
}

// A leak of the password is found in every form a server or a log may give it, and a cut
// of it too; the password's random head stands for it.
func TestSecretForms(t *testing.T) {
	pw := "ABCDEFGH23456789" + `$ecret&Pa55 w0rd!"%/+`
	forms := secretForms(pw)
	for _, body := range []string{
		"plain " + pw,
		`{"message":"password=ABCDEFGH23456789%24ecret%26Pa55+w0rd%21%22%25%2F%2B"}`,
		"ABCDEFGH23456789%24ecret%26Pa55%20w0rd%21%22%25%2F%2B",
		`{"errorCode":"ABCDEFGH23456789$ecret\u0026Pa55 w0rd!\"%/+"}`,
		`{"errorCode":"ABCDEFGH23456789$ecret&Pa55 w0rd!\"%/+"}`,
		`reason="Authentication failed: ABCDEFGH…"`,
	} {
		if _, ok := leakIn([]byte(body), forms); !ok {
			t.Errorf("leak not found in %s", body)
		}
	}
	if f, ok := leakIn([]byte(`reason="Authentication failed: <secret>" ABCDEFG`), forms); ok {
		t.Errorf("found %q in a scrubbed body", f)
	}
}

func TestParseReloadFigures(t *testing.T) {
	f, err := parseFigures(strings.NewReader("go_goroutines 1\ngo_memstats_heap_inuse_bytes 2\n" +
		"vb365_exporter_config_last_reload_successful 1\nvb365_exporter_config_last_reload_success_timestamp_seconds 1.7e+09\n"))
	if err != nil || f.reloadOK != 1 || f.reloadAt != 1.7e9 {
		t.Errorf("figures = %+v, %v", f, err)
	}
}
