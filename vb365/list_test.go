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
			seen := map[string]bool{}
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
