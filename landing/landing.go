// Package landing renders the exporter's landing page (`/`): per configured server the last
// scrape and its sessions, and on `/?debug=SERVER` the API calls of that scrape. It only
// reads snapshots the servers already hold, so opening the page never calls the VB365 API,
// and a page left open cannot load a server.
package landing

import (
	"bytes"
	"cmp"
	_ "embed"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vb365-exporter/vb365_exporter/server"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// Server is one configured server as the page shows it.
type Server struct {
	Name       string
	URL        string
	APIVersion string
	// Last is the server's last snapshot, nil before its first scrape.
	Last *server.Snapshot
}

// Link is one entry of the page's link list.
type Link struct {
	Address string
	Text    string
}

// Options configure the page.
type Options struct {
	Name        string
	Description string
	Version     string
	// MetricsPath is where Prometheus scrapes; the page points there before the first scrape.
	MetricsPath string
	// SDPath and ProbePath are the exporter's HTTP service discovery and its one-server
	// scrape path (the routes' owner passes them); the page links both, so that a user finds
	// them without the README.
	SDPath, ProbePath string
	Links             []Link
	// Servers returns the configured servers in config order; it is called per request so
	// that a reload shows at once.
	Servers func() []Server
	// now is the clock for "ago"; only tests replace it.
	now func() time.Time
}

// Handler serves the landing page and the debug page.
type Handler struct {
	opts Options
}

//go:embed page.html
var pageSource string

var page = template.Must(template.New("page").Funcs(installFuncs).Parse(pageSource))

// New returns the handler.
func New(o Options) *Handler {
	if o.now == nil {
		o.now = time.Now
	}
	o.MetricsPath = cmp.Or(o.MetricsPath, "/metrics")
	if o.Servers == nil {
		o.Servers = func() []Server { return nil }
	}
	return &Handler{opts: o}
}

// contentSecurityPolicy allows the inline style sheet and nothing else: no scripts, no
// fetches, no assets from anywhere, which also proves that the page needs none.
const contentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	servers := h.opts.Servers()
	now := h.opts.now()
	q := r.URL.Query()
	v := view{
		Name: h.opts.Name, Description: h.opts.Description, Version: h.opts.Version, Links: h.opts.Links,
		MetricsPath: h.opts.MetricsPath, SDPath: h.opts.SDPath, ProbePath: h.opts.ProbePath,
		Now: now.UTC().Format(pageTime), Refresh: refreshSeconds(q.Get("refresh")), RefreshChoices: refreshChoices,
	}
	status := http.StatusOK
	v.Debug, v.DebugServer = q.Has("debug"), q.Get("debug")
	if v.Debug {
		status = http.StatusNotFound // until the server is found
	}
	for _, s := range servers {
		v.ServerNames = append(v.ServerNames, s.Name)
		switch {
		case !v.Debug:
			v.Servers = append(v.Servers, serverView(s, now))
		case s.Name == v.DebugServer:
			status = http.StatusOK
			v.Servers, v.Calls = []serverPage{serverView(s, now)}, callViews(s.Last)
			if s.Last != nil && len(s.Last.Calls) >= server.MaxCalls {
				v.CallsCap = server.MaxCalls // the list may be cut
			}
		}
	}
	var buf bytes.Buffer
	if err := page.Execute(&buf, v); err != nil {
		http.Error(w, "cannot render page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Content-Security-Policy", contentSecurityPolicy)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	// The page is a view of one moment; a cached copy would show an old scrape as current.
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// The page reloads itself only when asked (?refresh=N): a page left open then shows new
// scrapes as they happen. N is bounded so that a typo cannot turn a forgotten tab into a
// request every millisecond, or into a page that never refreshes.
const (
	minRefresh = 5
	maxRefresh = 3600
)

var refreshChoices = []int{15, 30, 60}

// refreshSeconds returns the reload interval asked for, clamped to [minRefresh, maxRefresh],
// or 0 (off) when none or no number was given.
func refreshSeconds(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0
	}
	return min(max(n, minRefresh), maxRefresh)
}

const (
	pageTime    = "2006-01-02 15:04:05 UTC"
	sessionTime = "2006-01-02 15:04:05 -07:00"
)

type view struct {
	Name, Description, Version, Now string
	MetricsPath, SDPath, ProbePath  string
	Refresh                         int
	RefreshChoices                  []int
	Links                           []Link
	Servers                         []serverPage
	ServerNames                     []string
	Debug                           bool
	DebugServer                     string
	Calls                           []callView
	CallsCap                        int // server.MaxCalls when the list may be cut, else 0
}

type serverPage struct {
	Name, URL, APIVersion string
	Scraped               bool
	When, Ago, Duration   string
	Up                    bool
	Reason, Error         string
	Sessions              []sessionView
	Counts                []statusCount
	NotRead               int
	Calls                 int
	Retrievals            []retrievalView
	RetrievalsReason      string
	RetrievalsError       string
	RetrievalsDropped     int
	Install               installView
}

type retrievalView struct {
	ID                    vb365.ID
	Name, Type, DataState string
	// Expires is when the data expires, empty for none; ExpiresIn says how long from now.
	Expires, ExpiresIn string
	ExpiryClass        string
}

type statusCount struct {
	Status, Class string
	N             int
}

type sessionView struct {
	ID, RetrievalID          vb365.ID
	Name, Type               string
	Read                     bool
	Status, StatusClass      string
	Progress, Objects        int64
	Duration, Created, Ended string
	Cached                   bool
	Reason, Error            string
	// WantsLog is true for a session that ended Failed or Warning; LogRead says whether its
	// log was read, and LogType and LogMessage are the reason the log gives, if any.
	WantsLog, LogRead   bool
	LogType, LogMessage string
	LogErrors, LogWarns int
}

type callView struct {
	N                  int
	Method, Path       string
	Status, StatusText string
	StatusClass        string
	Latency, Error     string
	Failed             bool
}

// statusClass maps a documented status to its colour; a status a newer VB365 invents still
// renders, in a neutral colour.
func statusClass(status string) string {
	if slices.Contains(vb365.JobStatuses, status) {
		return "st-" + strings.ToLower(status)
	}
	return "st-other"
}

func serverView(s Server, now time.Time) serverPage {
	p := serverPage{Name: s.Name, URL: s.URL, APIVersion: s.APIVersion}
	snap := s.Last
	if snap == nil {
		return p
	}
	p.Scraped = true
	p.When = snap.Start.UTC().Format(pageTime)
	p.Ago = ago(now.Sub(snap.Start))
	p.Duration = formatDuration(snap.Duration)
	p.Up = snap.Up
	if snap.Err != nil {
		p.Reason = vb365.Reason(snap.Err)
		p.Error = vb365.Detail(snap.Err)
	}
	p.Calls = len(snap.Calls)
	counts := map[string]int{}
	var order []string
	for _, r := range snap.Sessions {
		sv := sessionView{ID: r.ID, Cached: r.Cached}
		if r.Session == nil {
			p.NotRead++
			sv.Status, sv.StatusClass = "not read", "st-notread"
			if r.Err != nil {
				sv.Reason = vb365.Reason(r.Err)
				sv.Error = vb365.Detail(r.Err)
			} else {
				sv.Reason = "no answer"
			}
		} else {
			sess := r.Session
			sv.Read = true
			sv.Name, sv.Type, sv.RetrievalID = sess.Name, sess.Type, sess.RetrievalID
			sv.Status, sv.StatusClass = sess.Status, statusClass(sess.Status)
			sv.Progress, sv.Objects = sess.Progress, sess.ProcessedObjects
			// A running session's duration grows until it ends; as the metric does, the
			// page measures it at the scrape, not when the page is opened.
			sv.Duration = sessionDuration(sess.Duration(snap.Start))
			sv.Created = sess.CreationTime.Format(sessionTime)
			if sess.Ended() {
				sv.Ended = sess.EndTime.Format(sessionTime)
			}
			// The server reads the log of such a session, and only of such a session.
			sv.WantsLog = r.WantsLog()
			if l := r.Log; l != nil {
				sv.LogRead, sv.LogErrors, sv.LogWarns = l.Err == nil, l.Errors, l.Warnings
				if l.Reason != nil {
					sv.LogType, sv.LogMessage = l.Reason.Type, l.Reason.Message
				}
			}
			if counts[sess.Status] == 0 {
				order = append(order, sess.Status)
			}
			counts[sess.Status]++
		}
		p.Sessions = append(p.Sessions, sv)
	}
	// The sessions that need someone come first, in config order within each group, so that
	// they are above the fold of a long list: sessions not read (nothing is known about them,
	// which is why a user opens this page), then Failed, Warning and Running ones; the rest
	// (Success, Stopped, NotConfigured and statuses a newer VB365 invents) after them.
	sort.SliceStable(p.Sessions, func(i, j int) bool { return sessionRank(p.Sessions[i]) < sessionRank(p.Sessions[j]) })
	// Documented statuses first, in Veeam's order, then any new ones as they came.
	seen := map[string]bool{}
	for _, st := range append(append([]string(nil), vb365.Statuses...), order...) {
		if counts[st] > 0 && !seen[st] {
			seen[st] = true
			p.Counts = append(p.Counts, statusCount{Status: st, Class: statusClass(st), N: counts[st]})
		}
	}
	p.Retrievals = retrievalViews(snap.Retrievals, now)
	if err := snap.RetrievalsErr; err != nil {
		p.RetrievalsReason = vb365.Reason(err)
		// A server that was down failed every call alike, and its error is shown above.
		if snap.Err == nil {
			p.RetrievalsError = vb365.Detail(err)
		}
	}
	p.RetrievalsDropped = snap.RetrievalsDropped
	p.Install = installationView(snap, now)
	return p
}

// sessionRank is a session's place in the table; see the sort in serverView.
func sessionRank(s sessionView) int {
	if !s.Read {
		return 0
	}
	switch s.Status {
	case vb365.StatusFailed:
		return 1
	case vb365.StatusWarning:
		return 2
	case vb365.StatusRunning:
		return 3
	}
	return 4
}

// expiringSoon marks data that expires within a day, the default window of the
// VB365DataRetrievalExpiringSoon alert, so that the page and the alert agree.
const expiringSoon = 24 * time.Hour

// retrievalViews lists the data retrievals soonest expiry first (expired ones, then those
// that expire next), and those without an expiry last, by name: the order in which their
// data is lost. Time left is measured now, not at the scrape: an expiry is a wall-clock time.
func retrievalViews(list []vb365.Retrieval, now time.Time) []retrievalView {
	sorted := append([]vb365.Retrieval(nil), list...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i].ExpirationTime, sorted[j].ExpirationTime
		if a.IsZero() != b.IsZero() {
			return b.IsZero()
		}
		if !a.Equal(b) {
			return a.Before(b)
		}
		return sorted[i].Name < sorted[j].Name
	})
	out := make([]retrievalView, len(sorted))
	for i, r := range sorted {
		v := retrievalView{ID: r.ID, Name: r.Name, Type: r.Type, DataState: r.DataState, ExpiresIn: "no expiry"}
		if !r.ExpirationTime.IsZero() {
			v.Expires = r.ExpirationTime.Format(sessionTime)
			v.ExpiresIn, v.ExpiryClass = expiry(r.ExpirationTime.Sub(now), expiringSoon)
		}
		out[i] = v
	}
	return out
}

