package server

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/vb365-exporter/vb365_exporter/config"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// Bounds of the organizations (the metric help says them): a service provider hosts dozens
// of organizations, each on a few repositories; these only stop a broken or hostile server.
const (
	MaxOrganizations = 1000
	// maxUsedRepositories bounds one organization's used repositories.
	maxUsedRepositories = 100
	// MaxLicensedUsers bounds a count of the licensed users (maxLicensedUserPages pages of
	// 10,000): a longer list is not counted at all rather than undercounted.
	MaxLicensedUsers     = maxLicensedUserPages * vb365.MaxPageLimit
	maxLicensedUserPages = 100
	// maxOrganizationsPass bounds one background read.
	maxOrganizationsPass = 10 * time.Minute
)

// OrganizationResult is one organization in a snapshot: the organization as listed, and
// what the last background read learnt of it.
type OrganizationResult struct {
	Org vb365.Organization
	// Licensing and Usage are nil until read (or when they could not be read yet).
	Licensing *vb365.OrganizationLicensing
	Usage     []vb365.OrganizationUsage
	// Users is nil until a count of the licensed users that listed the organization ended.
	Users *UserCounts
}

// UserCounts are an organization's licensed users by isBackedUp, as counted by the
// background read that ended at ReadAt.
type UserCounts struct {
	Protected, Unprotected int64
	ReadAt                 time.Time
}

type orgDetails struct {
	licensing *vb365.OrganizationLicensing
	usage     []vb365.OrganizationUsage
}

// orgState is what the organizations keep between reads: the list, cached like the other
// kinds, and what the background reads learnt.
type orgState struct {
	list cachedKind[[]vb365.Organization]
	// details holds an entry for every organization a background read tried, read or not.
	details map[vb365.ID]orgDetails
	users   map[vb365.ID]UserCounts
	// counted is when the last full read (licensing, usage, users) started; zero before.
	counted time.Time
	// err is why the last background read failed; nil when it did not.
	err error
	// done is closed when the background read in flight ends; nil when none runs.
	done chan struct{}
}

func organizationsRefresh(cfg *config.ServerConfig) time.Duration {
	return time.Duration(bound(cfg.OrganizationsRefresh, config.DefaultOrganizationsRefresh))
}

// readOrganizations reads the organization list (cached like the other kinds) and serves
// what the background reads learnt of each. It never reads the licensing, the usage or the
// licensed users itself: a warm scrape costs at most the list. It starts a background read
// when the last full one is organizations_refresh old, or one of just the organizations
// listed for the first time; a failed background read fails the collector, the last good
// values still shown.
func (srv *Server) readOrganizations(ctx context.Context, cfg *config.ServerConfig, snap *Snapshot, calls *outcomes) (conditions, error) {
	orgs, dropped, conds, err := readKindList(ctx, srv, cfg, &srv.install.orgs.list, calls, config.CollectOrganizations, MaxOrganizations, srv.client.Organizations)
	o := &srv.install.orgs
	if err != nil {
		// The background read's failure, if one stands, is not cleared by a list that failed.
		srv.mu.Lock()
		bgErr := o.err
		srv.mu.Unlock()
		if bgErr != nil {
			if conds == nil {
				conds = conditions{}
			}
			conds[orgBackgroundCondition(bgErr)] = nil // not read: as it was
		}
		return conds, err
	}
	snap.Organizations, snap.OrganizationsDropped = make([]OrganizationResult, len(orgs)), dropped
	var fresh []vb365.Organization
	srv.mu.Lock()
	for i, org := range orgs {
		r := &snap.Organizations[i]
		r.Org = org
		if d, ok := o.details[org.ID]; ok {
			r.Licensing, r.Usage = d.licensing, d.usage
		} else {
			fresh = append(fresh, org)
		}
		if u, ok := o.users[org.ID]; ok {
			r.Users = &u
		}
	}
	bgErr := o.err
	srv.mu.Unlock()
	srv.startOrganizationsRead(cfg, orgs, fresh)
	if bgErr != nil {
		err = fmt.Errorf("background read of the organizations failed; the last values read are shown: %w", bgErr)
		conds[orgBackgroundCondition(bgErr)] = []any{"msg", "background read of the organizations' licensing, usage and licensed users failed; the last values read are shown until a read succeeds",
			"collector", config.CollectOrganizations, "reason", vb365.Reason(bgErr), "err", bgErr}
	}
	return conds, err
}

func orgBackgroundCondition(err error) string {
	return "organizations: background: " + vb365.Reason(err)
}

