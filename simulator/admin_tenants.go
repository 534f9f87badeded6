package simulator

import (
	"net/http"
	"strings"
)

// adminRestoreSession is the admin API's restore session: RESTRestoreSession's field names
// plus the running plan. Fields left out of a PATCH stay as they are.
type adminRestoreSession struct {
	adminRun
	Name, Organization, Type, State, Result, InitiatedBy, Details, ScopeName, ClientHost, Reason, FinalResult *string
}

// apply copies the fields present in the body onto rs; a body with a bad time changes nothing.
func (a *adminRestoreSession) apply(rs *RestoreSession) error {
	if err := a.adminRun.apply(&rs.ID, &rs.CreationTime, &rs.EndTime, &rs.FinishAt); err != nil {
		return err
	}
	setPtrs([][2]*string{{&rs.Name, a.Name}, {&rs.Organization, a.Organization},
		{&rs.Type, a.Type}, {&rs.State, a.State}, {&rs.Result, a.Result}, {&rs.InitiatedBy, a.InitiatedBy}, {&rs.Details, a.Details},
		{&rs.ScopeName, a.ScopeName}, {&rs.ClientHost, a.ClientHost}, {&rs.Reason, a.Reason}, {&rs.FinalResult, a.FinalResult}})
	return nil
}

// adminOrganization creates or replaces a whole organization.
type adminOrganization struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	Type             string `json:"type"`
	FirstBackup      string `json:"firstBackuptime"`
	LastBackup       string `json:"lastBackuptime"`
	LicensedUsers    int32  `json:"licensedUsers"`
	NewUsers         int32  `json:"newUsers"`
	ProtectedUsers   int    `json:"protectedUsers"`
	UnprotectedUsers int    `json:"unprotectedUsers"`
	Repositories     []struct {
		RepositoryID       string `json:"repositoryId"`
		UsedBytes          int64  `json:"usedSpaceBytes"`
		ObjectStorage      bool   `json:"objectStorage"`
		ObjectStorageBytes int64  `json:"objectStorageUsedSpaceBytes"`
	} `json:"usedRepositories"`
}

func (a *adminOrganization) apply(o *Organization) error {
	*o = Organization{ID: a.ID, Name: a.Name, Type: a.Type, LicensedUsers: a.LicensedUsers, NewUsers: a.NewUsers,
		ProtectedUsers: a.ProtectedUsers, UnprotectedUsers: a.UnprotectedUsers}
	for _, u := range a.Repositories {
		o.Repositories = append(o.Repositories, UsedRepository{RepositoryID: u.RepositoryID, UsedBytes: u.UsedBytes,
			ObjectStorage: u.ObjectStorage, ObjectStorageBytes: u.ObjectStorageBytes})
	}
	return setAdminTimes(adminTime{&a.FirstBackup, &o.FirstBackup}, adminTime{&a.LastBackup, &o.LastBackup})
}

// serveAdminTenants answers the admin API's organization and restore requests; false when p
// is none of them.
func (s *Simulator) serveAdminTenants(w http.ResponseWriter, r *http.Request, p string) bool {
	switch {
	case p == "/organizations" && r.Method == http.MethodPost:
		adminAdd(w, r, &adminOrganization{ID: randomUUID()}, Organization{}, (*adminOrganization).apply, s.AddOrganization,
			func(o Organization) string { return o.ID })
	case p == "/restoresessions" && r.Method == http.MethodPost:
		adminAdd(w, r, &adminRestoreSession{}, RestoreSession{ID: randomUUID(), CreationTime: s.opts.Now(), Type: RestoreExchange},
			(*adminRestoreSession).apply, s.AddRestoreSession, func(rs RestoreSession) string { return rs.ID })
	case strings.HasPrefix(p, "/restoresessions/") && r.Method == http.MethodPatch:
		id := strings.TrimPrefix(p, "/restoresessions/")
		adminPatch(w, r, id, &adminRestoreSession{}, (*adminRestoreSession).apply, s.UpdateRestoreSession,
			func() bool { _, ok := s.RestoreSession(id); return ok })
	default:
		return false
	}
	return true
}

// adminAdd decodes a body a, applies it to def and adds the result: 201 with its ID.
func adminAdd[A, T any](w http.ResponseWriter, r *http.Request, a A, def T, apply func(A, *T) error, add func(T) error, id func(T) string) {
	err := decodeBody(r, a)
	if err == nil {
		err = apply(a, &def)
	}
	if err == nil {
		err = add(def)
	}
	if err != nil {
		adminError(w, http.StatusBadRequest, err)
		return
	}
	adminReply(w, http.StatusCreated, map[string]string{"id": normID(id(def))})
}

// adminPatch decodes a body a and applies it to the object id through update: 204, 400, or
// 404 when it does not exist.
func adminPatch[A, T any](w http.ResponseWriter, r *http.Request, id string, a A, apply func(A, *T) error,
	update func(string, func(*T)) error, exists func() bool) {
	if err := decodeBody(r, a); err != nil {
		adminError(w, http.StatusBadRequest, err)
		return
	}
	var applyErr error
	err := update(id, func(v *T) { applyErr = apply(a, v) })
	switch {
	case applyErr != nil:
		adminError(w, http.StatusBadRequest, applyErr)
	case err != nil && !exists():
		adminError(w, http.StatusNotFound, err)
	case err != nil:
		adminError(w, http.StatusBadRequest, err)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}
