package simulator

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Organization types and regions (RestOrganizationType, RestOrganizationRegion), restore
// session types (the API's codes for Exchange, OneDrive, SharePoint, Teams) and states.
const (
	OrgOffice365      = "Office365"
	OrgOnPremises     = "OnPremises"
	OrgHybrid         = "Hybrid"
	RestoreExchange   = "Vex"
	RestoreOneDrive   = "Veod"
	RestoreSharePoint = "Vesp"
	RestoreTeams      = "Vet"
	RestoreWorking    = "Working"
	RestoreStopped    = "Stopped"
)

var (
	orgTypes       = []string{OrgOffice365, OrgOnPremises, OrgHybrid}
	orgRegions     = []string{"Worldwide", "Germany", "China", "USDefence", "USGovernment"}
	restoreTypes   = []string{RestoreExchange, RestoreOneDrive, RestoreSharePoint, RestoreTeams}
	restoreStates  = []string{RestoreWorking, RestoreStopped}
	restoreResults = []string{StatusSuccess, StatusWarning, StatusFailed}
)

// Organization is a Microsoft 365 organization added to VB365 (RestOrganizationComposed) with
// what its other endpoints tell: LicensingInformation, usedRepositories and its licensed users.
type Organization struct {
	ID          string
	Name        string // "contoso.onmicrosoft.com"; restore sessions name the organization by it
	OfficeName  string // defaults to Name up to its first dot
	Description string // v7+; empty is sent as null
	Type        string // Office365 (default), OnPremises, Hybrid
	Region      string // Worldwide (default)
	MSID        string // v8; a UUID, empty is sent as null
	// BackedUpOrganizationID is v8's field and filter (of Organizations and LicensedUsers);
	// the licensed users of every version carry it. Defaults to ID.
	BackedUpOrganizationID string
	// FirstBackup and LastBackup (zero: never) and isBackedup are sent only with extendedView.
	FirstBackup, LastBackup time.Time
	// LicensedUsers and NewUsers are LicensingInformation's, sent as given.
	LicensedUsers, NewUsers int32
	// Licensed users are made when served: the first ProtectedUsers are backed up (the first
	// NewUsers of them in licenseState New, the others Licensed), the UnprotectedUsers after
	// them are not (isBackedUp false). 100,000 users cost nothing until listed.
	ProtectedUsers, UnprotectedUsers int
	Repositories                     []UsedRepository

	seq int // numbers its users' IDs
}

// UsedRepository is an organization's use of a backup repository (RESTOrganizationStorageSpaceUsage).
type UsedRepository struct {
	RepositoryID string // v8 sends it; v6/v7 only link to the repository
	UsedBytes    int64  // usedSpaceBytes; on object storage the local cache's
	// ObjectStorage sends usedSpaceBytes null, UsedBytes as localCacheUsedSpaceBytes and
	// ObjectStorageBytes as objectStorageUsedSpaceBytes, as object storage repositories do.
	ObjectStorage      bool
	ObjectStorageBytes int64
	Unavailable        bool
	Details            string
	ProtectedObjects   int64 // v8; zero is sent as null
}

func (o *Organization) validate() error {
	if !isUUID(o.ID) {
		return fmt.Errorf("organization id %q is not a UUID", o.ID)
	}
	if o.MSID != "" && !isUUID(o.MSID) {
		return fmt.Errorf("organization %s: msid %q is not a UUID", o.ID, o.MSID)
	}
	if o.ProtectedUsers < 0 || o.UnprotectedUsers < 0 || o.NewUsers < 0 || o.LicensedUsers < 0 {
		return fmt.Errorf("organization %s: negative user counts", o.ID)
	}
	for _, u := range o.Repositories {
		if !isUUID(u.RepositoryID) {
			return fmt.Errorf("organization %s: repository id %q is not a UUID", o.ID, u.RepositoryID)
		}
	}
	return errors.Join(optional(o.Type, oneOf("organization type", o.Type, orgTypes)), optional(o.Region, oneOf("region", o.Region, orgRegions)))
}

// RestoreSession is a restore (RESTRestoreSession): who restored which organization's data,
// of what type, when and with what result.
type RestoreSession struct {
	ID           string
	Name         string
	Organization string // the organization's name: a restore session carries no organization ID
	Type         string // Vex, Veod, Vesp or Vet
	CreationTime time.Time
	EndTime      time.Time // zero (sent as null) while running
	// State is Working while EndTime is zero and Stopped after, unless set.
	State string
	// Result is required by the documents, so running sessions send it too: Success unless set.
	Result      string
	InitiatedBy string
	Details     string
	ScopeName   string
	ClientHost  string
	Reason      string
	// A running session with FinishAt ends then, with FinalResult (default Success).
	FinishAt    time.Time
	FinalResult string
}

