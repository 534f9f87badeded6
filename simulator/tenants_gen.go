package simulator

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// genRestores is a restore history made up on demand from indexes, as generated job sessions
// are: 0 is the oldest, one every genRestoreEvery up to the generation time, each shorter than
// that, so creation and end times both grow with the index. The newest two are still running.
type genRestores struct {
	n    int
	base time.Time
	orgs []string // organization names
}

const (
	genRestoreEvery   = 6 * time.Minute
	genRestoreRunning = 2
	genOrgMiddle      = "0e9a0000-0000-4000-8000-"
	genRestoreMiddle  = "-4e57-4000-8000-"
)

func genOrgID(i int) string     { return fmt.Sprintf(genOrgMiddle+"%012x", i) }
func genRestoreID(k int) string { return fmt.Sprintf("%08x"+genRestoreMiddle+"000000000000", k) }

// GenerateTenants replaces the generated organizations and restore history: orgs
// organizations (their IDs are the organizationId of GenerateInstallation's jobs) of
// usersPerOrg licensed users each, every tenth with one user in 20 not backed up, and every
// 25th last backed up three days ago; and restores restore sessions, one every six minutes up
// to now, about one in 25 Failed and one in 10 Warning, the newest two still running (they
// end within 15 minutes). Users and restores are computed when served, so 100,000 users and
// 10,000 restores cost no memory.
func (s *Simulator) GenerateTenants(orgs, usersPerOrg, restores int) {
	now := s.opts.Now()
	s.mu.Lock()
	for id := range s.ten.orgs {
		if strings.HasPrefix(id, genOrgMiddle) {
			delete(s.ten.orgs, id)
		}
	}
	for id := range s.ten.restores {
		if _, _, ok := parseGen(id, genRestoreMiddle); ok {
			delete(s.ten.restores, id)
		}
	}
	s.mu.Unlock()
	g := &genRestores{n: max(restores, 0), base: now}
	for i := range max(orgs, 0) {
		name := strings.ToLower(genOrgs[i%len(genOrgs)])
		if i >= len(genOrgs) {
			name += fmt.Sprint(i/len(genOrgs) + 1)
		}
		name += ".onmicrosoft.com"
		g.orgs = append(g.orgs, name)
		o := Organization{ID: genOrgID(i), Name: name, ProtectedUsers: max(usersPerOrg, 0), NewUsers: int32(i % 7),
			FirstBackup: now.Add(-400 * 24 * time.Hour), LastBackup: now.Add(-time.Duration(1+i%12) * time.Hour),
			Repositories: []UsedRepository{{RepositoryID: genRepoIDs[i%len(genRepoIDs)], UsedBytes: int64(50+i%200) << 30}}}
		if i%10 == 9 {
			o.UnprotectedUsers = usersPerOrg / 20
			o.ProtectedUsers -= o.UnprotectedUsers
		}
		if i%25 == 24 {
			o.LastBackup = now.Add(-72 * time.Hour)
		}
		if i%5 == 0 {
			o.Repositories = append(o.Repositories, UsedRepository{RepositoryID: genRepoIDs[(i+1)%len(genRepoIDs)], ObjectStorage: true,
				UsedBytes: 2 << 30, ObjectStorageBytes: int64(100+i) << 30, ProtectedObjects: int64(usersPerOrg * 3)})
		}
		o.LicensedUsers = int32(o.ProtectedUsers)
		_ = s.AddOrganization(o) // valid by construction
	}
	if len(g.orgs) == 0 {
		g.orgs = []string{"contoso.onmicrosoft.com"}
	}
	s.mu.Lock()
	s.ten.gen = g
	s.mu.Unlock()
}

func (g *genRestores) index(id string) (int, bool) {
	if g == nil {
		return 0, false
	}
	k, z, ok := parseGen(id, genRestoreMiddle)
	return k, ok && z == 0 && k < g.n
}

// times are restore k's creation and end (zero while running at now) without building it.
func (g *genRestores) times(k int, now time.Time) (created, ended time.Time) {
	created = g.base.Add(-time.Duration(g.n-k) * genRestoreEvery)
	took := time.Duration(20+hash(k, 7)%300) * time.Second
	if k >= g.n-genRestoreRunning {
		took = 20 * time.Minute
		if now.Before(created.Add(took)) {
			return created, time.Time{}
		}
	}
	return created, created.Add(took)
}

// firstCreated is the lowest index created at or after t (inclusive bound; g.n: none).
func (g *genRestores) firstCreated(t time.Time) int {
	return sort.Search(g.n, func(k int) bool { c, _ := g.times(k, g.base); return !c.Before(t) })
}

var genOperators = []string{`VBO\restore-operator`, `VBO\helpdesk01`, `VBO\helpdesk02`, `VBO\backup-admin`, "megan.bowen@%s"}

// restore builds restore k as generated; advance brings a running one up to the clock.
func (g *genRestores) restore(k int) RestoreSession {
	h := hash(k, 11)
	created, ended := g.times(k, time.Time{})
	org := g.orgs[h%uint64(len(g.orgs))]
	typ := restoreTypes[h/7%uint64(len(restoreTypes))]
	rs := RestoreSession{ID: genRestoreID(k), Name: restoreNames[typ], Organization: org, Type: typ, CreationTime: created,
		EndTime: ended, Result: StatusSuccess, ClientHost: fmt.Sprintf("vbo-console%02d.corp.example", 1+h%3)}
	op := genOperators[h/31%uint64(len(genOperators))]
	if strings.Contains(op, "%s") {
		rs.InitiatedBy, rs.ScopeName = fmt.Sprintf(op, org), "Restore Portal"
	} else {
		rs.InitiatedBy = op
	}
	switch h % 50 {
	case 0, 1:
		rs.Result, rs.Details = StatusFailed, "Restore failed: Access is denied. (0x80070005)"
	case 2, 3, 4, 5, 6:
		rs.Result, rs.Details = StatusWarning, "Restore finished with warnings: 2 items were skipped"
	}
	if ended.IsZero() {
		rs.Result, rs.Details, rs.FinishAt, rs.FinalResult = StatusSuccess, "", created.Add(20*time.Minute), rs.Result
	}
	return rs
}

var restoreNames = map[string]string{RestoreExchange: "Exchange restore", RestoreOneDrive: "OneDrive restore",
	RestoreSharePoint: "SharePoint restore", RestoreTeams: "Teams restore"}

var userNames = []string{"adele.vance", "alex.wilber", "megan.bowen", "lee.gu", "nestor.wilke", "isaiah.langer", "lidia.holloway", "pradeep.gupta"}

// licensedUser is user j of o, made when served.
type licensedUser struct {
	id, name, state string
	backedUp        bool
}

func (o *Organization) user(j int) licensedUser {
	u := licensedUser{id: fmt.Sprintf("%08x-75e2-4000-8000-%012x", o.seq, j), backedUp: j < o.ProtectedUsers, state: "Licensed"}
	if j < len(userNames) {
		u.name = userNames[j] + "@" + o.Name
	} else {
		u.name = fmt.Sprintf("user%05d@%s", j, o.Name)
	}
	if j < int(o.NewUsers) && u.backedUp {
		u.state = "New"
	}
	return u
}
