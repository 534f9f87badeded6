package landing

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/vb365-exporter/vb365_exporter/server"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

func bytesPtr(n int64) *int64 { return &n }

// tenantsSnapshot holds organizations (all users protected; some unprotected; one not counted
// nor read yet whose last backup is late) and restores of each result, one running, one from
// a hostile server.
func tenantsSnapshot() *server.Snapshot {
	return &server.Snapshot{Server: "prod", Start: start, Up: true,
		Organizations: []server.OrganizationResult{
			{Org: vb365.Organization{ID: "0a000000-0000-4000-8000-000000000001", Name: "contoso.onmicrosoft.com", Type: "Office365", LastBackup: now.Add(-2 * time.Hour)},
				Licensing: &vb365.OrganizationLicensing{Licensed: 262, New: 2},
				Usage: []vb365.OrganizationUsage{{RepositoryID: "r1", UsedBytes: bytesPtr(3 << 40)},
					{RepositoryID: "r2", UsedBytes: bytesPtr(12 << 30), ObjectStorageBytes: bytesPtr(1900 << 30)}},
				Users: &server.UserCounts{Protected: 262, ReadAt: now.Add(-10 * time.Minute)}},
			{Org: vb365.Organization{ID: "0a000000-0000-4000-8000-000000000003", Name: hostile, Type: "Hybrid", LastBackup: now.Add(-30 * time.Hour)}},
			{Org: vb365.Organization{ID: "0a000000-0000-4000-8000-000000000002", Name: "fabrikam.onmicrosoft.com", Type: "Office365"},
				Licensing: &vb365.OrganizationLicensing{Licensed: 137, New: 1}, Usage: []vb365.OrganizationUsage{{RepositoryID: "r1", UsedBytes: bytesPtr(2 << 30)}},
				Users: &server.UserCounts{Protected: 128, Unprotected: 9, ReadAt: now.Add(-10 * time.Minute)}},
		},
		Restores: &server.RestoreResult{Latest: []vb365.RestoreSession{
			{ID: "4e570004-0000-4000-8000-000000000004", Organization: "northwind.onmicrosoft.com", Type: "Teams", State: "Working", Result: "Success",
				InitiatedBy: `NORTHWIND\it.operator`, ClientHost: "nw-admin07", Reason: "Channel deleted", CreationTime: now.Add(-4 * time.Minute)},
			{ID: "4e570003-0000-4000-8000-000000000003", Organization: "contoso.onmicrosoft.com", Type: "SharePoint", State: "Stopped", Result: "Failed",
				InitiatedBy: `CONTOSO\backup-admin`, ClientHost: "vbo-console01", Reason: "Legal hold review", Details: "Access denied.",
				CreationTime: now.Add(-22 * time.Minute), EndTime: now.Add(-20 * time.Minute)},
			{ID: "4e570002-0000-4000-8000-000000000002", Organization: hostile, Type: "OneDrive", State: "Stopped", Result: "Warning",
				InitiatedBy: hostile, Scope: "Fabrikam self-service", CreationTime: now.Add(-35 * time.Minute), EndTime: now.Add(-31 * time.Minute)},
		}},
		Collectors: []server.CollectorResult{{Name: "organizations"}, {Name: "restores"}},
	}
}

