package vb365

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/semaphore"
)

// The answer bodies being read at once, across every client of the process, stay within
// the budget however many logs are read at once: eight clients each reading a log whose one
// page holds 150,000 items, with room for two pages at a time, never hold more than two.
// Each log decodes only the page asked for and says that it was cut.
func TestBodyBudgetBoundsLogsReadAtOnce(t *testing.T) {
	const pageCap = logPageLimit*maxLogEntry + maxErrorBody
	saved := bodies
	bodies = &budget{sem: semaphore.NewWeighted(2 * pageCap), size: 2 * pageCap}
	t.Cleanup(func() { bodies = saved })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v8/token" {
			fmt.Fprint(w, `{"access_token":"a","refresh_token":"r","expires_in":3600,"token_type":"bearer"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"offset":0,"limit":150000,"results":[`)
		fmt.Fprint(w, strings.Repeat(`{"type":"Error","message":"x"},`, 149999))
		fmt.Fprint(w, `{"type":"Error","message":"x"}]}`)
	}))
	defer srv.Close()
	var wg sync.WaitGroup
	for i := range 8 {
		// Waiting for the budget counts in the request timeout: generous, for the race detector.
		c, err := New(Options{BaseURL: srv.URL, APIVersion: "v8", Username: "u", Password: func() string { return "p" }, RequestTimeout: 2 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			var p LogProgress
			if err := c.ReadLog(context.Background(), SessionLogPath(ID(fmt.Sprint(i))), &p); err != nil {
				t.Error(err)
				return
			}
			if !p.Done || !p.Cut || p.Summary.Items != logPageLimit || p.Summary.Errors != logPageLimit {
				t.Errorf("log %d: %+v, want %d items decoded and the log cut", i, p, logPageLimit)
			}
		})
	}
	wg.Wait()
	if peak := bodies.peak.Load(); peak > 2*pageCap || peak == 0 {
		t.Errorf("peak bytes of bodies in flight %d, want within the budget %d", peak, 2*pageCap)
	}
	if n := bodies.inUse.Load(); n != 0 {
		t.Errorf("%d bytes of the budget still taken after every read ended", n)
	}
}
