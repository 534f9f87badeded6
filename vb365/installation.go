package vb365

import (
	"context"
	"errors"
	"net/url"
	"time"
)

// Job is a backup or copy job (RESTJob), reduced to what the exporter shows.
type Job struct {
	ID           ID
	Name         string
	BackupType   string
	RepositoryID ID
	// Enabled is isEnabled; a server that omits it is read as enabled, so that a job that
	// does not run is alerted on rather than ignored.
	Enabled bool
	// LastRun and NextRun are zero when the server gives none.
	LastRun, NextRun time.Time
	// LastStatus is one of JobStatuses, or empty when not sent.
	LastStatus string
}

// JobSession is one run of a job (RESTJobSession).
type JobSession struct {
	ID ID
	// JobID is the job's ID: sent by v8, filled in from the job asked for before.
	JobID        ID
	CreationTime time.Time
	// EndTime is zero while the session has not ended.
	EndTime time.Time
	Status  string
	// Progress is a percentage.
	Progress   int64
	RetryCount int64
	// The statistics: bytes transferred, objects processed, bytes per second.
	TransferredBytes, ProcessedObjects, ProcessingRate int64
	Details                                            string
}

// Finished reports whether the session ended: an end time and a status other than Running
// or Queued.
func (s *JobSession) Finished() bool {
	return !s.EndTime.IsZero() && s.Status != StatusRunning && s.Status != StatusQueued
}

// Duration is endTime - creationTime, or now - creationTime while the session runs.
func (s *JobSession) Duration(now time.Time) time.Duration {
	if s.EndTime.IsZero() {
		return now.Sub(s.CreationTime)
	}
	return s.EndTime.Sub(s.CreationTime)
}

// License is the installation's license (RESTLicense).
type License struct {
	// Status is Valid or Expired.
	Status, Type, LicensedTo string
	// Expires is expirationDate (v6) or licenseExpires (v7 on); zero when not sent.
	Expires time.Time
	// Licensed and Used are the licensed and used users (totalNumber, usedNumber).
	Licensed, Used int64
}

// Repository is a backup repository (RESTBackupRepository). Object storage repositories
// may report a capacity and free space of 0.
type Repository struct {
	ID                       ID
	Name                     string
	CapacityBytes, FreeBytes int64
	OutOfSync                bool
}

// Proxy is a backup proxy (RESTProxy).
type Proxy struct {
	ID   ID
	Host string
	// Status is Online or Offline.
	Status string
	// Maintenance is maintenanceModeState (Disabled, Enabling, Enabled; v8 only), empty when
	// not sent.
	Maintenance string
	// CPU and Memory are usage percentages (v8 only); nil when not sent.
	CPU, Memory *float64
}

// The wire types name their fields as the API documents them (id, backupType, ...), which
// encoding/json matches case-insensitively, just as it would a tag.

type wireJob struct {
	ID, Name, BackupType, RepositoryID, LastStatus string
	IsEnabled                                      *bool
	LastRun, NextRun                               *APITime
}

type wireJobSession struct {
	ID, JobID, Details, Status string
	CreationTime, EndTime      *APITime
	RetryCount, Progress       int64
	Statistics                 struct {
		ProcessingRateBytesPS, TransferredDataBytes, ProcessedObjects int64
	}
}

type wireLicense struct {
	Status, Type, LicensedTo       string
	ExpirationDate, LicenseExpires *APITime
	TotalNumber, UsedNumber        int64
}

type wireRepository struct {
	ID, Name                      string
	CapacityBytes, FreeSpaceBytes int64
	IsOutOfSync                   bool
}

type wireProxy struct {
	ID, HostName, Status, MaintenanceModeState string
	CPUUsagePercent, MemoryUsagePercent        *float64
}

// entryID is an object's id as kept (masks.id), checked there: an entry without one cannot
// be told from another, so it is Invalid, and so is one that normalising leaves empty (only
// blanks, control or format characters). Every id an object needs is made by it.
func (m masks) entryID(id string) (ID, error) {
	kept := m.id(answerID(id))
	if kept == "" {
		return "", errors.New("entry has no id")
	}
	return kept, nil
}

// The conversions below are where a kind's strings from the server are scrubbed and cut
// (masks.text, masks.id): every kind is declared by its path, its wire type and one of them.
// On an error, what they return is not used.

func (w *wireJob) job(m masks) (Job, error) {
	id, err := m.entryID(w.ID)
	return Job{ID: id, Name: m.text(w.Name, MaxNameBytes), BackupType: m.text(w.BackupType, MaxEnumBytes),
		RepositoryID: m.id(answerID(w.RepositoryID)), Enabled: w.IsEnabled == nil || *w.IsEnabled,
		LastRun: w.LastRun.value(), NextRun: w.NextRun.value(), LastStatus: m.text(w.LastStatus, MaxEnumBytes)}, err
}

