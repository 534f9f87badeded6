package simulator

import (
	"fmt"
	"net/http"
	"strings"
)

// adminJobSession is the admin API's job session: RESTJobSession's field names (v8) plus the
// running plan and the log. Fields left out of a PATCH stay as they are.
type adminJobSession struct {
	adminRun
	JobID, Details, Status, JobType, FinalStatus        *string
	RetryCount, Progress                                *int32
	ProcessedObjects                                    *int64
	TransferredBytes                                    *int64 `json:"transferredDataBytes"`
	ProgressPerSecond, ObjectsPerSecond, BytesPerSecond *float64
	Log                                                 []adminLogItem
}

func setPtr[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// setPtrs is setPtr for each {dst, src} pair.
func setPtrs[T any](pairs [][2]*T) {
	for _, p := range pairs {
		setPtr(p[0], p[1])
	}
}

// apply copies the fields present in the body onto js; a body with a bad time or log item
// changes nothing.
func (a *adminJobSession) apply(js *JobSession) error {
	var log []LogItem
	if a.Log != nil {
		var err error
		if log, err = adminLog(a.Log); err != nil {
			return err
		}
	}
	if err := a.adminRun.apply(&js.ID, &js.CreationTime, &js.EndTime, &js.FinishAt); err != nil {
		return err
	}
	if a.Log != nil {
		js.Log = log
	}
	setPtrs([][2]*string{{&js.JobID, a.JobID}, {&js.Details, a.Details}, {&js.Status, a.Status}, {&js.JobType, a.JobType}, {&js.FinalStatus, a.FinalStatus}})
	setPtrs([][2]*int32{{&js.RetryCount, a.RetryCount}, {&js.Progress, a.Progress}})
	setPtrs([][2]*int64{{&js.ProcessedObjects, a.ProcessedObjects}, {&js.TransferredBytes, a.TransferredBytes}})
	setPtrs([][2]*float64{{&js.ProgressPerSecond, a.ProgressPerSecond}, {&js.ObjectsPerSecond, a.ObjectsPerSecond}, {&js.BytesPerSecond, a.BytesPerSecond}})
	return nil
}

func adminLog(body []adminLogItem) ([]LogItem, error) {
	items := make([]LogItem, len(body))
	for i, a := range body {
		items[i] = LogItem{ID: a.ID, USN: a.USN, Type: a.Type, Message: a.Message}
		var err error
		if items[i].CreationTime, err = parseAdminTime(a.CreationTime); err != nil {
			return nil, fmt.Errorf("bad time %q: %w", a.CreationTime, err)
		}
		if items[i].EndTime, err = parseAdminTime(a.EndTime); err != nil {
			return nil, fmt.Errorf("bad time %q: %w", a.EndTime, err)
		}
	}
	return items, nil
}

// adminJob, adminLicense, adminRepository and adminProxy create or replace a whole object.
type adminJob struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	Description    string `json:"description"`
	Type           string `json:"type"`
	BackupType     string `json:"backupType"`
	Disabled       bool   `json:"disabled"`
	OrganizationID string `json:"organizationId"`
	RepositoryID   string `json:"repositoryId"`
	Schedule       string `json:"schedule"`
	NextRun        string `json:"nextRun"`
}

type adminLicense struct {
	Status     string `json:"status"`
	Type       string `json:"type"`
	LicensedTo string `json:"licensedTo"`
	Expires    string `json:"licenseExpires"`
	Total      int32  `json:"totalNumber"`
	Used       int32  `json:"usedNumber"`
}

type adminRepository struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	CapacityBytes   int64  `json:"capacityBytes"`
	FreeSpaceBytes  int64  `json:"freeSpaceBytes"`
	ObjectStorageID string `json:"objectStorageId"`
	OutOfSync       bool   `json:"isOutOfSync"`
}

