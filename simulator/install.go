package simulator

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"
)

// Job types (RESTJobSession.jobType, the jobType filter of JobSessions).
const (
	JobTypeBackup = "Backup"
	JobTypeCopy   = "Copy"
)

// Proxy, license, schedule, backup and session configuration values of the documents.
const (
	ProxyOnline              = "Online"
	ProxyOffline             = "Offline"
	MaintenanceDisabled      = "Disabled"
	MaintenanceEnabling      = "Enabling"
	MaintenanceEnabled       = "Enabled"
	LicenseValid             = "Valid"
	LicenseExpired           = "Expired"
	LicenseSubscription      = "Subscription"
	LicenseCommunity         = "Community"
	ScheduleDaily            = "Daily"
	SchedulePeriodically     = "Periodically"
	ScheduleManualOnly       = "ManualOnly"
	BackupEntireOrg          = "EntireOrganization"
	BackupSelectedItems      = "SelectedItems"
	SessionConfigFull        = "Full"
	SessionConfigIncremental = "Incremental"
)

var (
	jobStatuses   = append(append([]string(nil), sessionStatuses...), StatusDisconnected, StatusQueued)
	jobTypes      = []string{JobTypeBackup, JobTypeCopy}
	proxyStatuses = []string{ProxyOnline, ProxyOffline}
	maintenance   = []string{MaintenanceDisabled, MaintenanceEnabling, MaintenanceEnabled}
	licStatuses   = []string{LicenseValid, LicenseExpired}
	licTypes      = []string{LicenseSubscription, "Evaluation", "NFR", "Rental", LicenseCommunity, "AwsPrivateOffer"}
	schedules     = []string{ScheduleDaily, SchedulePeriodically, ScheduleManualOnly}
	backupTypes   = []string{BackupEntireOrg, BackupSelectedItems}
	configTypes   = []string{SessionConfigFull, SessionConfigIncremental}
)

// Job is a backup or backup copy job (RESTJob). Its lastRun, lastStatus and lastBackup follow
// its sessions; the fields of the same name are used only while it has none.
type Job struct {
	ID          string
	Name        string
	Description string
	Type        string // Backup (default) or Copy: the jobType of its sessions
	BackupType  string // EntireOrganization (default) or SelectedItems
	// Disabled jobs answer isEnabled false and no nextRun.
	Disabled       bool
	OrganizationID string // v8 only
	RepositoryID   string
	Schedule       string // Daily (default), Periodically or ManualOnly
	DailyTime      string // "22:00:00" by default
	NextRun        time.Time
	LastRun        time.Time
	LastStatus     string
	LastBackup     time.Time
}

func (j *Job) validate() error {
	if !isUUID(j.ID) {
		return fmt.Errorf("job id %q is not a UUID", j.ID)
	}
	for _, id := range []string{j.OrganizationID, j.RepositoryID} {
		if id != "" && !isUUID(id) {
			return fmt.Errorf("job %s: %q is not a UUID", j.ID, id)
		}
	}
	return errors.Join(optional(j.Type, oneOf("job type", j.Type, jobTypes)),
		optional(j.BackupType, oneOf("backup type", j.BackupType, backupTypes)),
		optional(j.Schedule, oneOf("schedule", j.Schedule, schedules)),
		optional(j.LastStatus, oneOf("last status", j.LastStatus, jobStatuses)))
}

// JobSession is one run of a job (RESTJobSession) with its log.
type JobSession struct {
	ID            string
	JobID         string // required; only v8 sends it, v6 and v7 link to the job
	MainSessionID string // the first run when this is a retry; defaults to ID
	JobType       string // defaults to the job's Type
	ConfigType    string // Full or Incremental (default); v8 only
	Details       string // empty is sent as null
	CreationTime  time.Time
	// EndTime is the zero time while the session has not ended.
	EndTime       time.Time
	RetryCount    int32
	WillBeRetried bool
	Progress      int32
	Status        string
	RepositoryID  string // v7+; defaults to the job's repository
	ProxyID       string // v8
	ProxyPoolID   string // v8

	ProcessedObjects int64
	TransferredBytes int64
	// Rates are sent as given; a zero processing rate is derived from the bytes and duration.
	ProcessingRateBytesPS, ProcessingRateItemsPS, ReadRateBytesPS, WriteRateBytesPS int64
	Bottleneck                                                                      string // NA (default), Detecting, Source, Target

	// Plan of a Running session, as for Session: Progress, ProcessedObjects and
	// TransferredBytes grow at these rates, and at FinishAt it ends with FinalStatus.
	FinishAt          time.Time
	FinalStatus       string
	ProgressPerSecond float64
	ObjectsPerSecond  float64
	BytesPerSecond    float64

	// Log is the session's log; items are completed as SetLogItems does.
	Log []LogItem

	advancedAt                      time.Time
	progressFrac, objFrac, byteFrac float64
}

