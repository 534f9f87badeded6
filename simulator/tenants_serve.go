package simulator

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Endpoint names of the organizations and restores, for Stats and Fault.Endpoint.
const (
	EndpointOrganizations        = "organizations"        // /vN/Organizations[/{id}]
	EndpointLicensingInformation = "licensinginformation" // /vN/Organizations/{id}/LicensingInformation
	EndpointUsedRepositories     = "usedrepositories"     // /vN/Organizations/{id}/usedRepositories
	EndpointLicensedUsers        = "licensedusers"        // /vN/LicensedUsers
	EndpointRestoreSessions      = "restoresessions"      // /vN/RestoreSessions
	EndpointRestoreSession       = "restoresession"       // /vN/RestoreSessions/{id}
)

var tenantEndpoints = []string{EndpointOrganizations, EndpointLicensingInformation, EndpointUsedRepositories,
	EndpointLicensedUsers, EndpointRestoreSessions, EndpointRestoreSession}

func (s *Simulator) serveTenants(w http.ResponseWriter, r *http.Request, rt route, now time.Time) {
	switch rt.endpoint {
	case EndpointOrganizations:
		s.serveOrganizations(w, r, rt)
	case EndpointLicensingInformation:
		serveFrom(s, w, rt, "organizationId", "Organization", s.ten.orgs, func(o *Organization) object {
			return object{{"licensedUsers", o.LicensedUsers}, {"newUsers", o.NewUsers}}
		})
	case EndpointUsedRepositories:
		ls, ok := listParams(w, rt.ver, "/"+rt.ver+"/Organizations/"+normID(rt.id)+"/usedRepositories", r.URL.Query(), false)
		if !ok {
			return
		}
		if o, ok := findOne(s, w, rt, "organizationId", "Organization", func(id string) (*Organization, bool) { o, ok := s.ten.orgs[id]; return o, ok }); ok {
			s.writeList(w, ls, len(o.Repositories), func(i int) object { return usedRepositoryJSON(rt.ver, o, &o.Repositories[i]) })
		}
	case EndpointLicensedUsers:
		s.serveLicensedUsers(w, r, rt)
	case EndpointRestoreSessions:
		s.serveRestoreSessions(w, r, rt, now)
	case EndpointRestoreSession:
		s.serveOne(w, rt, "restoreSessionId", "Restore session", func(id string) ([]byte, bool) {
			rs, ok := s.restore(id, now)
			if !ok {
				return nil, false
			}
			return encodeJSON(restoreJSON(rt.ver, rs)), true
		})
	}
}

func (s *Simulator) serveOrganizations(w http.ResponseWriter, r *http.Request, rt route) {
	q := r.URL.Query()
	// extendedView is required with default true in v6's document, optional and false after.
	extended, ok := boolParam(w, rt.ver, q, "extendedView", rt.ver == "v6")
	if !ok {
		return
	}
	if rt.byID {
		serveFrom(s, w, rt, "organizationId", "Organization", s.ten.orgs, func(o *Organization) object { return organizationJSON(rt.ver, o, extended) })
		return
	}
	if rt.ver == "v8" && !uuidParams(w, rt.ver, q, "msid") {
		return
	}
	ls, ok := listParams(w, rt.ver, "/"+rt.ver+"/Organizations", q, rt.ver != "v8")
	if !ok {
		return
	}
	msid, backedUp := normID(q.Get("msid")), q.Get("backedUpOrganizationId")
	s.mu.Lock()
	list := sortedByID(s.ten.orgs, func(_ string, o *Organization) bool {
		return rt.ver != "v8" || (msid == "" || o.MSID == msid) && (backedUp == "" || strings.EqualFold(o.backedUpID(), backedUp))
	})
	s.mu.Unlock()
	s.writeList(w, ls, len(list), func(i int) object { return organizationJSON(rt.ver, list[i], extended) })
}

func (o *Organization) backedUpID() string { return orString(o.BackedUpOrganizationID, o.ID) }

// serveLicensedUsers lists the users of the organizations in ID order, made as they are
// written: a page of 10,000 of 100,000 users holds one chunk at a time.
func (s *Simulator) serveLicensedUsers(w http.ResponseWriter, r *http.Request, rt route) {
	q := r.URL.Query()
	if !uuidParams(w, rt.ver, q, "organizationId") {
		return
	}
	ls, ok := listParams(w, rt.ver, "/"+rt.ver+"/LicensedUsers", q, false)
	if !ok {
		return
	}
	org, backedUp := normID(q.Get("organizationId")), ""
	if rt.ver == "v8" {
		backedUp = q.Get("backedUpOrganizationId")
	}
	var name *regexp.Regexp
	if v := q.Get("name"); v != "" {
		// The documents allow * and ? as wildcards; without them the name must match whole.
		pat := strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(v))
		name = regexp.MustCompile("(?i)^" + pat + "$")
	}
	s.mu.Lock()
	orgs := sortedByID(s.ten.orgs, func(id string, o *Organization) bool {
		return (org == "" || id == org) && (backedUp == "" || strings.EqualFold(o.backedUpID(), backedUp))
	})
	// starts[i] is the list position of orgs[i]'s first user.
	starts := make([]int, len(orgs)+1)
	for i, o := range orgs {
		starts[i+1] = starts[i] + o.ProtectedUsers + o.UnprotectedUsers
	}
	s.mu.Unlock()
	n, picked := starts[len(orgs)], []int(nil)
	if name != nil {
		for x := range n {
			i := sort.SearchInts(starts, x+1) - 1
			if name.MatchString(orgs[i].user(x - starts[i]).name) {
				picked = append(picked, x)
			}
		}
		n = len(picked)
	}
	s.writeList(w, ls, n, func(x int) object {
		if picked != nil {
			x = picked[x]
		}
		i := sort.SearchInts(starts, x+1) - 1
		return s.licensedUserJSON(rt.ver, orgs[i], x-starts[i])
	})
}

