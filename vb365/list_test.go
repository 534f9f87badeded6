package vb365_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/vb365-exporter/vb365_exporter/simulator"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

func TestListAllSessionsPages(t *testing.T) {
	for _, version := range []string{"v6", "v7", "v8"} {
		t.Run(version, func(t *testing.T) {
			sim := simulator.New(simulator.Options{Username: "u", Password: "p"})
			base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			for i := range 25 {
				if err := sim.AddSession(simulator.Session{
					ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Name: fmt.Sprint("s", i),
					RetrievalID: simulator.ReferenceRetrievalID, CreationTime: base.Add(time.Duration(i) * time.Minute),
					EndTime: base.Add(time.Duration(i)*time.Minute + time.Second), Type: simulator.TypeRetrieve, Status: simulator.StatusSuccess,
				}); err != nil {
					t.Fatal(err)
				}
			}
			srv := httptest.NewServer(sim)
			defer srv.Close()
			c, err := vb365.New(vb365.Options{BaseURL: srv.URL, APIVersion: version, Username: "u", Password: func() string { return "p" }})
			if err != nil {
				t.Fatal(err)
			}
			seen := map[vb365.ID]bool{}
			pages := 0
			err = c.ListAllSessions(context.Background(), "", 10, 0, func(p *vb365.Page) error {
				pages++
				for _, s := range p.Sessions {
					if seen[s.ID] {
						t.Errorf("session %s listed twice", s.ID)
					}
					seen[s.ID] = true
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(seen) != 25 || pages != 3 {
				t.Errorf("listed %d sessions in %d pages, want 25 in 3", len(seen), pages)
			}
			if n := sim.Stats().ByEndpoint["list"]; n != 3 {
				t.Errorf("list requests = %d, want 3", n)
			}
		})
	}
}

// A server that serves smaller pages than asked, without saying so in the page's limit,
// must not cut the list short: totalCount (v6/v7) or _links.next (v8) say more follow.
func TestListAllSessionsFollowsCappedPages(t *testing.T) {
	for _, version := range []string{"v6", "v7", "v8"} {
		t.Run(version, func(t *testing.T) {
			sim := simulator.New(simulator.Options{Username: "u", Password: "p"})
			base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			for i := range 25 {
				if err := sim.AddSession(simulator.Session{
					ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Name: fmt.Sprint("s", i),
					RetrievalID: simulator.ReferenceRetrievalID, CreationTime: base.Add(time.Duration(i) * time.Minute),
					EndTime: base.Add(time.Duration(i)*time.Minute + time.Second), Type: simulator.TypeRetrieve, Status: simulator.StatusSuccess,
				}); err != nil {
					t.Fatal(err)
				}
			}
			if err := sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointList, Kind: simulator.FaultPageCap, Entries: 7}); err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(sim)
			defer srv.Close()
			c, err := vb365.New(vb365.Options{BaseURL: srv.URL, APIVersion: version, Username: "u", Password: func() string { return "p" }})
			if err != nil {
				t.Fatal(err)
			}
			seen := map[vb365.ID]bool{}
			err = c.ListAllSessions(context.Background(), "", 10, 0, func(p *vb365.Page) error {
				for _, s := range p.Sessions {
					seen[s.ID] = true
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(seen) != 25 {
				t.Errorf("listed %d sessions of 25 from pages capped at 7", len(seen))
			}
			if n := sim.Stats().ByEndpoint["list"]; n != 4 {
				t.Errorf("list requests = %d, want 4 (7+7+7+4)", n)
			}
		})
	}
}

// Pages that never end, with 6 KiB names: the read stops at the page bound, each page
// hands over no more sessions than asked for, and names are cut.
func TestListAllSessionsEndlessPagesBounded(t *testing.T) {
	for _, version := range []string{"v7", "v8"} {
		t.Run(version, func(t *testing.T) {
			sim := simulator.New(simulator.Options{Username: "u", Password: "p"})
			if err := sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointList, Kind: simulator.FaultEndless, Entries: 200, Bytes: 6 << 10}); err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(sim)
			defer srv.Close()
			c, err := vb365.New(vb365.Options{BaseURL: srv.URL, APIVersion: version, Username: "u", Password: func() string { return "p" }})
			if err != nil {
				t.Fatal(err)
			}
			pages := 0
			err = c.ListAllSessions(context.Background(), "", 100, 5, func(p *vb365.Page) error {
				pages++
				if len(p.Sessions)+len(p.Invalid) > 100 {
					t.Errorf("page %d hands over %d sessions, asked for 100", pages, len(p.Sessions)+len(p.Invalid))
				}
				for _, s := range p.Sessions {
					if len(s.Name) > vb365.MaxNameBytes {
						t.Fatalf("name of %d bytes kept", len(s.Name))
					}
				}
				return nil
			})
			if err == nil || pages != 5 {
				t.Errorf("endless list: %d pages, err %v; want the 5-page bound", pages, err)
			}
		})
	}
}

// The data retrieval list keeps at most keep entries and counts the rest, exactly, on both
// shapes of the answer.
func TestListRetrievalsKeepsAtMost(t *testing.T) {
	for _, version := range []string{"v7", "v8"} {
		t.Run(version, func(t *testing.T) {
			sim := simulator.New(simulator.Options{Username: "u", Password: "p"})
			if err := sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointRetrievals, Kind: simulator.FaultHugeList, Entries: 100000}); err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(sim)
			defer srv.Close()
			c, err := vb365.New(vb365.Options{BaseURL: srv.URL, APIVersion: version, Username: "u", Password: func() string { return "p" }})
			if err != nil {
				t.Fatal(err)
			}
			list, invalid, dropped, err := c.ListRetrievals(context.Background(), 1000)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 1000 || dropped != 99000 || invalid != 0 {
				t.Errorf("kept %d, dropped %d, invalid %d; want 1000, 99000, 0", len(list), dropped, invalid)
			}
		})
	}
}