func (rs *RestoreSession) validate() error {
	if !isUUID(rs.ID) {
		return fmt.Errorf("restore session id %q is not a UUID", rs.ID)
	}
	if rs.CreationTime.IsZero() {
		return fmt.Errorf("restore session %s has no creation time", rs.ID)
	}
	return errors.Join(oneOf("restore type", rs.Type, restoreTypes), optional(rs.State, oneOf("state", rs.State, restoreStates)),
		optional(rs.Result, oneOf("result", rs.Result, restoreResults)), optional(rs.FinalResult, oneOf("final result", rs.FinalResult, restoreResults)))
}

// advance ends a planned running session once the clock passes FinishAt.
func (rs *RestoreSession) advance(now time.Time) {
	if rs.EndTime.IsZero() && !rs.FinishAt.IsZero() && !now.Before(rs.FinishAt) {
		rs.EndTime, rs.Result = rs.FinishAt, orString(rs.FinalResult, StatusSuccess)
		if rs.State == RestoreWorking {
			rs.State = RestoreStopped
		}
	}
}

func (rs *RestoreSession) state() string {
	if rs.State != "" {
		return rs.State
	}
	if rs.EndTime.IsZero() {
		return RestoreWorking
	}
	return RestoreStopped
}

// tenants is the simulator's organizations and restores; guarded by Simulator.mu.
type tenants struct {
	orgs map[string]*Organization
	// restores holds explicit sessions and generated ones changed by UpdateRestoreSession.
	restores map[string]*RestoreSession
	seq      int
	gen      *genRestores
}

func newTenants() tenants {
	return tenants{orgs: map[string]*Organization{}, restores: map[string]*RestoreSession{}}
}

// AddOrganization adds or replaces an organization (its licensed users and used
// repositories with it).
func (s *Simulator) AddOrganization(o Organization) error {
	if err := o.validate(); err != nil {
		return err
	}
	o.ID, o.MSID = normID(o.ID), normID(o.MSID)
	o.Repositories = append([]UsedRepository(nil), o.Repositories...)
	for i := range o.Repositories {
		o.Repositories[i].RepositoryID = normID(o.Repositories[i].RepositoryID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.ten.orgs[o.ID]; ok {
		o.seq = old.seq // its users keep their IDs
	} else {
		s.ten.seq++
		o.seq = s.ten.seq
	}
	s.ten.orgs[o.ID] = &o
	return nil
}

// AddRestoreSession adds or replaces a restore session.
func (s *Simulator) AddRestoreSession(rs RestoreSession) error {
	return s.add(rs.validate, []*string{&rs.ID}, func() { s.ten.restores[rs.ID] = &rs })
}

// UpdateRestoreSession changes a restore session under the simulator's lock; the callback
// sees it as it is now. Generated sessions can be changed too.
func (s *Simulator) UpdateRestoreSession(id string, fn func(*RestoreSession)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.restore(normID(id), s.opts.Now())
	if !ok {
		return fmt.Errorf("restore session %s not found", id)
	}
	next := *cur
	fn(&next)
	if err := next.validate(); err != nil {
		return err
	}
	if normID(next.ID) != cur.ID {
		return fmt.Errorf("restore session id cannot change")
	}
	next.ID = cur.ID
	s.ten.restores[cur.ID] = &next
	return nil
}

// RestoreSession returns a restore session as the API would report it now.
func (s *Simulator) RestoreSession(id string) (RestoreSession, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs, ok := s.restore(normID(id), s.opts.Now())
	if !ok {
		return RestoreSession{}, false
	}
	return *rs, true
}

// restore finds an explicit or generated restore session, advanced to now; caller holds s.mu.
func (s *Simulator) restore(id string, now time.Time) (*RestoreSession, bool) {
	if rs, ok := s.ten.restores[id]; ok {
		rs.advance(now)
		return rs, true
	}
	if k, ok := s.ten.gen.index(id); ok {
		rs := s.ten.gen.restore(k)
		rs.advance(now)
		return &rs, true
	}
	return nil, false
}

// officeName is the organization's Microsoft 365 name: its name up to the first dot.
func (o *Organization) officeName() string {
	if o.OfficeName != "" {
		return o.OfficeName
	}
	name, _, _ := strings.Cut(o.Name, ".")
	return name
}
