package main

import (
	mrand "math/rand/v2"
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
// kind and endpoint must come up: the soak claims to inject all of them.
func TestRandomFaultsCoverEveryKind(t *testing.T) {
	r := mrand.New(mrand.NewPCG(1, 2))
	sim := simulator.New(simulator.Options{Username: "u", Password: "p"})
	kinds, endpoints := map[string]bool{}, map[string]bool{}
	ids := []string{simulator.ReferenceSessionID}
	for range 2000 {
		f := randomFault(r, ids)
		if err := sim.SetFault(f); err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		kinds[f.Kind], endpoints[f.Endpoint] = true, true
	}
	if len(kinds) != 10 {
		t.Errorf("kinds drawn: %v, want all 10", kinds)
	}
	for _, e := range []string{simulator.EndpointSession, simulator.EndpointToken, simulator.EndpointList, simulator.EndpointAny} {
		if !endpoints[e] {
			t.Errorf("endpoint %s never drawn", e)
		}
	}
}
