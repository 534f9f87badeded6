// Package floor holds the baselines the exporter's benchmarks are measured against: what
// client_golang alone costs to serve the exporter's series, with no API reads, no cache and
// no exporter code around it. It depends on vb365 only for the session type.
package floor

import (
	"fmt"
	"io"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/vb365-exporter/vb365_exporter/vb365"
)

var (
	sessionLabels = []string{"server", "session_id"}
	upDesc        = prometheus.NewDesc("vb365_up", "up", []string{"server"}, nil)
	durDesc       = prometheus.NewDesc("vb365_scrape_duration_seconds", "scrape duration", []string{"server"}, nil)
	successDesc   = prometheus.NewDesc("vb365_data_retrieval_session_scrape_success", "read", sessionLabels, nil)
	infoDesc      = prometheus.NewDesc("vb365_data_retrieval_session_info", "info",
		[]string{"server", "session_id", "name", "retrieval_id", "type"}, nil)
	statusDesc    = prometheus.NewDesc("vb365_data_retrieval_session_status", "status", []string{"server", "session_id", "status"}, nil)
	progressDesc  = prometheus.NewDesc("vb365_data_retrieval_session_progress", "progress", sessionLabels, nil)
	processedDesc = prometheus.NewDesc("vb365_data_retrieval_session_processed_objects", "processed", sessionLabels, nil)
	durationDesc  = prometheus.NewDesc("vb365_data_retrieval_session_duration_seconds", "duration", sessionLabels, nil)
	creationDesc  = prometheus.NewDesc("vb365_data_retrieval_session_creation_timestamp_seconds", "creation", sessionLabels, nil)
	endDesc       = prometheus.NewDesc("vb365_data_retrieval_session_end_timestamp_seconds", "end", sessionLabels, nil)
)

// constCollector emits the exporter's series for a fixed set of sessions as const metrics.
type constCollector struct {
	server   string
	sessions []vb365.Session
	now      time.Time
}

func (c constCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{upDesc, durDesc, successDesc, infoDesc, statusDesc,
		progressDesc, processedDesc, durationDesc, creationDesc, endDesc} {
		ch <- d
	}
}

func (c constCollector) Collect(ch chan<- prometheus.Metric) {
	g := prometheus.GaugeValue
	ch <- prometheus.MustNewConstMetric(upDesc, g, 1, c.server)
	ch <- prometheus.MustNewConstMetric(durDesc, g, 0.1, c.server)
	for i := range c.sessions {
		s := &c.sessions[i]
		id := string(s.ID)
		ch <- prometheus.MustNewConstMetric(successDesc, g, 1, c.server, id)
		ch <- prometheus.MustNewConstMetric(infoDesc, g, 1, c.server, id, s.Name, string(s.RetrievalID), s.Type)
		for _, st := range vb365.Statuses {
			v := 0.0
			if st == s.Status {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(statusDesc, g, v, c.server, id, st)
		}
		ch <- prometheus.MustNewConstMetric(progressDesc, g, float64(s.Progress), c.server, id)
		ch <- prometheus.MustNewConstMetric(processedDesc, g, float64(s.ProcessedObjects), c.server, id)
		ch <- prometheus.MustNewConstMetric(durationDesc, g, s.Duration(c.now).Seconds(), c.server, id)
		ch <- prometheus.MustNewConstMetric(creationDesc, g, float64(s.CreationTime.UnixNano())/1e9, c.server, id)
		if s.Ended() {
			ch <- prometheus.MustNewConstMetric(endDesc, g, float64(s.EndTime.UnixNano())/1e9, c.server, id)
		}
	}
}

// Scrape is the library floor of one scrape: the sessions' series built as const metrics,
// gathered through a plain Registry and written in the text format.
func Scrape(w io.Writer, server string, sessions []vb365.Session, now time.Time) error {
	reg := prometheus.NewRegistry()
	if err := reg.Register(constCollector{server: server, sessions: sessions, now: now}); err != nil {
		return err
	}
	mfs, err := reg.Gather()
	if err != nil {
		return err
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return err
		}
	}
	return nil
}

// Sessions makes n sessions shaped like the load scenarios' (names, IDs and times of real
// length), running picks which are still running.
func Sessions(n int, now time.Time, running func(i int) bool) []vb365.Session {
	out := make([]vb365.Session, n)
	statuses := []string{vb365.StatusSuccess, vb365.StatusFailed, vb365.StatusWarning, vb365.StatusStopped}
	for i := range out {
		created := now.Add(-time.Duration(n-i) * time.Minute)
		s := vb365.Session{
			ID: vb365.ID(SessionID(i)), Name: fmt.Sprintf("Exchange data retrieval %d", i), RetrievalID: vb365.ID(RetrievalID(i % 50)),
			CreationTime: created, EndTime: created.Add(220834 * time.Millisecond),
			Progress: int64(i % 100), ProcessedObjects: int64(37 * i), Type: "Retrieve", Status: statuses[i%len(statuses)],
		}
		if running != nil && running(i) {
			s.Status, s.EndTime = vb365.StatusRunning, time.Time{}
		}
		out[i] = s
	}
	return out
}

// SessionID is the ID of the i-th benchmark session.
func SessionID(i int) string { return fmt.Sprintf("668f478c-0326-440a-8bdf-%012d", i) }

// RetrievalID is the ID of the i-th benchmark retrieval.
func RetrievalID(i int) string { return fmt.Sprintf("8a76872b-7f2c-4c50-95f4-%012d", i) }