// startOrganizationsRead starts a background read unless one runs or the server is closed:
// a full one (every organization and the licensed users) when the last is
// organizations_refresh old, else one of the fresh organizations' licensing and usage. It
// counts as a read of the server, so that Close waits for it after stopping it.
func (srv *Server) startOrganizationsRead(cfg *config.ServerConfig, orgs, fresh []vb365.Organization) {
	now := srv.now()
	srv.mu.Lock()
	o := &srv.install.orgs
	full := o.counted.IsZero() || now.Sub(o.counted) >= organizationsRefresh(cfg)
	if o.done != nil || srv.closed || len(orgs) == 0 || !full && len(fresh) == 0 {
		srv.mu.Unlock()
		return
	}
	if full {
		o.counted, fresh = now, orgs
	}
	done := make(chan struct{})
	o.done = done
	srv.begin()
	srv.mu.Unlock()
	go func() {
		defer srv.release()
		ctx, cancel := context.WithTimeout(srv.bg, maxOrganizationsPass)
		defer cancel()
		srv.readOrganizationDetails(ctx, cfg, orgs, fresh, full)
		srv.mu.Lock()
		o.done = nil
		srv.mu.Unlock()
		close(done)
	}()
}

// readOrganizationDetails is one background read: the licensing and usage of each of toRead
// (with at most half of max_concurrent_requests, so that scrapes keep the rest), and on a
// full read one streamed pass over the licensed users, counted per listed organization.
// What cannot be read keeps its last good value; what is kept is only of the listed
// organizations, so a server that renames them all cannot make it grow.
func (srv *Server) readOrganizationDetails(ctx context.Context, cfg *config.ServerConfig, listed, toRead []vb365.Organization, full bool) {
	got := make([]orgDetails, len(toRead))
	errs := make([][2]error, len(toRead))
	idx := make([]int, len(toRead))
	for i := range idx {
		idx[i] = i
	}
	each(ctx, max(1, cfg.MaxConcurrentRequests/2), idx, func(i int) {
		got[i].licensing, errs[i][0] = srv.client.OrganizationLicensing(ctx, toRead[i].ID)
		got[i].usage, _, errs[i][1] = srv.client.OrganizationUsage(ctx, toRead[i].ID, maxUsedRepositories)
	})
	var users map[vb365.ID]UserCounts
	var err error
	if full {
		users, err = srv.countUsers(ctx, listed)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	o := &srv.install.orgs
	details := make(map[vb365.ID]orgDetails, len(listed))
	for _, org := range listed {
		if d, ok := o.details[org.ID]; ok {
			details[org.ID] = d
		}
	}
	for i, org := range toRead {
		d, old := got[i], details[org.ID]
		if errs[i][0] != nil {
			d.licensing = old.licensing
		}
		if errs[i][1] != nil {
			d.usage = old.usage
		} else if d.usage == nil {
			d.usage = []vb365.OrganizationUsage{} // read: no repository, not "not read yet"
		}
		details[org.ID] = d
		err = cmp.Or(err, errs[i][0], errs[i][1])
	}
	o.details = details
	if users != nil {
		o.users = users
	}
	if full || err != nil {
		o.err = err
	}
}

// countUsers counts the licensed users of orgs in one streamed pass; users of other
// organizations are not counted, so the counts stay one pair per listed organization
// whatever the server sends.
func (srv *Server) countUsers(ctx context.Context, orgs []vb365.Organization) (map[vb365.ID]UserCounts, error) {
	counts := make(map[vb365.ID]*UserCounts, len(orgs))
	for _, org := range orgs {
		counts[org.ID] = &UserCounts{}
	}
	st, err := srv.client.CountLicensedUsers(ctx, maxLicensedUserPages, func(id vb365.ID, backedUp bool) {
		if c := counts[id]; c != nil && backedUp {
			c.Protected++
		} else if c != nil {
			c.Unprotected++
		}
	})
	switch {
	case err != nil:
	case st.Truncated:
		err = fmt.Errorf("licensedusers: more than %d users; not counted", MaxLicensedUsers)
	case st.Invalid > 0:
		// Like a list too long: a count that left users out is not served as the count.
		err = fmt.Errorf("licensedusers: %d users without isBackedUp; not counted", st.Invalid)
	}
	if err != nil {
		return nil, err
	}
	now := srv.now()
	out := make(map[vb365.ID]UserCounts, len(counts))
	for id, c := range counts {
		c.ReadAt = now
		out[id] = *c
	}
	return out, nil
}
