package vb365

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"
)

// Organization is a Microsoft 365 organization added to VB365 (RestOrganizationComposed).
type Organization struct {
	ID         ID
	Name, Type string
	// LastBackup is lastBackuptime: zero when never backed up, or not sent (the server
	// sends it only with extendedView, and only while a proxy is online).
	LastBackup time.Time
}

// OrganizationLicensing is an organization's LicensingInformation.
type OrganizationLicensing struct {
	// Licensed is licensedUsers (licensed users and those beyond the license); New is
	// newUsers (users in the new-user state of a rental license, else 0).
	Licensed, New int64
}

// OrganizationUsage is an organization's use of one backup repository
// (RESTOrganizationStorageSpaceUsage), by where the bytes lie.
type OrganizationUsage struct {
	RepositoryID ID
	// UsedBytes is what the organization takes on the repository's own disk: usedSpaceBytes,
	// or on an object storage repository, which sends that null, its local cache
	// (localCacheUsedSpaceBytes). ObjectStorageBytes is objectStorageUsedSpaceBytes. Each is
	// nil when the server sends neither.
	UsedBytes, ObjectStorageBytes *int64
}

type wireOrganization struct {
	ID, Name, Type string
	LastBackuptime *APITime
}

type wireLicensing struct{ LicensedUsers, NewUsers int64 }

type wireUsage struct {
	RepositoryID                                                          string
	UsedSpaceBytes, LocalCacheUsedSpaceBytes, ObjectStorageUsedSpaceBytes *int64
	Links                                                                 struct {
		BackupRepository *struct{ Href string }
	} `json:"_links"`
}

type wireLicensedUser struct {
	OrganizationID string
	IsBackedUp     *bool
}

func (w *wireOrganization) organization(m masks) (Organization, error) {
	id, err := m.entryID(w.ID)
	return Organization{ID: id, Name: m.text(w.Name, MaxNameBytes), Type: m.text(w.Type, MaxEnumBytes),
		LastBackup: w.LastBackuptime.value()}, err
}

// usage names the repository by repositoryId (v8) or, in v6 and v7, by the last segment of
// its _links.backupRepository: the link is only read, never requested.
func (w *wireUsage) usage(m masks) (OrganizationUsage, error) {
	id := w.RepositoryID
	if l := w.Links.BackupRepository; id == "" && l != nil {
		if u, err := url.Parse(l.Href); err == nil {
			id = u.Path[strings.LastIndexByte(u.Path, '/')+1:]
		}
	}
	rid, err := m.entryID(id)
	if err != nil {
		return OrganizationUsage{}, errors.New("used repository has neither repositoryId nor a backupRepository link")
	}
	u := OrganizationUsage{RepositoryID: rid, UsedBytes: w.UsedSpaceBytes, ObjectStorageBytes: w.ObjectStorageUsedSpaceBytes}
	if u.UsedBytes == nil {
		u.UsedBytes = w.LocalCacheUsedSpaceBytes
	}
	return u, nil
}

// Organizations reads GET /vN/Organizations?extendedView=true (an array in v6 and v7, pages
// in v8): without extendedView, lastBackuptime is not sent.
func (c *Client) Organizations(ctx context.Context, keep int) ([]Organization, ListStats, error) {
	return listKindQuery(ctx, c, listQuery{endpoint: "organizations", path: "/Organizations", query: url.Values{"extendedView": {"true"}}},
		keep, (*wireOrganization).organization)
}

func orgPath(id ID, what string) string {
	return "/Organizations/" + url.PathEscape(string(id)) + "/" + what
}

// OrganizationLicensing reads GET /vN/Organizations/{id}/LicensingInformation.
func (c *Client) OrganizationLicensing(ctx context.Context, id ID) (*OrganizationLicensing, error) {
	var w wireLicensing
	if err := getOne(ctx, c, "licensinginformation", orgPath(id, "LicensingInformation"), &w); err != nil {
		return nil, err
	}
	return &OrganizationLicensing{Licensed: w.LicensedUsers, New: w.NewUsers}, nil
}

// OrganizationUsage reads GET /vN/Organizations/{id}/usedRepositories, paged in every
// version; at most keep entries, the rest counted in Dropped.
func (c *Client) OrganizationUsage(ctx context.Context, id ID, keep int) ([]OrganizationUsage, ListStats, error) {
	return listKindQuery(ctx, c, listQuery{endpoint: "usedrepositories", path: orgPath(id, "usedRepositories"), paged: true},
		keep, (*wireUsage).usage)
}

// CountLicensedUsers streams GET /vN/LicensedUsers in pages of MaxPageLimit to fn, one call
// per user with its organizationId and isBackedUp, holding no user: 100,000 users cost one
// page's decoding, not a list. A user without either field is Invalid. At most maxPages
// pages are read; Truncated says the list was longer.
func (c *Client) CountLicensedUsers(ctx context.Context, maxPages int, fn func(orgID ID, backedUp bool)) (ListStats, error) {
	lq := listQuery{endpoint: "licensedusers", path: "/LicensedUsers", paged: true, maxPages: maxPages}
	return listAll(ctx, c, lq, func(w *wireLicensedUser, m masks) error {
		if w.IsBackedUp == nil {
			return errors.New("licensed user without isBackedUp")
		}
		org := m.id(answerID(w.OrganizationID))
		if org == "" {
			return nil // organizationId is nullable: a user of no organization, counted in none
		}
		fn(org, *w.IsBackedUp)
		return nil
	})
}
