// Package collector turns the targets' snapshots into Prometheus metrics. It holds no state
// of the VB365 servers itself: reading, caching and coalescing live behind target.Target.
package collector

import (
	"context"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vb365-exporter/vb365_exporter/target"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

const namespace = "vb365"

var (
	serverLabels  = []string{"server"}
	sessionLabels = []string{"server", "session_id"}

	upDesc = newDesc(namespace+"_up",
		"1 when the exporter authenticated and the VB365 REST API answered during this scrape, else 0.",
		serverLabels)
	scrapeDurationDesc = newDesc(namespace+"_scrape_duration_seconds",
		"Time this scrape spent reading the VB365 server.",
		serverLabels)
	scrapeSuccessDesc = newDesc(namespace+"_data_retrieval_session_scrape_success",
		"1 when the data retrieval session's data was read, else 0 (not found, error, timeout). "+
			"A finished session (terminal status and an end time) is served from the exporter's cache for cache_ttl before it is read again; a running one is read every scrape.",
		sessionLabels)
	infoDesc = newDesc(namespace+"_data_retrieval_session_info",
		"Data retrieval session metadata: name, ID of the retrieval job (retrievalId) and session type (Retrieve, RetrievalChangeAvailabilityPeriodDays, RetrievalRemoving). Always 1.",
		[]string{"server", "session_id", "name", "retrieval_id", "type"})
	statusDesc = newDesc(namespace+"_data_retrieval_session_status",
		"Status of the data retrieval session as a state set: 1 for the current status (Stopped, Running, Success, Failed, Warning, NotConfigured), 0 for the others.",
		[]string{"server", "session_id", "status"})
	progressDesc = newDesc(namespace+"_data_retrieval_session_progress",
		"Progress of the data retrieval session as VB365 reports it: the number of objects processed during the session (a count, not a percentage).",
		sessionLabels)
	processedDesc = newDesc(namespace+"_data_retrieval_session_processed_objects",
		"Number of items processed by the retrieval job (processedObjects).",
		sessionLabels)
	durationDesc = newDesc(namespace+"_data_retrieval_session_duration_seconds",
		"Duration of the data retrieval session: endTime - creationTime, or now - creationTime while it has not ended.",
		sessionLabels)
	creationDesc = newDesc(namespace+"_data_retrieval_session_creation_timestamp_seconds",
		"When the data retrieval session was created (creationTime), in Unix seconds.",
		sessionLabels)
	endDesc = newDesc(namespace+"_data_retrieval_session_end_timestamp_seconds",
		"When the data retrieval session ended (endTime), in Unix seconds; absent while it has not ended.",
		sessionLabels)
)

// Descs lists every metric the collector can emit, for documentation and dashboard tests.
func Descs() []*prometheus.Desc {
	return append([]*prometheus.Desc{upDesc, scrapeDurationDesc, scrapeSuccessDesc, infoDesc, statusDesc,
		progressDesc, processedDesc, durationDesc, creationDesc, endDesc}, discoveryDescs()...)
}

// Source is what the collector reads: target.Target satisfies it.
type Source interface {
	Snapshot(ctx context.Context) *target.Snapshot
}

// Collector is a prometheus.Collector for one scrape: it carries the scrape's context, so
// that the scrape deadline bounds every API call made on its behalf.
type Collector struct {
	ctx     context.Context
	sources []Source
	logger  log.Logger
	now     func() time.Time
}

// New returns a collector bound to the scrape's ctx.
func New(ctx context.Context, sources []Source, logger log.Logger) *Collector {
	if logger == nil {
		logger = log.NewNopLogger()
	}
	return &Collector{ctx: ctx, sources: sources, logger: logger, now: time.Now}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range Descs() {
		ch <- d
	}
}

// Collect implements prometheus.Collector; servers are read in parallel.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	var wg sync.WaitGroup
	for _, src := range c.sources {
		wg.Add(1)
		go func(src Source) {
			defer wg.Done()
			Emit(ch, src.Snapshot(c.ctx), c.now(), c.logger)
		}(src)
	}
	wg.Wait()
}

