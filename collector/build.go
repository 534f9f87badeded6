package collector

import (
	"cmp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-kit/log"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/vb365-exporter/vb365_exporter/server"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// Build turns snapshots into metric families: the one place where metrics are made, for
// /metrics, /probe and every test. Servers come in name order, sessions and retrievals in ID
// order, so the output is stable; an ID repeated within a server is emitted once, which is
// what a Registry would otherwise reject.
func Build(snaps []*server.Snapshot, now time.Time, logger log.Logger) []*dto.MetricFamily {
	if logger == nil {
		logger = log.NewNopLogger()
	}
	snaps = slices.Clone(snaps)
	slices.SortFunc(snaps, func(a, b *server.Snapshot) int { return strings.Compare(a.Server, b.Server) })
	b := &builder{fams: map[*Family]*dto.MetricFamily{}}
	for _, s := range snaps {
		b.snapshot(s, now, logger)
	}
	out := make([]*dto.MetricFamily, 0, len(b.fams))
	for _, f := range b.fams {
		// Series come in server and ID order, which is already a Registry's order for every
		// family whose first labels are server and an ID; the others (info families, led by
		// name or data_state) are sorted here, so the output is what a Registry would serve.
		if !slices.IsSortedFunc(f.Metric, compareLabels) {
			slices.SortStableFunc(f.Metric, compareLabels)
		}
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	return out
}

func compareLabels(a, b *dto.Metric) int {
	for i := range a.Label {
		if a.Label[i] == b.Label[i] {
			continue // a shared pair, such as the server's
		}
		if c := strings.Compare(a.Label[i].GetValue(), b.Label[i].GetValue()); c != 0 {
			return c
		}
	}
	return 0
}

// statuses are the state sets' members in name order, as the series are listed.
var statuses = slices.Sorted(slices.Values(vb365.Statuses))

// Label names: every pair points at one of these.
var (
	lServer, lSessionID, lStatus, lName = "server", "session_id", "status", "name"
	lRetrievalID, lType, lDataState     = "retrieval_id", "type", "data_state"
	lLogType, lMessage                  = "log_type", "message"
	lCollector                          = "collector"
)

// logTypePairs label the log item counts, in name order.
var logTypePairs = []*dto.LabelPair{
	{Name: &lType, Value: proto.String(vb365.LogError)},
	{Name: &lType, Value: proto.String(vb365.LogWarning)},
}

// statusPairs are the state sets' status labels, shared by every series that carries one.
var statusPairs = func() []*dto.LabelPair {
	pairs := make([]*dto.LabelPair, len(statuses))
	for i := range statuses {
		pairs[i] = &dto.LabelPair{Name: &lStatus, Value: &statuses[i]}
	}
	return pairs
}()

// snapshot adds one server's series. Label pairs are made once and shared by every series
// that carries them (the server's, a session's ID, the statuses).
func (b *builder) snapshot(s *server.Snapshot, now time.Time, logger log.Logger) {
	serverPair := b.pair(&lServer, s.Server)
	b.add(upFamily, boolFloat(s.Up), serverPair)
	b.add(scrapeDurationFamily, s.Duration.Seconds(), serverPair)

	for _, r := range byID(s.Sessions, func(r server.SessionResult) vb365.ID { return r.ID }) {
		id := b.pair(&lSessionID, string(r.ID))
		// One label set serves every per-session family that has no label of its own.
		labels := b.set(serverPair, id)
		sess := r.Session
		if sess == nil {
			b.addSet(scrapeSuccessFamily, 0, labels)
			continue
		}
		b.addSet(scrapeSuccessFamily, 1, labels)
		b.add(infoFamily, 1, b.pair(&lName, sess.Name), b.pair(&lRetrievalID, string(sess.RetrievalID)), serverPair, id, b.pair(&lType, sess.Type))
		known := false
		for j, st := range statuses {
			known = known || st == sess.Status
			b.add(statusFamily, boolFloat(st == sess.Status), serverPair, id, statusPairs[j])
		}
		if !known {
			warnUnknownStatus(logger, s.Server, r.ID, sess.Status)
		}
		b.addSet(progressFamily, float64(sess.Progress), labels)
		b.addSet(processedFamily, float64(sess.ProcessedObjects), labels)
		b.addSet(durationFamily, sess.Duration(now).Seconds(), labels)
		b.addSet(creationFamily, unixSeconds(sess.CreationTime), labels)
		if sess.Ended() {
			b.addSet(endFamily, unixSeconds(sess.EndTime), labels)
		}
		if l := r.Log; l != nil {
			if why := l.Reason; why != nil {
				b.add(reasonFamily, 1, b.pair(&lLogType, why.Type), b.pair(&lMessage, why.Message), serverPair, id)
			}
			if l.Err == nil {
				b.add(logItemsFamily, float64(l.Errors), serverPair, id, logTypePairs[0])
				b.add(logItemsFamily, float64(l.Warnings), serverPair, id, logTypePairs[1])
			}
		}
	}

	for _, r := range byID(s.Retrievals, func(r vb365.Retrieval) vb365.ID { return r.ID }) {
		id := b.pair(&lRetrievalID, string(r.ID))
		b.add(retrievalInfoFamily, 1, b.pair(&lDataState, r.DataState), b.pair(&lName, r.Name), id, serverPair, b.pair(&lType, r.Type))
		for j, st := range statuses {
			b.add(retrievalLastStatusFamily, boolFloat(st == r.LastStatus), id, serverPair, statusPairs[j])
		}
		if !r.ExpirationTime.IsZero() {
			b.add(retrievalExpirationFamily, unixSeconds(r.ExpirationTime), id, serverPair)
		}
	}
	if len(s.Retrievals) > 0 || s.RetrievalsDropped > 0 {
		b.add(retrievalsDroppedFamily, float64(s.RetrievalsDropped), serverPair)
	}

	if d := s.Discovery; d != nil {
		b.add(discoverySuccessFamily, boolFloat(d.Err == nil), serverPair)
		if d.Err == nil {
			b.add(discoverySessionsFamily, float64(d.Sessions), serverPair)
			b.add(discoveryDroppedFamily, float64(d.Dropped), serverPair)
		}
	}

	b.installation(s, now, serverPair, logger)
	b.organizations(s, serverPair)
	b.restores(s.Restores, serverPair)

	for _, c := range s.Collectors {
		name := b.pair(&lCollector, c.Name)
		b.add(collectorSuccessFamily, boolFloat(c.Err == nil), name, serverPair)
		b.add(collectorDurationFamily, c.Duration.Seconds(), name, serverPair)
	}
}

// byID is list in ID order with each ID once: the order a Registry lists series in, without
// the repeated series it would reject (a session listed twice by a shifting list).
func byID[T any](list []T, id func(T) vb365.ID) []T {
	out := slices.Clone(list)
	slices.SortStableFunc(out, func(a, b T) int { return cmp.Compare(id(a), id(b)) })
	return slices.CompactFunc(out, func(a, b T) bool { return id(a) == id(b) })
}

func warnUnknownStatus(logger log.Logger, server string, id vb365.ID, status string) {
	unknownStatuses.warn(logger, "unknown data retrieval session status; all status series are 0",
		"status", status, "server", server, "session_id", id)
}

// builder collects the series of one scrape. Its objects come from slabs, so that a scrape
// of 10,000 sessions makes a few hundred allocations rather than one per label pair and
// value: at that size the allocations would cost more than the series themselves.
type builder struct {
	fams    map[*Family]*dto.MetricFamily
	metrics []dto.Metric
	gauges  []dto.Gauge
	values  []float64
	strs    []string
	pairs   []dto.LabelPair
	ptrs    []*dto.LabelPair
}

const slabSize = 4096

// take returns n zeroed elements whose addresses stay valid: a full slab is replaced, never
// grown, because the series already built point into it.
func take[T any](slab *[]T, n int) []T {
	if cap(*slab)-len(*slab) < n {
		*slab = make([]T, 0, max(slabSize, n))
	}
	*slab = (*slab)[:len(*slab)+n]
	return (*slab)[len(*slab)-n:]
}

// pair makes a label pair; the value is made valid UTF-8, which client_golang requires of
// every label and a server's strings need not be.
func (b *builder) pair(name *string, value string) *dto.LabelPair {
	v := &take(&b.strs, 1)[0]
	*v = labelValue(value)
	p := &take(&b.pairs, 1)[0]
	p.Name, p.Value = name, v
	return p
}

// set makes a label set of pairs, which must come in the family's label order (by name).
func (b *builder) set(pairs ...*dto.LabelPair) []*dto.LabelPair {
	return append(take(&b.ptrs, len(pairs))[:0], pairs...)
}

func (b *builder) add(f *Family, v float64, pairs ...*dto.LabelPair) {
	b.addSet(f, v, b.set(pairs...))
}

var gaugeType, counterType = dto.MetricType_GAUGE, dto.MetricType_COUNTER

func (b *builder) addSet(f *Family, v float64, labels []*dto.LabelPair) {
	mf := b.fams[f]
	if mf == nil {
		mf = &dto.MetricFamily{Name: &f.Name, Help: &f.Help, Type: &gaugeType}
		if counters[f] {
			mf.Type = &counterType
		}
		b.fams[f] = mf
	}
	value := &take(&b.values, 1)[0]
	*value = v
	m := &take(&b.metrics, 1)[0]
	m.Label = labels
	if counters[f] {
		m.Counter = &dto.Counter{Value: value}
	} else {
		g := &take(&b.gauges, 1)[0]
		g.Value = value
		m.Gauge = g
	}
	mf.Metric = append(mf.Metric, m)
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