type adminProxy struct {
	ID          string  `json:"id"`
	HostName    string  `json:"hostName"`
	Status      string  `json:"status"`
	Maintenance string  `json:"maintenanceModeState"`
	CPU         float64 `json:"cpuUsagePercent"`
	Memory      float64 `json:"memoryUsagePercent"`
}

// serveAdminInstall answers the admin API's installation requests; false when p is none of them.
func (s *Simulator) serveAdminInstall(w http.ResponseWriter, r *http.Request, p string) bool {
	fail := func(code int, err error) { adminError(w, code, err) }
	switch {
	case p == "/jobsessions" && r.Method == http.MethodPost:
		adminAdd(w, r, &adminJobSession{}, JobSession{CreationTime: s.opts.Now(), Status: StatusRunning, ID: randomUUID()},
			(*adminJobSession).apply, s.AddJobSession, func(js JobSession) string { return js.ID })
	case strings.HasPrefix(p, "/jobsessions/") && r.Method == http.MethodPatch:
		id := strings.TrimPrefix(p, "/jobsessions/")
		adminPatch(w, r, id, &adminJobSession{}, (*adminJobSession).apply, s.UpdateJobSession,
			func() bool { _, ok := s.JobSession(id); return ok })
	case p == "/jobs" && r.Method == http.MethodPost:
		a := adminJob{ID: randomUUID()}
		if err := decodeBody(r, &a); err != nil {
			fail(http.StatusBadRequest, err)
			return true
		}
		next, err := parseAdminTime(a.NextRun)
		if err == nil {
			err = s.AddJob(Job{ID: a.ID, Name: a.Name, Description: a.Description, Type: a.Type, BackupType: a.BackupType, Disabled: a.Disabled,
				OrganizationID: a.OrganizationID, RepositoryID: a.RepositoryID, Schedule: a.Schedule, NextRun: next})
		}
		if err != nil {
			fail(http.StatusBadRequest, err)
			return true
		}
		adminReply(w, http.StatusCreated, map[string]string{"id": normID(a.ID)})
	case p == "/license" && r.Method == http.MethodPut:
		var a adminLicense
		if err := decodeBody(r, &a); err != nil {
			fail(http.StatusBadRequest, err)
			return true
		}
		exp, err := parseAdminTime(a.Expires)
		if err == nil {
			err = s.SetLicense(License{Status: a.Status, Type: orString(a.Type, LicenseSubscription), LicensedTo: a.LicensedTo, Expires: exp, TotalUsers: a.Total, UsedUsers: a.Used})
		}
		if err != nil {
			fail(http.StatusBadRequest, err)
			return true
		}
		w.WriteHeader(http.StatusNoContent)
	case p == "/repositories" && r.Method == http.MethodPost:
		a := adminRepository{ID: randomUUID()}
		if err := decodeBody(r, &a); err != nil {
			fail(http.StatusBadRequest, err)
		} else if err := s.AddRepository(Repository{ID: a.ID, Name: a.Name, CapacityBytes: a.CapacityBytes, FreeSpaceBytes: a.FreeSpaceBytes,
			ObjectStorageID: a.ObjectStorageID, OutOfSync: a.OutOfSync}); err != nil {
			fail(http.StatusBadRequest, err)
		} else {
			adminReply(w, http.StatusCreated, map[string]string{"id": normID(a.ID)})
		}
	case p == "/proxies" && r.Method == http.MethodPost:
		a := adminProxy{ID: randomUUID()}
		if err := decodeBody(r, &a); err != nil {
			fail(http.StatusBadRequest, err)
		} else if err := s.AddProxy(Proxy{ID: a.ID, HostName: a.HostName, Status: a.Status, Maintenance: a.Maintenance, CPUPercent: a.CPU, MemoryPercent: a.Memory}); err != nil {
			fail(http.StatusBadRequest, err)
		} else {
			adminReply(w, http.StatusCreated, map[string]string{"id": normID(a.ID)})
		}
	default:
		return false
	}
	return true
}
