package collector

import (
	"cmp"
	"maps"
	"slices"

	dto "github.com/prometheus/client_model/go"

	"github.com/vb365-exporter/vb365_exporter/server"
)

var lOrganization, lResult, lInitiatedBy = "organization", "result", "initiated_by"

// counters are the families served as counters; every other family is a gauge.
var counters = map[*Family]bool{restoreTotalFamily: true}

// restoreSeries is one label set of the restore families: organization, type and the
// result or the initiator.
type restoreSeries struct{ org, typ, third string }

func compareSeries(a, b restoreSeries) int {
	return cmp.Or(cmp.Compare(a.org, b.org), cmp.Compare(a.typ, b.typ), cmp.Compare(a.third, b.third))
}

// restores adds the restores' series: the counter of the kept totals, the window's and the
// running restores counted by label set (every counter label set has a recent series, 0
// when none ended in the window), and the dropped count. Nothing while they were not read.
func (b *builder) restores(r *server.RestoreResult, serverPair *dto.LabelPair) {
	if r == nil {
		return
	}
	recent := map[restoreSeries]int{}
	for _, c := range r.Totals {
		k := restoreSeries{c.Organization, c.Type, c.Result}
		recent[k] += 0
		b.add(restoreTotalFamily, c.Count, b.pair(&lOrganization, k.org), b.pair(&lResult, k.third), serverPair, b.pair(&lType, k.typ))
	}
	for _, s := range r.Recent {
		recent[restoreSeries{s.Organization, s.Type, s.Result}]++
	}
	b.counts(restoreRecentFamily, recent, func(k restoreSeries) []*dto.LabelPair {
		return []*dto.LabelPair{b.pair(&lOrganization, k.org), b.pair(&lResult, k.third), serverPair, b.pair(&lType, k.typ)}
	})
	running := map[restoreSeries]int{}
	for _, s := range r.Running {
		running[restoreSeries{s.Organization, s.Type, s.InitiatedBy}]++
	}
	b.counts(restoreRunningFamily, running, func(k restoreSeries) []*dto.LabelPair {
		return []*dto.LabelPair{b.pair(&lInitiatedBy, k.third), b.pair(&lOrganization, k.org), serverPair, b.pair(&lType, k.typ)}
	})
	b.add(restoreDroppedFamily, float64(r.Dropped), serverPair)
}

// counts adds one series per label set.
func (b *builder) counts(f *Family, n map[restoreSeries]int, pairs func(restoreSeries) []*dto.LabelPair) {
	for _, k := range slices.SortedFunc(maps.Keys(n), compareSeries) {
		b.add(f, float64(n[k]), pairs(k)...)
	}
}