// restoreFilter is RestoreSessions' filters and order as the version documents them.
type restoreFilter struct {
	startFrom, startTo, endFrom, endTo time.Time
	byEnd, asc                         bool
}

// keep applies the bounds inclusively: a client that asks from the newest creation time it
// has seen gets that session again and must not count it twice.
func (f *restoreFilter) keep(created, ended time.Time) bool {
	in := func(t, from, to time.Time) bool {
		return (from.IsZero() || !t.Before(from)) && (to.IsZero() || !t.After(to))
	}
	hasEnd := !f.endFrom.IsZero() || !f.endTo.IsZero()
	return in(created, f.startFrom, f.startTo) && (!hasEnd || !ended.IsZero() && in(ended, f.endFrom, f.endTo))
}

// restoreFilters reads the version's filters; parameters a version does not know are
// ignored, as ASP.NET does. v8 answers newest creation first unless told otherwise, v6 and
// v7 oldest first.
func restoreFilters(w http.ResponseWriter, ver string, q url.Values) (restoreFilter, bool) {
	f := restoreFilter{asc: ver != "v8"}
	bad := func(name, v string) (restoreFilter, bool) {
		writeError(w, ver, http.StatusBadRequest, codeValidation, fmt.Sprintf("The value '%s' is not valid for %s.", v, name))
		return f, false
	}
	bounds := map[string]*time.Time{"startTimeFrom": &f.startFrom, "startTimeTo": &f.startTo}
	if ver == "v8" {
		bounds["endTimeFrom"], bounds["endTimeTo"] = &f.endFrom, &f.endTo
		var ok bool
		if f.asc, ok = boolParam(w, ver, q, "orderAsc", false); !ok {
			return f, false
		}
		if v := q.Get("orderBy"); v != "" {
			by := enumValue(v, []string{"CreationTime", "EndTime"})
			if by == "" {
				return bad("orderBy", v)
			}
			f.byEnd = by == "EndTime"
		}
	}
	for name, dst := range bounds {
		if v := q.Get(name); v != "" {
			t, ok := parseTime(v)
			if !ok {
				return bad(name, v)
			}
			*dst = t
		}
	}
	return f, true
}

// restoreRef is a listed restore session: an explicit one, or generated index k.
type restoreRef struct {
	at time.Time // the order's key
	rs *RestoreSession
	k  int
}

func (s *Simulator) serveRestoreSessions(w http.ResponseWriter, r *http.Request, rt route, now time.Time) {
	q := r.URL.Query()
	f, ok := restoreFilters(w, rt.ver, q)
	if !ok {
		return
	}
	ls, ok := listParams(w, rt.ver, "/"+rt.ver+"/RestoreSessions", q, false)
	if !ok {
		return
	}
	key := func(created, ended time.Time) time.Time {
		if f.byEnd {
			return ended
		}
		return created
	}
	s.mu.Lock()
	g := s.ten.gen
	var refs []restoreRef
	changed := map[int]bool{} // generated sessions changed by UpdateRestoreSession
	for id, rs := range s.ten.restores {
		if k, ok := g.index(id); ok {
			changed[k] = true
		}
		rs.advance(now)
		if f.keep(rs.CreationTime, rs.EndTime) {
			refs = append(refs, restoreRef{at: key(rs.CreationTime, rs.EndTime), rs: rs})
		}
	}
	if g != nil {
		// Creation times grow with the index: the start bounds are a range, found by search.
		from, to := 0, g.n
		if !f.startFrom.IsZero() {
			from = g.firstCreated(f.startFrom)
		}
		if !f.startTo.IsZero() {
			to = g.firstCreated(f.startTo.Add(time.Nanosecond))
		}
		for k := from; k < to; k++ {
			if c, e := g.times(k, now); !changed[k] && f.keep(c, e) {
				refs = append(refs, restoreRef{at: key(c, e), k: k})
			}
		}
	}
	s.mu.Unlock()
	sort.Slice(refs, func(i, j int) bool {
		a, b := refs[i], refs[j]
		if !f.asc {
			a, b = b, a
		}
		switch {
		case !a.at.Equal(b.at):
			return a.at.Before(b.at)
		case a.rs != nil && b.rs != nil:
			return a.rs.ID < b.rs.ID
		case a.rs != nil || b.rs != nil:
			return a.rs != nil
		}
		return a.k < b.k
	})
	s.writeList(w, ls, len(refs), func(i int) object {
		if refs[i].rs != nil {
			return restoreJSON(rt.ver, refs[i].rs)
		}
		rs := g.restore(refs[i].k)
		rs.advance(now)
		return restoreJSON(rt.ver, &rs)
	})
}