// unknownStatuses remembers the status values already warned about: a future server version
// with a new status should produce one log line, not one per scrape.
var unknownStatuses = &unknownValues{}

// maxUnknownValues bounds the values remembered for "warn once". A real server adds a
// status now and then; a hostile one sends a new value on every read, and must not be
// able to grow the exporter's memory or its log without end.
const maxUnknownValues = 100

// unknownValues is a bounded "warn once" set: each distinct value is logged once, up to
// maxUnknownValues of them, then one line says that further ones are not logged.
type unknownValues struct {
	mu   sync.Mutex
	seen map[string]struct{}
	full bool
}

// warn logs value under key, cut to vb365.MaxEnumBytes, the first time it is seen while
// the set has room.
func (u *unknownValues) warn(logger log.Logger, msg, key, value string, keyvals ...any) {
	value = cutValue(labelValue(value), vb365.MaxEnumBytes)
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, ok := u.seen[value]; ok || u.full {
		return
	}
	if len(u.seen) >= maxUnknownValues {
		u.full = true
		level.Warn(logger).Log("msg", "too many unknown values; further ones are not logged", "remembered", len(u.seen))
		return
	}
	if u.seen == nil {
		u.seen = map[string]struct{}{}
	}
	u.seen[value] = struct{}{}
	level.Warn(logger).Log(append([]any{"msg", msg, key, value}, keyvals...)...)
}

func (u *unknownValues) len() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.seen)
}

// cutValue cuts s to at most n bytes at a rune boundary. Decoding cuts the server's strings
// already; this keeps the bound for snapshots built any other way.
func cutValue(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return strings.Clone(s[:i])
}

// Emit sends the metrics of one snapshot.
func Emit(ch chan<- prometheus.Metric, s *target.Snapshot, now time.Time, logger log.Logger) {
	server := s.Server
	ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, boolFloat(s.Up), server)
	ch <- prometheus.MustNewConstMetric(scrapeDurationDesc, prometheus.GaugeValue, s.Duration.Seconds(), server)
	emitDiscovery(ch, s)
	for _, r := range s.Sessions {
		ch <- prometheus.MustNewConstMetric(scrapeSuccessDesc, prometheus.GaugeValue, boolFloat(r.Session != nil), server, r.ID)
		if r.Session == nil {
			continue
		}
		sess := r.Session
		ch <- prometheus.MustNewConstMetric(infoDesc, prometheus.GaugeValue, 1,
			server, r.ID, labelValue(sess.Name), labelValue(sess.RetrievalID), labelValue(sess.Type))
		known := false
		for _, st := range vb365.Statuses {
			v := 0.0
			if st == sess.Status {
				v, known = 1, true
			}
			ch <- prometheus.MustNewConstMetric(statusDesc, prometheus.GaugeValue, v, server, r.ID, st)
		}
		if !known {
			unknownStatuses.warn(logger, "unknown data retrieval session status; all status series are 0",
				"status", sess.Status, "server", server, "session_id", r.ID)
		}
		ch <- prometheus.MustNewConstMetric(progressDesc, prometheus.GaugeValue, float64(sess.Progress), server, r.ID)
		ch <- prometheus.MustNewConstMetric(processedDesc, prometheus.GaugeValue, float64(sess.ProcessedObjects), server, r.ID)
		ch <- prometheus.MustNewConstMetric(durationDesc, prometheus.GaugeValue, sess.Duration(now).Seconds(), server, r.ID)
		ch <- prometheus.MustNewConstMetric(creationDesc, prometheus.GaugeValue, unixSeconds(sess.CreationTime), server, r.ID)
		if sess.Ended() {
			ch <- prometheus.MustNewConstMetric(endDesc, prometheus.GaugeValue, unixSeconds(sess.EndTime), server, r.ID)
		}
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// labelValue keeps a value from the API usable as a label: client_golang rejects invalid
// UTF-8, and one odd name must not break the whole scrape.
func labelValue(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
