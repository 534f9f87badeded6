package vb365_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vb365-exporter/vb365_exporter/vb365"
)

const kindsPassword = "S3cr3t-Pa55"

// kindsAPI answers the token endpoint and, for every other GET, what answer returns for the
// path and query (after the /vN prefix); it records what was asked.
type kindsAPI struct {
	answer func(path string, q map[string]string) (int, string)
	mu     sync.Mutex
	asked  []string
}

func (k *kindsAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/token") {
		fmt.Fprint(w, `{"access_token":"tok-1","refresh_token":"ref-1","expires_in":3600,"token_type":"bearer"}`)
		return
	}
	q := map[string]string{}
	for key, v := range r.URL.Query() {
		q[key] = v[0]
	}
	path := r.URL.Path[strings.Index(r.URL.Path[1:], "/")+1:]
	k.mu.Lock()
	k.asked = append(k.asked, path+"?"+r.URL.RawQuery)
	k.mu.Unlock()
	code, body := k.answer(path, q)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprint(w, body)
}

func newKindsClient(t *testing.T, version string, answer func(string, map[string]string) (int, string)) (*vb365.Client, *kindsAPI) {
	t.Helper()
	api := &kindsAPI{answer: answer}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	c, err := vb365.New(vb365.Options{BaseURL: srv.URL, APIVersion: version, Username: "u", Password: func() string { return kindsPassword }})
	if err != nil {
		t.Fatal(err)
	}
	return c, api
}

// list answers entries as v6/v7 do (a bare array) or as v8 does (pages of two, linked).
func list(version string, q map[string]string, entries ...string) string {
	if version != "v8" {
		return "[" + strings.Join(entries, ",") + "]"
	}
	off, _ := strconv.Atoi(q["offset"])
	end := min(off+2, len(entries))
	links := `{"self":{"href":"/v8/x"}}`
	if end < len(entries) {
		links = `{"next":{"href":"/v8/x?offset=` + strconv.Itoa(end) + `"}}`
	}
	return fmt.Sprintf(`{"offset":%d,"limit":%s,"results":[%s],"_links":%s}`, off, q["limit"], strings.Join(entries[min(off, end):end], ","), links)
}