func (w *wireJobSession) session(m masks) (JobSession, error) {
	id, err := m.entryID(w.ID)
	if err == nil && w.CreationTime.value().IsZero() {
		err = errors.New("job session has no creationTime")
	}
	st := &w.Statistics
	return JobSession{ID: id, JobID: m.id(answerID(w.JobID)), CreationTime: w.CreationTime.value(),
		EndTime: w.EndTime.value(), Status: m.text(w.Status, MaxEnumBytes), Progress: w.Progress, RetryCount: w.RetryCount,
		TransferredBytes: st.TransferredDataBytes, ProcessedObjects: st.ProcessedObjects, ProcessingRate: st.ProcessingRateBytesPS,
		Details: m.text(w.Details, MaxReasonBytes)}, err
}

func (w *wireLicense) license(m masks) License {
	l := License{Status: m.text(w.Status, MaxEnumBytes), Type: m.text(w.Type, MaxEnumBytes),
		LicensedTo: m.text(w.LicensedTo, MaxNameBytes), Expires: w.LicenseExpires.value(),
		Licensed: w.TotalNumber, Used: w.UsedNumber}
	if l.Expires.IsZero() {
		l.Expires = w.ExpirationDate.value()
	}
	return l
}

func (w *wireRepository) repository(m masks) (Repository, error) {
	id, err := m.entryID(w.ID)
	return Repository{ID: id, Name: m.text(w.Name, MaxNameBytes), OutOfSync: w.IsOutOfSync,
		CapacityBytes: w.CapacityBytes, FreeBytes: w.FreeSpaceBytes}, err
}

func (w *wireProxy) proxy(m masks) (Proxy, error) {
	id, err := m.entryID(w.ID)
	return Proxy{ID: id, Host: m.text(w.HostName, MaxNameBytes), Status: m.text(w.Status, MaxEnumBytes),
		Maintenance: m.text(w.MaintenanceModeState, MaxEnumBytes), CPU: w.CPUUsagePercent, Memory: w.MemoryUsagePercent}, err
}

// Jobs reads GET /vN/Jobs (see ListStats for the bound keep).
func (c *Client) Jobs(ctx context.Context, keep int) ([]Job, ListStats, error) {
	return listKind(ctx, c, "jobs", "/Jobs", keep, (*wireJob).job)
}

// Repositories reads GET /vN/BackupRepositories.
func (c *Client) Repositories(ctx context.Context, keep int) ([]Repository, ListStats, error) {
	return listKind(ctx, c, "repositories", "/BackupRepositories", keep, (*wireRepository).repository)
}

// Proxies reads GET /vN/Proxies.
func (c *Client) Proxies(ctx context.Context, keep int) ([]Proxy, ListStats, error) {
	return listKind(ctx, c, "proxies", "/Proxies", keep, (*wireProxy).proxy)
}

// License reads GET /vN/License.
func (c *Client) License(ctx context.Context) (*License, error) {
	var w wireLicense
	if err := getOne(ctx, c, "license", "/License", &w); err != nil {
		return nil, err
	}
	l := w.license(c.masks())
	return &l, nil
}

// GetJobSession reads one job session: GET /vN/JobSessions/{id}.
func (c *Client) GetJobSession(ctx context.Context, id ID) (*JobSession, error) {
	var w wireJobSession
	if err := getOne(ctx, c, "jobsession", "/JobSessions/"+url.PathEscape(string(id)), &w); err != nil {
		return nil, err
	}
	s, err := w.session(c.masks())
	if err == nil && s.ID != id {
		err = &WrongSessionError{Asked: id, Got: s.ID}
	}
	if err != nil {
		return nil, &DecodeError{Endpoint: "jobsession", Err: c.scrubError(err)}
	}
	return &s, nil
}

// JobSessionPage is the page size of job session lists: a job's sessions since the last read
// are few, and its whole history (a first read) a few pages.
const JobSessionPage = 1000

// JobSessions streams the sessions of one job to fn, in the server's order: v6 lists them
// at /Jobs/{id}/JobSessions, v7 and v8 at /JobSessions?jobId=. From v7 on, a non-zero since
// is sent as endTimeLowerBound, which the documents describe as "created after": a server
// reading it as "ended after" sends a superset of what is new, so either reading only
// narrows the list and fn must not rely on it. At most maxPages pages are read; Truncated
// says when the list was longer. Memory is one page and what fn keeps.
func (c *Client) JobSessions(ctx context.Context, jobID ID, since time.Time, maxPages int, fn func(JobSession)) (ListStats, error) {
	lq := listQuery{endpoint: "jobsessions", paged: true, limit: JobSessionPage, maxPages: maxPages}
	if c.version == "v6" {
		lq.path = "/Jobs/" + url.PathEscape(string(jobID)) + "/JobSessions"
	} else {
		lq.path, lq.query = "/JobSessions", url.Values{"jobId": {string(jobID)}}
		if !since.IsZero() {
			lq.query.Set("endTimeLowerBound", since.UTC().Format(time.RFC3339))
		}
	}
	return listAll(ctx, c, lq, func(w *wireJobSession, m masks) error {
		s, err := w.session(m)
		if err == nil {
			if s.JobID == "" {
				s.JobID = jobID
			}
			fn(s)
		}
		return err
	})
}

func (t *APITime) value() time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.Time
}
