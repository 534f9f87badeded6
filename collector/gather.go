package collector

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/vb365-exporter/vb365_exporter/target"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// Gather implements prometheus.Gatherer. It builds the same families a Registry gathers from
// Collect, in the same order, but directly: no const metric per series, no channel, no
// per-series validation and no sort of 100,000 series by label pairs. At 10,000 sessions
// those cost several times what the series themselves do. Label values are made valid
// UTF-8 here (labelValue), and a session ID repeated within a server is emitted once, which
// is what the Registry would otherwise reject.
func (c *Collector) Gather() ([]*dto.MetricFamily, error) {
	snaps := make([]*target.Snapshot, len(c.sources))
	var wg sync.WaitGroup
	for i, src := range c.sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			snaps[i] = src.Snapshot(c.ctx)
		}()
	}
	wg.Wait()
	fams := Families(snaps, c.now(), c.logger)
	// The few series besides the sessions' (data retrievals, discovery) go through a
	// Registry as usual: they are not worth a direct path.
	reg := prometheus.NewRegistry()
	if err := reg.Register(extrasCollector(snaps)); err != nil {
		return fams, err
	}
	extra, err := reg.Gather()
	fams = append(fams, extra...)
	slices.SortFunc(fams, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	return fams, err
}

// extrasCollector emits what Emit sends besides the session series.
type extrasCollector []*target.Snapshot

func (e extrasCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range discoveryDescs() {
		ch <- d
	}
}

func (e extrasCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range e {
		emitDiscovery(ch, s)
	}
}

// Label names, shared by every label pair that carries them.
var (
	lnServer, lnSessionID, lnStatus         = "server", "session_id", "status"
	lnName, lnRetrievalID, lnType           = "name", "retrieval_id", "type"
	gaugeType                               = dto.MetricType_GAUGE
	valueOne, valueZero             float64 = 1, 0
)

// sortedStatuses are the state set's members in the order a Registry sorts them; each has
// one shared label pair.
var sortedStatuses, statusPairs = func() ([]string, []*dto.LabelPair) {
	s := slices.Clone(vb365.Statuses)
	sort.Strings(s)
	pairs := make([]*dto.LabelPair, len(s))
	for i := range s {
		pairs[i] = &dto.LabelPair{Name: &lnStatus, Value: &s[i]}
	}
	return s, pairs
}()

// family names and help, from the same descs Collect uses so the two cannot drift.
type familySpec struct{ name, help string }

var specs = map[*prometheus.Desc]*familySpec{}

// newDesc is prometheus.NewDesc that remembers name and help, which Desc keeps private.
func newDesc(name, help string, labels []string) *prometheus.Desc {
	d := prometheus.NewDesc(name, help, labels, nil)
	specs[d] = &familySpec{name: name, help: help}
	return d
}

// sessionSeries is one read session's share of the series, in slabs so that a scrape of N
// sessions makes a few large allocations instead of dozens per session.
type sessionSeries struct {
	id     string
	sess   *vb365.Session
	values [6]float64       // progress, processed, duration, creation, end, scrape_success
	pairs  [4]dto.LabelPair // session_id, name, retrieval_id, type
	status [6][3]*dto.LabelPair
	// info holds info's labels sorted by name, as NewConstMetric sorts them.
	info []*dto.LabelPair
}