// The documents' examples, reduced: every field the exporter reads, and some it does not.
func TestInstallationKindsPerVersion(t *testing.T) {
	for _, version := range []string{"v6", "v7", "v8"} {
		t.Run(version, func(t *testing.T) {
			c, api := newKindsClient(t, version, func(path string, q map[string]string) (int, string) {
				switch path {
				case "/Jobs":
					return 200, list(version, q,
						`{"id":"AAAAAAAA-0000-4000-8000-000000000001","name":"Exchange `+kindsPassword+`","backupType":"EntireOrganization","repositoryId":"r1","isEnabled":false,"lastRun":"2026-03-01T01:00:00Z","nextRun":null,"lastStatus":"Failed","selectedItems":[{"x":1}],"_links":{}}`,
						`{"id":"j2","name":"Teams","lastRun":"0001-01-01T00:00:00"}`,
						`{"name":"no id"}`, `{"id":" ","name":"blank id"}`)
				case "/License":
					return 200, `{"status":"Valid","type":"Subscription","licensedTo":"Contoso","expirationDate":"2026-04-01T00:00:00Z","licenseExpires":"2026-05-01T00:00:00Z","totalNumber":500,"usedNumber":480,"email":"admin@contoso.example"}`
				case "/BackupRepositories":
					return 200, list(version, q, `{"id":"r1","name":"Local","capacityBytes":1000,"freeSpaceBytes":100,"isOutOfSync":false}`,
						`{"id":"r2","name":"Object","capacityBytes":null,"isOutOfSync":true}`)
				case "/Proxies":
					return 200, list(version, q, `{"id":"p1","hostName":"proxy1","status":"Online","maintenanceModeState":"Enabled","cpuUsagePercent":12.5,"memoryUsagePercent":null}`,
						`{"id":"p2","hostName":"proxy2","status":"Offline"}`)
				}
				return 404, `{"message":"no"}`
			})
			ctx := context.Background()
			jobs, st, err := c.Jobs(ctx, 10)
			if err != nil || st.Invalid != 2 || len(jobs) != 2 {
				t.Fatalf("Jobs: %v, %+v, %d jobs", err, st, len(jobs))
			}
			j := jobs[0]
			if j.ID != "aaaaaaaa-0000-4000-8000-000000000001" || j.Name != "Exchange <secret>" || j.Enabled || j.LastStatus != "Failed" ||
				j.RepositoryID != "r1" || !j.LastRun.Equal(time.Date(2026, 3, 1, 1, 0, 0, 0, time.UTC)) || !j.NextRun.IsZero() {
				t.Errorf("job %+v", j)
			}
			if !jobs[1].Enabled || !jobs[1].LastRun.IsZero() {
				t.Errorf("a job without isEnabled is enabled, year 1 is no time: %+v", jobs[1])
			}

			l, err := c.License(ctx)
			wantExp := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC) // licenseExpires wins where both are sent
			if err != nil || l.Status != "Valid" || l.Type != "Subscription" || l.LicensedTo != "Contoso" || l.Licensed != 500 || l.Used != 480 || !l.Expires.Equal(wantExp) {
				t.Errorf("License: %v %+v", err, l)
			}

			repos, _, err := c.Repositories(ctx, 10)
			if err != nil || len(repos) != 2 || repos[0] != (vb365.Repository{ID: "r1", Name: "Local", CapacityBytes: 1000, FreeBytes: 100}) ||
				repos[1] != (vb365.Repository{ID: "r2", Name: "Object", OutOfSync: true}) {
				t.Errorf("Repositories: %v %+v", err, repos)
			}

			proxies, _, err := c.Proxies(ctx, 10)
			if err != nil || len(proxies) != 2 || proxies[0].Maintenance != "Enabled" || proxies[0].CPU == nil || *proxies[0].CPU != 12.5 ||
				proxies[0].Memory != nil || proxies[1].Status != "Offline" || proxies[1].CPU != nil || proxies[1].Maintenance != "" {
				t.Errorf("Proxies: %v %+v", err, proxies)
			}

			// v6 and v7 are asked once per list, v8 page by page (two entries a page here).
			wantAsked := map[string]int{"v6": 4, "v7": 4, "v8": 5}[version]
			if len(api.asked) != wantAsked {
				t.Errorf("%d requests, want %d: %v", len(api.asked), wantAsked, api.asked)
			}
			for _, a := range api.asked {
				if paged := strings.Contains(a, "limit="); paged != (version == "v8" && !strings.HasPrefix(a, "/License")) {
					t.Errorf("%s: v6 and v7 answer these lists whole, v8 in pages", a)
				}
			}
		})
	}
}

func TestLicenseExpiryV6(t *testing.T) {
	c, _ := newKindsClient(t, "v6", func(string, map[string]string) (int, string) {
		return 200, `{"status":"Expired","expirationDate":"2026-04-01T00:00:00Z"}`
	})
	l, err := c.License(context.Background())
	if err != nil || l.Status != "Expired" || !l.Expires.Equal(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("License: %v %+v", err, l)
	}
}

const sessionJSON = `{"id":"%s","jobId":"%s","creationTime":"%s","endTime":%s,"status":"%s","progress":40,"retryCount":1,
	"details":"echo ` + kindsPassword + `","statistics":{"processingRateBytesPS":10,"transferredDataBytes":2048,"processedObjects":7,"bottleneck":"NA"}}`

