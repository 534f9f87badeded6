//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

// oldestFirst serves the session list in the reverse of the simulator's order, oldest
// first: a server whose "own semantics" for the order are not newest first.
func oldestFirst(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.EqualFold(path.Base(r.URL.Path), "DataRetrievalSessions") {
			next.ServeHTTP(w, r)
			return
		}
		q := r.URL.Query()
		offset, _ := strconv.Atoi(q.Get("offset"))
		limit, err := strconv.Atoi(q.Get("limit"))
		if err != nil {
			limit = 30
		}
		all := r.Clone(r.Context())
		q.Set("offset", "0")
		q.Set("limit", "10000")
		all.URL.RawQuery = q.Encode()
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, all)
		var page map[string]json.RawMessage
		var results []json.RawMessage
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &page) != nil || json.Unmarshal(page["results"], &results) != nil {
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		}
		slices.Reverse(results)
		results = results[min(offset, len(results)):min(offset+limit, len(results))]
		page["results"], _ = json.Marshal(results)
		page["offset"], page["limit"] = json.RawMessage(strconv.Itoa(offset)), json.RawMessage(strconv.Itoa(limit))
		body, _ := json.Marshal(page)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(body)
	})
}

// TestSessionsSinceAnyListOrder: --since and --limit find the newest sessions wherever the
// server puts them in its list, here on the last of several pages.
func TestSessionsSinceAnyListOrder(t *testing.T) {
	for _, version := range []string{"v6", "v7", "v8"} {
		t.Run(version, func(t *testing.T) {
			sim := startRawSim(t, rawSim{wrap: oldestFirst})
			old := time.Now().Add(-48 * time.Hour)
			for i := range 1500 {
				if err := sim.sim.AddSession(simulator.Session{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Name: "s",
					RetrievalID: simulator.ReferenceRetrievalID, CreationTime: old.Add(-time.Duration(i) * time.Second), EndTime: old,
					Type: simulator.TypeRetrieve, Status: simulator.StatusSuccess}); err != nil {
					t.Fatal(err)
				}
			}
			cfg := writeConfig(t, t.TempDir(), serverSpec{name: "prod", version: version, sim: sim})
			var want []string // the demo sessions of the last day, newest first
			for _, id := range simulator.DemoSessionIDs() {
				if s, _ := sim.sim.Session(id); s.CreationTime.After(time.Now().Add(-24 * time.Hour)) {
					want = append(want, id)
				}
			}
			slices.SortFunc(want, func(a, b string) int {
				sa, _ := sim.sim.Session(a)
				sb, _ := sim.sim.Session(b)
				if c := sb.CreationTime.Compare(sa.CreationTime); c != 0 {
					return c
				}
				return strings.Compare(a, b)
			})
			if len(want) < 4 {
				t.Fatalf("only %d demo sessions in the last day", len(want))
			}
			got := ids(listJSON(t, "--config.file="+cfg, "--since", "24h"))
			if !slices.Equal(got, want) {
				t.Errorf("--since 24h listed %v, want %v", got, want)
			}
			got = ids(listJSON(t, "--config.file="+cfg, "--limit", "3"))
			if !slices.Equal(got, want[:3]) {
				t.Errorf("--limit 3 listed %v, want the newest three %v", got, want[:3])
			}
			// Each run logs out before it exits (v6 has no logout): no token outlives it.
			wantLogouts := map[string]int64{"v6": 0, "v7": 2, "v8": 2}[version]
			if !waitUntil(func() bool { return sim.sim.Stats().ByEndpoint[simulator.EndpointLogout] == wantLogouts }) {
				t.Errorf("%d logouts after 2 runs, want %d", sim.sim.Stats().ByEndpoint[simulator.EndpointLogout], wantLogouts)
			}
		})
	}
}
