package simulator

import "time"

// IDs of the reference example on Veeam's "Getting Data Retrieval Session by Session ID" page.
const (
	ReferenceSessionID   = "668f478c-0326-440a-8bdf-58cf39163ea2"
	ReferenceRetrievalID = "8a76872b-7f2c-4c50-95f4-92c4d41bc47c"
)

// Fixed IDs of the other demo objects, so example configs can list them.
const (
	DemoOneDriveRetrievalID = "3f1c2b8e-5d4a-4c7b-9e2f-1a0b9c8d7e6f"
	DemoTeamsRetrievalID    = "c0ffee00-1234-4abc-8def-0123456789ab"

	DemoRunningSuccessID = "11111111-1111-4111-8111-111111111111"
	DemoRunningFailedID  = "22222222-2222-4222-8222-222222222222"
	DemoRunningWarningID = "33333333-3333-4333-8333-333333333333"
	DemoStoppedID        = "44444444-4444-4444-8444-444444444444"
	DemoFailedID         = "55555555-5555-4555-8555-555555555555"
	DemoWarningID        = "66666666-6666-4666-8666-666666666666"
	DemoNotConfiguredID  = "77777777-7777-4777-8777-777777777777"
	DemoSuccessID        = "88888888-8888-4888-8888-888888888888"
	DemoRemovingID       = "99999999-9999-4999-8999-999999999999"

	demoRepositoryID   = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
	demoOrganizationID = "0a0b0c0d-0e0f-4a1b-8c2d-3e4f5a6b7c8d"
	demoProxyID        = "b7e3a1f2-9c4d-4e5f-a6b7-c8d9e0f1a2b3"
)

// DemoSessionIDs lists every session LoadDemoData creates.
func DemoSessionIDs() []string {
	return []string{ReferenceSessionID, DemoRunningSuccessID, DemoRunningFailedID, DemoRunningWarningID,
		DemoStoppedID, DemoFailedID, DemoWarningID, DemoNotConfiguredID, DemoSuccessID, DemoRemovingID}
}

// ReferenceSession is the example session of Veeam's reference page, field for field.
func ReferenceSession() Session {
	cet := time.FixedZone("", 60*60)
	return Session{
		ID:               ReferenceSessionID,
		Name:             "Exchange data retrieval",
		RetrievalID:      ReferenceRetrievalID,
		CreationTime:     time.Date(2022, 1, 28, 20, 52, 36, 917705300, cet),
		EndTime:          time.Date(2022, 1, 28, 20, 56, 17, 751345700, cet),
		Progress:         5,
		ProcessedObjects: 37,
		Type:             TypeRetrieve,
		Status:           StatusSuccess,
	}
}