// The encoders follow each version's schema field for field (the tenants subsets of
// Veeam's documents); what a version lacks it does not get.

func organizationJSON(ver string, o *Organization, extended bool) object {
	typ := orString(o.Type, OrgOffice365)
	j := object{}
	online := typ != OrgOnPremises
	if online {
		j = append(j, field{"isTeamsOnline", true}, field{"isTeamsChatsOnline", false}, field{"isExchangeOnline", true}, field{"isSharePointOnline", true})
	}
	j = append(j, field{"type", typ}, field{"region", orString(o.Region, "Worldwide")}, field{"id", o.ID}, field{"name", o.Name}, field{"officeName", o.officeName()})
	if ver != "v6" {
		j = append(j, field{"description", nullable(o.Description)})
	}
	if extended {
		j = append(j, field{"isBackedup", !o.LastBackup.IsZero()}, field{"firstBackuptime", nullableTime(o.FirstBackup)}, field{"lastBackuptime", nullableTime(o.LastBackup)})
	}
	if ver == "v8" {
		j = append(j, field{"msid", nullable(o.MSID)}, field{"backedUpOrganizationId", o.backedUpID()})
	}
	base := "/" + ver + "/Organizations/" + o.ID
	j = append(j, field{"_links", links("self", base, "licensingInformation", base+"/LicensingInformation", "usedRepositories", base+"/usedRepositories")})
	if typ != OrgOffice365 {
		j = append(j, field{"isSharepoint", true}, field{"isExchange", true})
	}
	return j
}

func usedRepositoryJSON(ver string, o *Organization, u *UsedRepository) object {
	j := object{}
	if ver == "v8" {
		j = append(j, field{"repositoryId", u.RepositoryID})
	}
	if u.ObjectStorage {
		j = append(j, field{"usedSpaceBytes", nil}, field{"localCacheUsedSpaceBytes", u.UsedBytes}, field{"objectStorageUsedSpaceBytes", u.ObjectStorageBytes})
	} else {
		j = append(j, field{"usedSpaceBytes", u.UsedBytes}, field{"localCacheUsedSpaceBytes", nil}, field{"objectStorageUsedSpaceBytes", nil})
	}
	j = append(j, field{"isAvailable", !u.Unavailable}, field{"details", u.Details})
	if ver == "v8" {
		var n any
		if u.ProtectedObjects != 0 {
			n = u.ProtectedObjects
		}
		j = append(j, field{"protectedObjectsCount", n})
	}
	return append(j, field{"_links", links("backupRepository", "/"+ver+"/BackupRepositories/"+u.RepositoryID, "organization", "/"+ver+"/Organizations/"+o.ID)})
}

// licensedUserJSON encodes user j of o; lastBackupDate, a date-time the documents do not let
// be null, is sent for a user never backed up as the end time of a running session is.
func (s *Simulator) licensedUserJSON(ver string, o *Organization, j int) object {
	u := o.user(j)
	var last time.Time
	if u.backedUp {
		last = o.LastBackup
	}
	obj := s.unsetTime(append(make(object, 0, 9), field{"id", u.id}, field{"name", u.name}, field{"isBackedUp", u.backedUp}), "lastBackupDate", last)
	return append(obj, field{"licenseState", u.state}, field{"organizationId", o.ID}, field{"backedUpOrganizationId", o.backedUpID()},
		field{"organizationName", o.Name}, field{"_links", links("organization", "/"+ver+"/Organizations/"+o.ID)})
}

func restoreJSON(ver string, rs *RestoreSession) object {
	j := object{{"id", rs.ID}, {"name", rs.Name}, {"organization", rs.Organization}, {"type", rs.Type},
		{"creationTime", formatTime(rs.CreationTime)}, {"endTime", nullableTime(rs.EndTime)}, {"state", rs.state()},
		{"result", orString(rs.Result, StatusSuccess)}, {"initiatedBy", rs.InitiatedBy}, {"details", rs.Details},
		{"scopeName", rs.ScopeName}, {"clientHost", rs.ClientHost}, {"reason", rs.Reason}}
	if ver == "v8" {
		etag := int64(1)
		if !rs.EndTime.IsZero() {
			etag = 2
		}
		j = append(j, field{"eTag", etag})
	}
	return append(j, field{"_links", links("self", "/"+ver+"/RestoreSessions/"+rs.ID)})
}
