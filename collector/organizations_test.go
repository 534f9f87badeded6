package collector

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vb365-exporter/vb365_exporter/server"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// The organizations' series: unsorted and repeated IDs, a repository used twice, object
// storage without usedSpaceBytes, an organization not yet read in the background; the
// users' read time once per server; the output passes promtool.
func TestOrganizationSeries(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	snap := &server.Snapshot{Server: "sp", Up: true, OrganizationsDropped: 2, Organizations: goldenOrganizations(now),
		Collectors: []server.CollectorResult{{Name: "organizations", Err: errors.New("background read failed")}}}
	got := encodeText(t, Build([]*server.Snapshot{snap}, now, nil))
	for _, want := range []string{
		`vb365_organization_info{name="a �",organization_id="0e9a0001-0000-4000-8000-000000000001",server="sp",type="Hybrid"} 1`,
		`vb365_organization_info{name="fabrikam.onmicrosoft.com",organization_id="0e9a0002-0000-4000-8000-000000000002",server="sp",type="Office365"} 1`,
		`vb365_organization_last_backup_timestamp_seconds{organization_id="0e9a0002-0000-4000-8000-000000000002",server="sp"} 1.7723628e+09`,
		`vb365_organization_licensed_users{organization_id="0e9a0002-0000-4000-8000-000000000002",server="sp"} 137`,
		`vb365_organization_new_users{organization_id="0e9a0002-0000-4000-8000-000000000002",server="sp"} 1`,
		`vb365_organization_users{organization_id="0e9a0002-0000-4000-8000-000000000002",server="sp",state="protected"} 128`,
		`vb365_organization_users{organization_id="0e9a0002-0000-4000-8000-000000000002",server="sp",state="unprotected"} 9`,
		"vb365_organization_used_bytes{organization_id=\"0e9a0002-0000-4000-8000-000000000002\",repository_id=\"2e9a0001-0000-4000-8000-000000000001\",server=\"sp\"} 3700\n" +
			`vb365_organization_used_bytes{organization_id="0e9a0002-0000-4000-8000-000000000002",repository_id="2e9a0003-0000-4000-8000-000000000003",server="sp"} 12`,
		`vb365_organization_object_storage_used_bytes{organization_id="0e9a0002-0000-4000-8000-000000000002",repository_id="2e9a0003-0000-4000-8000-000000000003",server="sp"} 1900`,
		`vb365_organization_users_last_read_timestamp_seconds{server="sp"} 1.7723652e+09`,
		`vb365_organizations_dropped{server="sp"} 2`,
		`vb365_collector_success{collector="organizations",server="sp"} 0`,
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("missing %s", want)
		}
	}
	if strings.Count(got, "vb365_organization_info{") != 2 || strings.Count(got, "vb365_organization_licensed_users{") != 1 ||
		strings.Count(got, "vb365_organization_object_storage_used_bytes{") != 1 {
		t.Errorf("each organization once, values only where read:\n%s", got)
	}
	if empty := encodeText(t, Build([]*server.Snapshot{{Server: "sp", Up: true}}, now, nil)); strings.Contains(empty, "organization") {
		t.Errorf("organizations not read: no series\n%s", empty)
	}

	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool not found in CI")
		}
		t.Skip("promtool not installed")
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(got)
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

// goldenOrganizations are a service provider's organizations as a scrape holds them: unsorted
// and repeated IDs, a repository used twice, object storage without usedSpaceBytes, and an
// organization the background read has not reached yet.
func goldenOrganizations(now time.Time) []server.OrganizationResult {
	n := func(v int64) *int64 { return &v }
	read := now.Add(-20 * time.Minute)
	return []server.OrganizationResult{
		{Org: vb365.Organization{ID: "0e9a0002-0000-4000-8000-000000000002", Name: "fabrikam.onmicrosoft.com", Type: "Office365", LastBackup: now.Add(-time.Hour)},
			Licensing: &vb365.OrganizationLicensing{Licensed: 137, New: 1},
			Usage: []vb365.OrganizationUsage{{RepositoryID: "2e9a0003-0000-4000-8000-000000000003", UsedBytes: n(12), ObjectStorageBytes: n(1900)},
				{RepositoryID: "2e9a0001-0000-4000-8000-000000000001", UsedBytes: n(3700)}},
			Users: &server.UserCounts{Protected: 128, Unprotected: 9, ReadAt: read}},
		{Org: vb365.Organization{ID: "0e9a0001-0000-4000-8000-000000000001", Name: "a \xff", Type: "Hybrid"}},
		{Org: vb365.Organization{ID: "0e9a0002-0000-4000-8000-000000000002", Name: "fabrikam.onmicrosoft.com"}},
	}
}