func (s *JobSession) validate() error {
	if !isUUID(s.ID) {
		return fmt.Errorf("job session id %q is not a UUID", s.ID)
	}
	if !isUUID(s.JobID) {
		return fmt.Errorf("job session %s: job id %q is not a UUID", s.ID, s.JobID)
	}
	for _, id := range []string{s.MainSessionID, s.RepositoryID, s.ProxyID, s.ProxyPoolID} {
		if id != "" && !isUUID(id) {
			return fmt.Errorf("job session %s: %q is not a UUID", s.ID, id)
		}
	}
	if s.CreationTime.IsZero() {
		return fmt.Errorf("job session %s has no creation time", s.ID)
	}
	return errors.Join(oneOf("status", s.Status, jobStatuses),
		optional(s.FinalStatus, oneOf("final status", s.FinalStatus, jobStatuses)),
		optional(s.JobType, oneOf("job type", s.JobType, jobTypes)),
		optional(s.ConfigType, oneOf("config type", s.ConfigType, configTypes)),
		optional(s.Bottleneck, oneOf("bottleneck", s.Bottleneck, []string{"NA", "Detecting", "Source", "Target"})))
}

// planStep is the stretch of simulated time a running plan has to catch up on.
func planStep(status string, created, advancedAt, finishAt, now time.Time) (elapsed float64, to time.Time, finished bool) {
	if status != StatusRunning {
		return 0, advancedAt, false
	}
	from := advancedAt
	if from.IsZero() {
		from = created
	}
	to = now
	finished = !finishAt.IsZero() && !now.Before(finishAt)
	if finished {
		to = finishAt
	}
	return to.Sub(from).Seconds(), to, finished
}

// grow adds rate×elapsed to *frac and takes out the whole part, so slow rates still move.
func grow(frac *float64, rate, elapsed float64) float64 {
	*frac += rate * elapsed
	w := math.Floor(*frac)
	*frac -= w
	return w
}

// endPlan is how a planned session ends: with its final status (Success when it has none)
// at finishAt.
func endPlan(final string, finishAt time.Time) (string, time.Time) {
	if final == "" || final == StatusRunning {
		final = StatusSuccess
	}
	return final, finishAt
}

func (s *JobSession) advance(now time.Time) {
	elapsed, to, finished := planStep(s.Status, s.CreationTime, s.advancedAt, s.FinishAt, now)
	if elapsed > 0 {
		s.Progress = addClamped32(s.Progress, grow(&s.progressFrac, s.ProgressPerSecond, elapsed))
		s.ProcessedObjects = addClamped64(s.ProcessedObjects, grow(&s.objFrac, s.ObjectsPerSecond, elapsed))
		s.TransferredBytes = addClamped64(s.TransferredBytes, grow(&s.byteFrac, s.BytesPerSecond, elapsed))
		s.advancedAt = to
	}
	if finished {
		s.Status, s.EndTime = endPlan(s.FinalStatus, s.FinishAt)
	}
}

// License is the installed license (RESTLicense). Status is derived from Expires when empty.
type License struct {
	ID             string // licenseID, a UUID; empty is sent as null
	Email          string
	Status         string // Valid or Expired; empty: Expired once the clock passes Expires
	Type           string // Subscription, Evaluation, NFR, Rental, Community, AwsPrivateOffer
	Package        string // v7+
	LicensedTo     string
	ContactPerson  string // v6
	Expires        time.Time
	GraceExpires   time.Time // v7+
	SupportID      string
	SupportExpires time.Time // v6
	TotalUsers     int32
	UsedUsers      int32
	NewUsers       int32
}