// LoadDemoData adds the reference session, a session in every status, three running sessions
// that finish Success, Failed and Warning within four minutes of now, three data
// retrievals they belong to, and logs for the Failed, Warning, Stopped and reference sessions;
// and an installation (demo_install.go): seven jobs of three organizations with a week of
// sessions, a license near its user limit, repositories and proxies in every state; and their
// organizations with restores of every result (demo_tenants.go).
// `make demo` shows them to people who run VB365, so names, types and durations are ones they would see on a server: a Retrieve session is named after
// what it retrieves and runs for minutes, an availability change or a removal takes
// seconds. Data that only tests need (markup in names, odd values) is added by those tests.
func (s *Simulator) LoadDemoData() {
	now := s.opts.Now()
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	retrievals := []DataRetrieval{
		{ID: ReferenceRetrievalID, Name: "Exchange retrieval", Type: RetrievalTypeExchange,
			DataState: DataStateRetrieved, LastStatus: StatusSuccess, StorageType: "AzureArchive", Policy: "StandardPriority",
			OrganizationID: demoOrganizationID, RepositoryID: demoRepositoryID, ProxyID: demoProxyID,
			PointInTime: time.Date(2022, 1, 27, 0, 0, 0, 0, time.UTC), StartTime: ReferenceSession().CreationTime,
			ExpirationTime: now.Add(7 * 24 * time.Hour)},
		{ID: DemoOneDriveRetrievalID, Name: "OneDrive retrieval", Description: "Finance team OneDrive", Type: RetrievalTypeOneDrive,
			DataState: DataStateRetrieving, StorageType: "AmazonS3Glacier", Policy: "Standard",
			OrganizationID: demoOrganizationID, RepositoryID: demoRepositoryID, ProxyID: demoProxyID,
			PointInTime: ago(48 * time.Hour), StartTime: ago(10 * time.Minute)},
		{ID: DemoTeamsRetrievalID, Name: "Teams retrieval", Type: RetrievalTypeTeams,
			DataState: DataStateRetrieving, StorageType: "AzureArchive", Policy: "HighPriority",
			OrganizationID: demoOrganizationID, RepositoryID: demoRepositoryID, ProxyID: demoProxyID,
			PointInTime: ago(72 * time.Hour), StartTime: ago(5 * time.Minute)},
	}
	for _, r := range retrievals {
		if err := s.AddDataRetrieval(r); err != nil {
			panic(err) // demo data is fixed; an error is a bug in this file
		}
	}
	running := func(id, name, retrieval string, started, finishIn time.Duration, final string) Session {
		return Session{ID: id, Name: name, RetrievalID: retrieval, CreationTime: ago(started),
			Type: TypeRetrieve, Status: StatusRunning, RepositoryID: demoRepositoryID, ProxyID: demoProxyID,
			FinishAt: now.Add(finishIn), FinalStatus: final, ProgressPerSecond: 0.5, ObjectsPerSecond: 3}
	}
	ended := func(id, name, retrieval, typ, status string, started, took time.Duration, progress int32, objects int64) Session {
		return Session{ID: id, Name: name, RetrievalID: retrieval, CreationTime: ago(started), EndTime: ago(started - took),
			Progress: progress, ProcessedObjects: objects, Type: typ, Status: status, RepositoryID: demoRepositoryID, ProxyPoolID: demoProxyID}
	}
	sessions := []Session{
		ReferenceSession(),
		running(DemoRunningSuccessID, "OneDrive data retrieval", DemoOneDriveRetrievalID, 10*time.Minute, 2*time.Minute, StatusSuccess),
		running(DemoRunningFailedID, "Teams data retrieval", DemoTeamsRetrievalID, 5*time.Minute, 3*time.Minute, StatusFailed),
		running(DemoRunningWarningID, "OneDrive data retrieval (Finance)", DemoOneDriveRetrievalID, 2*time.Minute, 4*time.Minute, StatusWarning),
		ended(DemoStoppedID, "Exchange data retrieval (HR mailboxes)", ReferenceRetrievalID, TypeRetrieve, StatusStopped, 3*time.Hour, 90*time.Second, 2, 11),
		ended(DemoFailedID, "Teams data retrieval (Sales channel)", DemoTeamsRetrievalID, TypeRetrieve, StatusFailed, 2*time.Hour, 5*time.Minute, 1, 4),
		ended(DemoWarningID, "Exchange availability change", ReferenceRetrievalID, TypeChangeAvailabilityPeriod, StatusWarning, 90*time.Minute, 40*time.Second, 3, 3),
		ended(DemoSuccessID, "Teams data retrieval (Marketing)", DemoTeamsRetrievalID, TypeRetrieve, StatusSuccess, time.Hour, 3*time.Minute, 7, 120),
		ended(DemoRemovingID, "Exchange retrieval removal", ReferenceRetrievalID, TypeRetrievalRemoving, StatusSuccess, 30*time.Minute, 15*time.Second, 1, 1),
		// A session that never ran has neither an end time nor any progress.
		{ID: DemoNotConfiguredID, Name: "OneDrive data retrieval (Legal)", RetrievalID: DemoOneDriveRetrievalID, CreationTime: ago(20 * time.Minute),
			Type: TypeRetrieve, Status: StatusNotConfigured},
	}
	for _, sess := range sessions {
		if err := s.AddSession(sess); err != nil {
			panic(err)
		}
	}
	s.loadDemoLogItems()
	s.loadDemoInstallation(now)
	s.loadDemoTenants(now)
}