// expiry says how long until an expiry or since it passed, and the class that marks it expired
// or within soon of it.
func expiry(left, soon time.Duration) (text, class string) {
	switch {
	case left <= 0:
		return "expired " + roughDuration(-left) + " ago", "exp-gone"
	case left <= soon:
		return "expires in " + roughDuration(left), "exp-soon"
	}
	return "expires in " + roughDuration(left), ""
}

// roughDuration says how long to the minute: data expires over days, and the exact time is
// shown next to it.
func roughDuration(d time.Duration) string {
	d = d.Round(time.Minute)
	if d < time.Minute {
		return "under a minute"
	}
	days, h, m := int(d.Hours())/24, int(d.Hours())%24, int(d.Minutes())%60
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh", days, h)
	case h > 0:
		return fmt.Sprintf("%dh %02dm", h, m)
	}
	return fmt.Sprintf("%d min", m)
}

func callViews(snap *server.Snapshot) []callView {
	if snap == nil {
		return nil
	}
	out := make([]callView, len(snap.Calls))
	for i, c := range snap.Calls {
		cv := callView{N: i + 1, Method: c.Method, Path: c.Path, Latency: formatDuration(c.Duration), Error: c.Error}
		if c.Status == 0 {
			cv.Status, cv.StatusText, cv.StatusClass, cv.Failed = "-", "no answer", "code-err", true
		} else {
			cv.Status, cv.StatusText = strconv.Itoa(c.Status), http.StatusText(c.Status)
			cv.StatusClass = "code-ok"
			if c.Status >= 400 {
				cv.StatusClass, cv.Failed = "code-err", true
			}
		}
		out[i] = cv
	}
	return out
}

func formatDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	case d < time.Minute:
		return fmt.Sprintf("%.3f s", d.Seconds())
	}
	return d.Round(time.Second).String()
}

// sessionDuration rounds to the second: sessions run for minutes to days, and the exact
// value is in the metric.
func sessionDuration(d time.Duration) string {
	d = d.Round(time.Second)
	if d < 0 {
		d = 0
	}
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh %02dm %02ds", h, m, s)
	case m > 0:
		return fmt.Sprintf("%dm %02ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}

func ago(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	}
	return d.Round(time.Minute).String() + " ago"
}
