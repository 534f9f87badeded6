package main

import (
	"bytes"
	"fmt"
	"io"
	"time"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

// The tenants scenario of issue 21: 50 organizations of 2,000 licensed users (100,000) and
// 10,000 restore sessions in history, v8, 5 ms latency. The users are counted in the
// background, at most every organizations_refresh; a scrape never lists them.
const (
	tenantOrgs     = 50
	tenantUsers    = 2000
	tenantRestores = 10000
	tenantLatency  = 5 * time.Millisecond
)

// runTenants measures the background users pass, then warm scrapes: their LicensedUsers and
// restore requests, and the exporter's peak RSS over the whole run.
func runTenants(o options, w io.Writer, t *table) error {
	users, restores := tenantUsers/o.scale, tenantRestores/o.scale
	s := simulator.New(simulator.Options{Username: benchUser, Password: benchPassword})
	s.GenerateTenants(tenantOrgs, users, restores)
	return withV8Exporter(o, s, tenantLatency, func(sm *sim, e *exporter) error { return measureTenants(o, w, t, s, sm, e, users, restores) })
}

func measureTenants(o options, w io.Writer, t *table, s *simulator.Simulator, sm *sim, e *exporter, users, restores int) error {
	// The first scrape starts the background pass; the scrapes after it serve the counts
	// once it has finished.
	start, cold := time.Now(), s.Stats().Total
	var body []byte
	var err error
	for {
		if body, err = e.body(); err != nil {
			return err
		}
		if bytes.Contains(body, []byte("\nvb365_organization_users_last_read_timestamp_seconds{")) {
			break
		}
		if time.Since(start) > 2*time.Minute {
			return fmt.Errorf("tenants: no users counted after 2 minutes\n%s", e.logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	pass := time.Since(start)
	cold = s.Stats().Total - cold
	userPages := s.Stats().ByEndpoint[simulator.EndpointLicensedUsers]
	m, err := measure(e, sm, o.scrapes, 0)
	if err != nil {
		return fmt.Errorf("tenants: %w\n%s", err, e.logs.String())
	}
	// The target is per scrape: the most restore requests any measured scrape made.
	var most int64
	for _, one := range m.perScrape {
		most = max(most, one[simulator.EndpointRestoreSessions]+one[simulator.EndpointRestoreSession])
	}
	series := 0
	for line := range bytes.Lines(body) {
		if bytes.HasPrefix(line, []byte("vb365_organization_")) || bytes.HasPrefix(line, []byte("vb365_restore_")) {
			series++
		}
	}
	name := fmt.Sprintf("tenants, %d orgs × %d users, %d restores", tenantOrgs, users, restores)
	fmt.Fprintf(w, "%-40s first pass %d API requests (%d LicensedUsers pages) in %s; warm median %8s  p95 %8s  API requests/scrape %6.1f (%s)  CPU/scrape %6.3fs  peak RSS %6.1f MiB  %d series\n",
		name, cold, userPages, round(pass), round(percentile(m.walls, 50)), round(percentile(m.walls, 95)), medianInt(m.requests), endpoints(m, len(m.walls)),
		m.cpuPerScrape, mib(m.peakRSS), series)
	lu := m.byEndpoint[simulator.EndpointLicensedUsers]
	t.row(name+": LicensedUsers requests in warm scrapes", fmt.Sprintf("%d in %d scrapes", lu, len(m.walls)), "", 0, "0", lu == 0)
	t.row(name+": restore requests, most in a warm scrape", fmt.Sprint(most), "", 0, "<= 5", most <= 5)
	t.row(name+": background users pass, LicensedUsers pages", fmt.Sprint(userPages), "", 0, "<= 11", userPages <= 11)
	t.row(name+": exporter peak RSS", fmt.Sprintf("%.1f MiB", mib(m.peakRSS)), "", 0, "<= 150 MiB", mib(m.peakRSS) <= 150)
	return nil
}
