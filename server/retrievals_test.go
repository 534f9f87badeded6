package server

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vb365-exporter/vb365_exporter/config"
	"github.com/vb365-exporter/vb365_exporter/simulator"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

func TestSnapshotCarriesRetrievals(t *testing.T) {
	f := newFixture(t, config.ServerConfig{Sessions: []vb365.ID{simulator.ReferenceSessionID}})
	f.sim.LoadDemoData()
	s := f.snapshot(t)
	if s.RetrievalsErr != nil {
		t.Fatal(s.RetrievalsErr)
	}
	var got []string
	for _, r := range s.Retrievals {
		got = append(got, r.Name+"/"+r.Type+"/"+r.DataState)
	}
	sort.Strings(got)
	if want := "Exchange retrieval/Exchange/Retrieved,OneDrive retrieval/OneDrive/Retrieving,Teams retrieval/Teams/Retrieving"; strings.Join(got, ",") != want {
		t.Errorf("retrievals %s, want %s", strings.Join(got, ","), want)
	}
	if n := f.sim.Stats().ByEndpoint["retrievals"]; n != 1 {
		t.Errorf("%d retrievals reads in one scrape, want 1", n)
	}
}

func TestRetrievalsFailureKeepsSessions(t *testing.T) {
	f := newFixture(t, config.ServerConfig{Sessions: []vb365.ID{simulator.ReferenceSessionID}})
	f.sim.LoadDemoData()
	if err := f.sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointRetrievals, Kind: simulator.FaultStatus, Status: 503}); err != nil {
		t.Fatal(err)
	}
	s := f.snapshot(t)
	if s.RetrievalsErr == nil || s.Retrievals != nil {
		t.Errorf("retrievals %v, err %v; want none and an error", s.Retrievals, s.RetrievalsErr)
	}
	if !s.Up || results(s) != simulator.ReferenceSessionID+"=Success" {
		t.Errorf("up %v, sessions %s: a retrievals failure must not hide the sessions", s.Up, results(s))
	}
	// With nothing else answering, the failed side read is why the server is down.
	f.sim.RemoveSession(simulator.ReferenceSessionID)
	if err := f.sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointSession, Kind: simulator.FaultStatus, Status: 500}); err != nil {
		t.Fatal(err)
	}
	s = f.snapshot(t)
	if s.Up || s.Err == nil {
		t.Errorf("up %v err %v, want down", s.Up, s.Err)
	}
}

func TestRetrievalsReusedWithinTTL(t *testing.T) {
	f := newFixture(t, config.ServerConfig{Sessions: []vb365.ID{simulator.ReferenceSessionID}, CacheTTL: ttl(10 * time.Minute)})
	f.sim.LoadDemoData()
	f.snapshot(t)
	f.snapshot(t)
	if n := f.sim.Stats().ByEndpoint["retrievals"]; n != 1 {
		t.Errorf("%d retrievals reads in two scrapes within a minute, want 1", n)
	}
	// Every session and the retrievals came from cache: up must still come from the server.
	if n := f.sim.Stats().ByEndpoint["list"]; n != 1 {
		t.Errorf("%d list reads, want the one cheap liveness read", n)
	}
	f.clock.Add(maxRetrievalsAge)
	if s := f.snapshot(t); len(s.Retrievals) != 3 {
		t.Errorf("%d retrievals after the TTL", len(s.Retrievals))
	}
	if n := f.sim.Stats().ByEndpoint["retrievals"]; n != 2 {
		t.Errorf("%d retrievals reads after the TTL, want 2", n)
	}
}