func (l *License) validate() error {
	if l.ID != "" && !isUUID(l.ID) {
		return fmt.Errorf("license id %q is not a UUID", l.ID)
	}
	return errors.Join(optional(l.Status, oneOf("license status", l.Status, licStatuses)), oneOf("license type", l.Type, licTypes))
}

// communityLicense is what a server without a license file runs as.
func communityLicense() License {
	return License{Status: LicenseValid, Type: LicenseCommunity, Package: "None", TotalUsers: 10}
}

// Repository is a backup repository (RESTBackupRepository). Object storage repositories
// report capacity and free space as 0, as real ones may.
type Repository struct {
	ID             string
	Name           string
	Description    string
	Path           string
	CapacityBytes  int64
	FreeSpaceBytes int64
	// ObjectStorageID makes this a repository extended with object storage.
	ObjectStorageID string
	LongTerm        bool
	OutOfSync       bool
	Encrypted       bool
	ProxyID         string
	ProxyPoolID     string // v8
	OrganizationID  string // v8
	// OutOfOrderReason marks the repository Invalid (v8 isOutOfOrder).
	OutOfOrderReason string
	RetentionYears   string // yearlyRetentionPeriod: Years3 by default
}

func (r *Repository) validate() error {
	for _, id := range []string{r.ID, r.ObjectStorageID, r.ProxyID, r.ProxyPoolID, r.OrganizationID} {
		if id != "" && !isUUID(id) {
			return fmt.Errorf("repository %s: %q is not a UUID", r.ID, id)
		}
	}
	if r.ID == "" {
		return fmt.Errorf("repository has no id")
	}
	return nil
}

// Proxy is a backup proxy server (RESTProxy).
type Proxy struct {
	ID          string
	HostName    string
	FQDN        string // v7+
	Description string
	Type        string // Domain by default
	Port        int32  // 9193 by default
	Threads     int32  // v6/v7, 64 by default
	Status      string // Online (default) or Offline
	Maintenance string // v8: Disabled (default), Enabling, Enabled
	// v8 usage; an offline proxy reports neither.
	CPUPercent, MemoryPercent float64
	OS                        string // v8: Windows (default) or Linux
	Version                   string // v8
	ProxyPoolID               string // v8
}

func (p *Proxy) validate() error {
	for _, id := range []string{p.ID, p.ProxyPoolID} {
		if id != "" && !isUUID(id) {
			return fmt.Errorf("proxy %s: %q is not a UUID", p.ID, id)
		}
	}
	if p.ID == "" {
		return fmt.Errorf("proxy has no id")
	}
	return errors.Join(optional(p.Status, oneOf("proxy status", p.Status, proxyStatuses)),
		optional(p.Maintenance, oneOf("maintenance state", p.Maintenance, maintenance)),
		optional(p.Type, oneOf("proxy type", p.Type, []string{"Local", "Domain", "Workgroup"})),
		optional(p.OS, oneOf("operating system", p.OS, []string{"Windows", "Linux"})))
}

// installation is the simulator's state beyond data retrievals; guarded by Simulator.mu.
type installation struct {
	jobs     map[string]*Job
	sessions map[string]*JobSession // explicit sessions, and generated ones changed by UpdateJobSession
	license  *License
	repos    map[string]*Repository
	proxies  map[string]*Proxy
	gen      *generated
}

func newInstallation() installation {
	return installation{jobs: map[string]*Job{}, sessions: map[string]*JobSession{},
		repos: map[string]*Repository{}, proxies: map[string]*Proxy{}}
}

// AddJob adds or replaces a job.
func (s *Simulator) AddJob(j Job) error {
	return s.add(j.validate, []*string{&j.ID, &j.OrganizationID, &j.RepositoryID}, func() { s.inst.jobs[j.ID] = &j })
}

