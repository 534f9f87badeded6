package sessions

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vb365-exporter/vb365_exporter/simulator"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// Whatever a server lists, the CLI keeps at most twice the newest it prints, and they are
// the newest (ties by ID).
func TestNewestKeepsBounded(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n := newest[vb365.Session]{limit: 100, key: sessionKey}
	const total = 100000
	for i := range total {
		// Creation times go up and down, so the newest are spread over the whole list.
		k := (i * 7919) % total
		n.add(vb365.Session{ID: vb365.ID(fmt.Sprintf("%08d", k)), CreationTime: base.Add(time.Duration(k) * time.Second)})
		if len(n.kept) >= 2*n.limit {
			t.Fatalf("after %d sessions %d kept, want fewer than %d", i+1, len(n.kept), 2*n.limit)
		}
	}
	got := n.sorted()
	if n.seen != total || len(got) != 100 || string(got[0].ID) != fmt.Sprintf("%08d", total-1) || string(got[99].ID) != fmt.Sprintf("%08d", total-100) {
		t.Fatalf("seen %d, kept %d: %v .. %v", n.seen, len(got), got[0].ID, got[len(got)-1].ID)
	}
}

// A list that never ends (issue 19 point 8): the command stops at the client's page bound
// with an error that says so and what was read, prints nothing, and kept no more than its
// bound on the way (TestNewestKeepsBounded).
func TestListEndless(t *testing.T) {
	sim, cfg := startDemo(t)
	if err := sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointList, Kind: simulator.FaultEndless, Entries: 12, Bytes: 64}); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	err := List(context.Background(), cfg, ListOptions{Server: "v8", Output: "json"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), `server "v8"`) || !strings.Contains(err.Error(), "more than 1000 pages") ||
		!strings.Contains(err.Error(), "(12000 matching read, none printed)") {
		t.Fatalf("err = %v", err)
	}
	if out.Len() != 0 {
		t.Errorf("printed %d bytes of a list that did not end", out.Len())
	}
}

// --timeout bounds the whole command: a list whose pages come slowly ends with exit 1
// and a message naming the flag.
func TestListTimeout(t *testing.T) {
	sim, cfg := startDemo(t)
	if err := sim.SetFault(simulator.Fault{Endpoint: simulator.EndpointList, Kind: simulator.FaultStall}); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	err := List(context.Background(), cfg, ListOptions{Server: "v7", Timeout: 200 * time.Millisecond}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), `server "v7": the session list did not end within --timeout 200ms`) {
		t.Fatalf("err = %v", err)
	}
	if out.Len() != 0 {
		t.Errorf("printed %q", out.String())
	}
}