// Organizations that need someone come first (unprotected users, then a late backup), each
// with its users as counted and when, licensing, storage and last backup; the last restores
// say who restored what with which result, a running one as Running.
func TestLandingPageShowsOrganizationsAndRestores(t *testing.T) {
	r := get(t, newHandler(Server{Name: "prod", Last: tenantsSnapshot()}), "/")
	orgs := tableRows(t, r.doc, "organizations")
	want := []string{
		"fabrikam.onmicrosoft.com Office365 · 0a000000-0000-4000-8000-000000000002|128|9 counted 10 min ago|137 · 1|2.0 GiB|not reported",
		hostile + " Hybrid · 0a000000-0000-4000-8000-000000000003|not counted yet|not read yet|not read yet|1d 6h ago 2026-02-28 06:00:00 +00:00",
		"contoso.onmicrosoft.com Office365 · 0a000000-0000-4000-8000-000000000001|262|0 counted 10 min ago|262 · 2|3.0 TiB 1.9 TiB in object storage|2h 00m ago 2026-03-01 10:00:00 +00:00",
	}
	if strings.Join(orgs, "\n") != strings.Join(want, "\n") {
		t.Errorf("organizations table:\n%s\nwant:\n%s", strings.Join(orgs, "\n"), strings.Join(want, "\n"))
	}
	// Marked as the alerts fire: unprotected users, a backup older than 26h.
	if n := len(findAll(r.doc, func(n *html.Node) bool { return hasClass(n, "exp-gone") })); n != 2 {
		t.Errorf("%d cells marked, want the unprotected users and the late backup", n)
	}
	restores := tableRows(t, r.doc, "restores")
	want = []string{
		"2026-03-01 11:56:00 +00:00|northwind.onmicrosoft.com Teams|NORTHWIND\\it.operator nw-admin07|Running|3m 18s|Channel deleted",
		"2026-03-01 11:38:00 +00:00|contoso.onmicrosoft.com SharePoint|CONTOSO\\backup-admin vbo-console01|Failed Access denied.|2m 00s|Legal hold review",
		"2026-03-01 11:25:00 +00:00|" + hostile + " OneDrive · Fabrikam self-service|" + hostile + "|Warning|4m 00s|",
	}
	if strings.Join(restores, "\n") != strings.Join(want, "\n") {
		t.Errorf("restores table:\n%s\nwant:\n%s", strings.Join(restores, "\n"), strings.Join(want, "\n"))
	}
	for _, tag := range []string{"script", "img"} {
		if n := len(findAll(r.doc, element(tag))); n != 0 {
			t.Errorf("an organization name or operator became %d <%s> elements", n, tag)
		}
	}
}

// The page is bounded: organizations beyond maxPageOrganizations and restores beyond
// maxPageRestores are counted, not shown; kinds not collected have no section.
func TestLandingPageTenantsBounded(t *testing.T) {
	snap := tenantsSnapshot()
	snap.Organizations, snap.OrganizationsDropped = nil, 7
	for i := range maxPageOrganizations + 50 {
		snap.Organizations = append(snap.Organizations, server.OrganizationResult{Org: vb365.Organization{
			ID: vb365.ID(fmt.Sprintf("0a000000-0000-4000-8000-%012d", i)), Name: fmt.Sprintf("tenant%04d", i)}})
	}
	latest := snap.Restores.Latest
	for range 10 {
		snap.Restores.Latest = append(snap.Restores.Latest, latest...)
	}
	r := get(t, newHandler(Server{Name: "prod", Last: snap}), "/")
	if n := len(tableRows(t, r.doc, "organizations")); n != maxPageOrganizations {
		t.Errorf("%d organizations shown, want %d", n, maxPageOrganizations)
	}
	if n := len(tableRows(t, r.doc, "restores")); n != maxPageRestores {
		t.Errorf("%d restores shown, want %d", n, maxPageRestores)
	}
	for _, want := range []string{"50 more organizations are not shown here", "7 more organizations are beyond the exporter's bound"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("page does not say %q", want)
		}
	}
	snap.Collectors = []server.CollectorResult{{Name: "jobs"}}
	r = get(t, newHandler(Server{Name: "prod", Last: snap}), "/")
	if strings.Contains(r.body, "<h3>Organizations") || strings.Contains(r.body, "<h3>Last restores") {
		t.Error("sections for kinds the server does not collect")
	}
	// Collected, nothing known yet: the sections say so.
	snap.Organizations, snap.Restores, snap.Collectors = nil, nil, []server.CollectorResult{{Name: "organizations"}, {Name: "restores"}}
	r = get(t, newHandler(Server{Name: "prod", Last: snap}), "/")
	for _, want := range []string{"The server has no organizations.", "No restore known"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("page does not say %q", want)
		}
	}
}