// AddJobSession adds or replaces a job session and its log. The job need not exist: a real
// server keeps the sessions of deleted jobs.
func (s *Simulator) AddJobSession(js JobSession) error {
	return s.add(func() (err error) {
		if err = js.validate(); err == nil {
			js.Log, err = completeLog(js.Log)
		}
		return err
	}, []*string{&js.ID, &js.JobID, &js.MainSessionID, &js.RepositoryID}, func() {
		js.advancedAt, js.progressFrac, js.objFrac, js.byteFrac = time.Time{}, 0, 0, 0
		s.inst.sessions[js.ID] = &js
	})
}

// UpdateJobSession changes a job session under the simulator's lock; the callback sees it
// advanced to now. Generated sessions can be changed too; they keep their place in lists.
func (s *Simulator) UpdateJobSession(id string, fn func(*JobSession)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	cur, ok := s.jobSession(normID(id), now, true)
	if !ok {
		return fmt.Errorf("job session %s not found", id)
	}
	next := *cur
	next.Log = append([]LogItem(nil), cur.Log...)
	fn(&next)
	if err := next.validate(); err != nil {
		return err
	}
	if normID(next.ID) != cur.ID {
		return fmt.Errorf("job session id cannot change")
	}
	log, err := completeLog(next.Log)
	if err != nil {
		return err
	}
	next.Log = log
	next.JobID = normID(next.JobID)
	// Progress set by the caller counts from now on.
	next.advancedAt = now
	s.inst.sessions[cur.ID] = &next
	return nil
}

// JobSession returns a job session as the API would report it now.
func (s *Simulator) JobSession(id string) (JobSession, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	js, ok := s.jobSession(normID(id), s.opts.Now(), true)
	if !ok {
		return JobSession{}, false
	}
	return *js, true
}

// jobSession finds an explicit or generated session, advanced to now; caller holds s.mu.
// The pointer of an explicit session is the stored one; a generated one gets its log only
// when asked for it.
func (s *Simulator) jobSession(id string, now time.Time, withLog bool) (*JobSession, bool) {
	if js, ok := s.inst.sessions[id]; ok {
		js.advance(now)
		return js, true
	}
	if i, k, ok := s.inst.gen.sessionIndex(id); ok {
		js := s.inst.gen.session(i, k, withLog)
		js.advance(now)
		return &js, true
	}
	return nil, false
}

// SetLicense installs a license; without one the simulator answers a Community license.
func (s *Simulator) SetLicense(l License) error {
	return s.add(l.validate, nil, func() { s.inst.license = &l })
}

// AddRepository adds or replaces a backup repository.
func (s *Simulator) AddRepository(r Repository) error {
	return s.add(r.validate, []*string{&r.ID}, func() { s.inst.repos[r.ID] = &r })
}

// AddProxy adds or replaces a backup proxy.
func (s *Simulator) AddProxy(p Proxy) error {
	return s.add(p.validate, []*string{&p.ID}, func() { s.inst.proxies[p.ID] = &p })
}

// completeLog checks log items and fills in what SetLogItems fills in.
func completeLog(items []LogItem) ([]LogItem, error) {
	if items == nil {
		return nil, nil
	}
	log := make([]LogItem, len(items))
	for i, it := range items {
		if it.ID == "" {
			it.ID = randomUUID()
		}
		if !isUUID(it.ID) {
			return nil, fmt.Errorf("log item id %q is not a UUID", it.ID)
		}
		if err := oneOf("log item type", it.Type, logTypes); err != nil {
			return nil, err
		}
		if it.CreationTime.IsZero() {
			return nil, fmt.Errorf("log item %d has no creation time", i)
		}
		if it.EndTime.IsZero() {
			it.EndTime = it.CreationTime
		}
		if it.USN == 0 {
			it.USN = int64(i + 1)
		}
		it.ID = normID(it.ID)
		log[i] = it
	}
	return log, nil
}

// sortedByID returns the map's values in ID order: the simulator's own list order, stable
// for paging and unrelated to time, as the documents promise no order.
func sortedByID[T any](m map[string]*T, keep func(id string, v *T) bool) []*T {
	ids := make([]string, 0, len(m))
	for id, v := range m {
		if keep == nil || keep(id, v) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	out := make([]*T, len(ids))
	for i, id := range ids {
		out[i] = m[id]
	}
	return out
}
