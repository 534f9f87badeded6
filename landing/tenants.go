package landing

import (
	"cmp"
	"slices"
	"time"

	"github.com/vb365-exporter/vb365_exporter/server"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// orgView is one organization on the page: its users as last counted, licensing, storage and
// last backup. Every string in it was scrubbed and cut by the reader.
type orgView struct {
	ID                     vb365.ID
	Name, Type             string
	Counted                bool // the licensed users have been counted
	Protected, Unprotected int64
	CountedAgo             string
	Licensing              *vb365.OrganizationLicensing
	Storage, ObjectStorage string
	LastBackup, BackupAgo  string
	BackupLate             bool
}

// restoreView is one restore on the page: who restored what, with what result.
type restoreView struct {
	Started, Organization, Type, InitiatedBy, ClientHost, Scope string
	Result, ResultClass, Duration, Reason, Details              string
}

// What the page shows at most: the metrics have every organization; the restores are the
// server's newest.
const (
	maxPageOrganizations = 100
	maxPageRestores      = 20
	// orgBackupLate is VB365OrganizationNotBackedUp's default window.
	orgBackupLate = 26 * time.Hour
)

// orgViews lists the organizations that need someone first (unprotected users, then a late
// backup), then by name, at most maxPageOrganizations; hidden counts the rest.
func orgViews(list []server.OrganizationResult, now time.Time) (views []orgView, hidden int) {
	for i := range list {
		r := &list[i]
		v := orgView{ID: r.Org.ID, Name: r.Org.Name, Type: r.Org.Type, Licensing: r.Licensing}
		if u := r.Users; u != nil {
			v.Counted, v.Protected, v.Unprotected, v.CountedAgo = true, u.Protected, u.Unprotected, ago(now.Sub(u.ReadAt))
		}
		if r.Usage != nil {
			var used, object int64
			for _, u := range r.Usage {
				used += ptrValue(u.UsedBytes)
				object += ptrValue(u.ObjectStorageBytes)
			}
			v.Storage = bytesText(used)
			if object > 0 {
				v.ObjectStorage = bytesText(object)
			}
		}
		if t := r.Org.LastBackup; !t.IsZero() {
			v.LastBackup, v.BackupAgo, v.BackupLate = t.Format(sessionTime), roughDuration(now.Sub(t))+" ago", now.Sub(t) > orgBackupLate
		}
		views = append(views, v)
	}
	rank := func(v orgView) int {
		switch {
		case v.Unprotected > 0:
			return 0
		case v.BackupLate:
			return 1
		}
		return 2
	}
	slices.SortStableFunc(views, func(a, b orgView) int { return cmp.Or(rank(a)-rank(b), cmp.Compare(a.Name, b.Name)) })
	if len(views) > maxPageOrganizations {
		return views[:maxPageOrganizations], len(views) - maxPageOrganizations
	}
	return views, 0
}

func ptrValue(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// restoreViews are the newest restores the server knows, newest first as the reader keeps
// them, a running one's duration as of the scrape at; a running one says Running, whatever
// result the API sends meanwhile.
func restoreViews(r *server.RestoreResult, at time.Time) []restoreView {
	if r == nil {
		return nil
	}
	var views []restoreView
	for _, s := range r.Latest[:min(len(r.Latest), maxPageRestores)] {
		v := restoreView{Started: s.CreationTime.Format(sessionTime), Organization: s.Organization, Type: s.Type,
			InitiatedBy: s.InitiatedBy, ClientHost: s.ClientHost, Scope: s.Scope, Result: cmp.Or(s.Result, "unknown"),
			Duration: sessionDuration(s.Duration(at)), Reason: s.Reason, Details: s.Details}
		if !s.Ended() {
			v.Result = "Running"
		}
		v.ResultClass = statusClass(v.Result)
		views = append(views, v)
	}
	return views
}