func TestJobSessionsPathPerVersion(t *testing.T) {
	since := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for version, want := range map[string]string{
		"v6": "/Jobs/j1/JobSessions?limit=1000&offset=0",
		"v7": "/JobSessions?endTimeLowerBound=2026-03-01T00%3A00%3A00Z&jobId=j1&limit=1000&offset=0",
		"v8": "/JobSessions?endTimeLowerBound=2026-03-01T00%3A00%3A00Z&jobId=j1&limit=1000&offset=0",
	} {
		t.Run(version, func(t *testing.T) {
			c, api := newKindsClient(t, version, func(path string, q map[string]string) (int, string) {
				jobID := ""
				if version == "v8" {
					jobID = "j1"
				}
				return 200, `{"offset":0,"limit":1000,"results":[` +
					fmt.Sprintf(sessionJSON, "s1", jobID, "2026-03-01T01:00:00Z", `"2026-03-01T02:00:00Z"`, "Success") + `,` +
					fmt.Sprintf(sessionJSON, "s2", jobID, "2026-03-01T03:00:00Z", `null`, "Running") + `,{"id":"s3"}]}`
			})
			var got []vb365.JobSession
			st, err := c.JobSessions(context.Background(), "j1", since, 5, func(s vb365.JobSession) { got = append(got, s) })
			if err != nil || st.Invalid != 1 || st.Truncated || len(got) != 2 {
				t.Fatalf("JobSessions: %v %+v %+v", err, st, got)
			}
			if api.asked[0] != want {
				t.Errorf("asked %s, want %s", api.asked[0], want)
			}
			s := got[0]
			if s.JobID != "j1" || !s.Finished() || s.Duration(time.Time{}) != time.Hour || s.TransferredBytes != 2048 || s.ProcessedObjects != 7 ||
				s.ProcessingRate != 10 || s.RetryCount != 1 || s.Progress != 40 || s.Details != "echo <secret>" {
				t.Errorf("session %+v", s)
			}
			if got[1].Finished() || !got[1].EndTime.IsZero() {
				t.Errorf("a session without an end runs: %+v", got[1])
			}
		})
	}
}

// A job with an endless history is read up to the page bound and says it was cut; the list
// of jobs is bounded by keep and says how many it dropped.
func TestKindBounds(t *testing.T) {
	c, api := newKindsClient(t, "v8", func(path string, q map[string]string) (int, string) {
		off, _ := strconv.Atoi(q["offset"])
		if path == "/Jobs" {
			var e []string
			for i := range 5 {
				e = append(e, fmt.Sprintf(`{"id":"j%d","name":"job"}`, i))
			}
			return 200, list("v8", q, e...)
		}
		var b strings.Builder
		for i := range 1000 {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, sessionJSON, fmt.Sprint("s", off+i), "j1", "2026-03-01T01:00:00Z", `"2026-03-01T02:00:00Z"`, "Success")
		}
		return 200, fmt.Sprintf(`{"offset":%d,"limit":1000,"results":[%s],"_links":{"next":{"href":"/v8/JobSessions?offset=%d"}}}`, off, b.String(), off+1000)
	})
	n := 0
	st, err := c.JobSessions(context.Background(), "j1", time.Time{}, 3, func(vb365.JobSession) { n++ })
	if err != nil || !st.Truncated || n != 3000 {
		t.Errorf("endless history: %v %+v, %d sessions", err, st, n)
	}
	jobs, st, err := c.Jobs(context.Background(), 2)
	if err != nil || len(jobs) != 2 || st.Dropped != 3 {
		t.Errorf("Jobs keep 2 of 5: %v %+v %d", err, st, len(jobs))
	}
	if len(api.asked) != 3+3 {
		t.Errorf("%d requests: %v", len(api.asked), api.asked)
	}
}

func TestGetJobSession(t *testing.T) {
	c, _ := newKindsClient(t, "v7", func(path string, _ map[string]string) (int, string) {
		switch path {
		case "/JobSessions/s1":
			return 200, fmt.Sprintf(sessionJSON, "S1", "", "2026-03-01T01:00:00Z", `null`, "Running")
		case "/JobSessions/s2":
			return 200, fmt.Sprintf(sessionJSON, "s9", "", "2026-03-01T01:00:00Z", `null`, "Running")
		case "/JobSessions/s1/LogItems":
			return 200, `{"offset":0,"limit":1000,"totalCount":1,"results":[{"id":"l1","title":"[Error] Failed to process mailbox: ` + kindsPassword + `","creationTime":"2026-03-01T01:00:00Z"}]}`
		}
		return 404, `{"message":"no"}`
	})
	ctx := context.Background()
	s, err := c.GetJobSession(ctx, "s1")
	if err != nil || s.ID != "s1" || s.Status != "Running" || s.Progress != 40 {
		t.Errorf("GetJobSession: %v %+v", err, s)
	}
	if _, err := c.GetJobSession(ctx, "s2"); err == nil {
		t.Error("an answer about another session is an error")
	}
	items, err := c.JobSessionLogItems(ctx, "s1")
	if err != nil || len(items) != 1 || items[0].Type != vb365.LogError || items[0].Message != "Failed to process mailbox: <secret>" {
		t.Errorf("JobSessionLogItems: %v %+v", err, items)
	}
}