// Families builds the session metric families of the snapshots (up, scrape duration and the
// per-session series), sorted as a Registry sorts them.
func Families(snaps []*target.Snapshot, now time.Time, logger log.Logger) []*dto.MetricFamily {
	if logger == nil {
		logger = log.NewNopLogger()
	}
	snaps = slices.Clone(snaps)
	slices.SortFunc(snaps, func(a, b *target.Snapshot) int { return strings.Compare(a.Server, b.Server) })

	total := 0
	for _, s := range snaps {
		total += len(s.Sessions)
	}
	fams := map[*prometheus.Desc]*dto.MetricFamily{}
	fam := func(d *prometheus.Desc, n int) *dto.MetricFamily {
		f := fams[d]
		if f == nil {
			sp := specs[d]
			f = &dto.MetricFamily{Name: &sp.name, Help: &sp.help, Type: &gaugeType, Metric: make([]*dto.Metric, 0, n)}
			fams[d] = f
		}
		return f
	}
	// One slab of metrics and gauges for the whole scrape.
	metrics := make([]dto.Metric, 0, 2*len(snaps)+13*total)
	gauges := make([]dto.Gauge, 0, cap(metrics))
	add := func(f *dto.MetricFamily, labels []*dto.LabelPair, v *float64) {
		metrics = append(metrics, dto.Metric{})
		gauges = append(gauges, dto.Gauge{})
		m, g := &metrics[len(metrics)-1], &gauges[len(gauges)-1]
		g.Value = v
		m.Label, m.Gauge = labels, g
		f.Metric = append(f.Metric, m)
	}

	var infos []*sessionSeries
	for _, snap := range snaps {
		server := snap.Server
		serverPair := &dto.LabelPair{Name: &lnServer, Value: &server}
		serverLabels := []*dto.LabelPair{serverPair}
		up, dur := boolFloat(snap.Up), snap.Duration.Seconds()
		add(fam(upDesc, len(snaps)), serverLabels, &up)
		add(fam(scrapeDurationDesc, len(snaps)), serverLabels, &dur)

		order := make([]int, len(snap.Sessions))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(snap.Sessions[a].ID, snap.Sessions[b].ID) })
		series := make([]sessionSeries, len(order))
		pairSlab := make([]*dto.LabelPair, 0, 2*len(order))
		infoSlab := make([]*dto.LabelPair, 0, 5*len(order))
		for k, i := range order {
			r := &snap.Sessions[i]
			if k > 0 && r.ID == snap.Sessions[order[k-1]].ID {
				continue
			}
			ss := &series[k]
			ss.id = r.ID
			ss.pairs[0] = dto.LabelPair{Name: &lnSessionID, Value: &ss.id}
			pairSlab = append(pairSlab, serverPair, &ss.pairs[0])
			labels := pairSlab[len(pairSlab)-2 : len(pairSlab) : len(pairSlab)]
			if r.Session == nil {
				add(fam(scrapeSuccessDesc, total), labels, &valueZero)
				continue
			}
			add(fam(scrapeSuccessDesc, total), labels, &valueOne)
			sess := r.Session
			ss.sess = sess
			ss.values = [6]float64{float64(sess.Progress), float64(sess.ProcessedObjects), sess.Duration(now).Seconds(),
				unixSeconds(sess.CreationTime), unixSeconds(sess.EndTime), 1}

			name, rid, typ := labelValue(sess.Name), labelValue(sess.RetrievalID), labelValue(sess.Type)
			ss.pairs[1] = dto.LabelPair{Name: &lnName, Value: &name}
			ss.pairs[2] = dto.LabelPair{Name: &lnRetrievalID, Value: &rid}
			ss.pairs[3] = dto.LabelPair{Name: &lnType, Value: &typ}
			infoSlab = append(infoSlab, &ss.pairs[1], &ss.pairs[2], serverPair, &ss.pairs[0], &ss.pairs[3])
			ss.info = infoSlab[len(infoSlab)-5 : len(infoSlab) : len(infoSlab)]
			infos = append(infos, ss)
			known := false
			sf := fam(statusDesc, 6*total)
			for j, st := range sortedStatuses {
				ss.status[j] = [3]*dto.LabelPair{serverPair, &ss.pairs[0], statusPairs[j]}
				v := &valueZero
				if st == sess.Status {
					v, known = &valueOne, true
				}
				add(sf, ss.status[j][:], v)
			}
			if !known {
				unknownStatuses.warn(logger, "unknown data retrieval session status; all status series are 0",
					"status", sess.Status, "server", server, "session_id", r.ID)
			}
			add(fam(progressDesc, total), labels, &ss.values[0])
			add(fam(processedDesc, total), labels, &ss.values[1])
			add(fam(durationDesc, total), labels, &ss.values[2])
			add(fam(creationDesc, total), labels, &ss.values[3])
			if sess.Ended() {
				add(fam(endDesc, total), labels, &ss.values[4])
			}
		}
	}
	if len(infos) > 0 {
		// A Registry sorts info by its label values in label name order: name first.
		f := fam(infoDesc, len(infos))
		slices.SortStableFunc(infos, func(a, b *sessionSeries) int {
			for i := range a.info {
				if c := strings.Compare(*a.info[i].Value, *b.info[i].Value); c != 0 {
					return c
				}
			}
			return 0
		})
		for _, ss := range infos {
			add(f, ss.info, &ss.values[5])
		}
	}

	out := make([]*dto.MetricFamily, 0, len(fams))
	for _, f := range fams {
		if len(f.Metric) > 0 {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	return out
}

// Merge returns a Gatherer of gs' families, gathered in order. Unlike prometheus.Gatherers
// it does not re-check and re-sort every series, which at 10,000 sessions costs as much as
// gathering them: the gatherers served together here own distinct metric names. A name
// that does come from two of them has its series concatenated, under the first one's help
// and type when the types agree, and is an error otherwise.
func Merge(gs ...prometheus.Gatherer) prometheus.Gatherer {
	return merged(gs)
}

type merged []prometheus.Gatherer

func (m merged) Gather() ([]*dto.MetricFamily, error) {
	var (
		out    []*dto.MetricFamily
		byName = map[string]*dto.MetricFamily{}
		errs   []error
	)
	for _, g := range m {
		fams, err := g.Gather()
		if err != nil {
			errs = append(errs, err)
		}
		for _, f := range fams {
			prev, dup := byName[f.GetName()]
			switch {
			case !dup:
				byName[f.GetName()] = f
				out = append(out, f)
			case prev.GetType() == f.GetType():
				prev.Metric = append(prev.Metric, f.Metric...)
			default:
				errs = append(errs, fmt.Errorf("metric family %s gathered with types %s and %s", f.GetName(), prev.GetType(), f.GetType()))
			}
		}
	}
	slices.SortFunc(out, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	return out, errors.Join(errs...)
}
