package simulator

import (
	"fmt"
	"time"
)

// IDs of the demo installation, so tests and example configs can name them.
const (
	DemoJobFailedID       = "10b50001-0000-4000-8000-000000000001" // Contoso Exchange daily: latest session Failed
	DemoJobWarningID      = "10b50002-0000-4000-8000-000000000002" // Fabrikam OneDrive: latest session Warning
	DemoJobRunningID      = "10b50003-0000-4000-8000-000000000003" // Northwind SharePoint: running now
	DemoJobStaleID        = "10b50004-0000-4000-8000-000000000004" // Fabrikam SharePoint: no success for four days
	DemoJobCopyID         = "10b50005-0000-4000-8000-000000000005" // Contoso Exchange copy to Azure: a copy job
	DemoJobDisabledID     = "10b50006-0000-4000-8000-000000000006" // Northwind Exchange (legacy): disabled
	DemoJobNeverRunID     = "10b50007-0000-4000-8000-000000000007" // Northwind Teams: enabled, never ran
	DemoJobFailedSession  = "5e550001-0003-4000-8000-000000000000" // the Failed latest session
	DemoJobWarningSession = "5e550002-0003-4000-8000-000000000000" // the Warning latest session
	DemoJobRunningSession = "5e550003-0003-4000-8000-000000000000" // the running session

	DemoRepositoryFullID   = "2e9a0001-0000-4000-8000-000000000001" // under 10 % free
	DemoRepositoryID       = "2e9a0002-0000-4000-8000-000000000002"
	DemoRepositoryObjectID = "2e9a0003-0000-4000-8000-000000000003" // object storage reporting capacity 0
	DemoProxyID            = "9b0c0001-0000-4000-8000-000000000001"
	DemoProxyOfflineID     = "9b0c0002-0000-4000-8000-000000000002"
	DemoProxyMaintenanceID = "9b0c0003-0000-4000-8000-000000000003"
)

// Reasons of the demo's Failed and Warning job sessions: the last Error and last Warning of
// their logs, short enough to be shown whole (the exporter cuts reasons at 200 bytes).
const (
	DemoJobFailedReason = "Failed to connect to Exchange Online for organization contoso.onmicrosoft.com: " +
		"AADSTS7000222: The provided client secret keys for app 'Veeam Backup for Microsoft 365' are expired."
	DemoJobWarningReason = "Processing OneDrive of user megan.bowen@fabrikam.onmicrosoft.com finished with warning: " +
		"14 items were skipped because the file path exceeds 400 characters"
)

// demoSession is one past or running session of a demo job: when it started (before the
// load), how long it took, how it ended, and the notable items of its log.
type demoSession struct {
	ago, took time.Duration
	status    string
	objects   int64
	log       []demoItem
}

type demoItem struct {
	typ, msg string
}

// loadDemoInstallation adds the demo's jobs, sessions, license, repositories and proxies:
// three organizations' backup jobs as an admin would see them one morning.
func (s *Simulator) loadDemoInstallation(now time.Time) {
	must := func(err error) {
		if err != nil {
			panic(err) // demo data is fixed; an error is a bug in this file
		}
	}
	day := 24 * time.Hour
	must(s.SetLicense(License{ID: "1c3b0001-0000-4000-8000-000000000001", Email: "licensing@contoso.com", Type: LicenseSubscription,
		Package: "Veeam Backup for Microsoft 365", LicensedTo: "Contoso Ltd", ContactPerson: "Megan Bowen",
		Expires: now.Add(75 * day), GraceExpires: now.Add(75*day + 30*day), SupportExpires: now.Add(75 * day), SupportID: "02846291",
		TotalUsers: 500, UsedUsers: 481, NewUsers: 3}))
	must(s.AddProxy(Proxy{ID: DemoProxyID, HostName: "vbo-proxy01.contoso.local", Description: "Exchange and OneDrive", CPUPercent: 37.5, MemoryPercent: 61.2}))
	must(s.AddProxy(Proxy{ID: DemoProxyOfflineID, HostName: "vbo-proxy02.contoso.local", Description: "SharePoint and Teams", Status: ProxyOffline}))
	must(s.AddProxy(Proxy{ID: DemoProxyMaintenanceID, HostName: "vbo-proxy03.fabrikam.local", Description: "Fabrikam", Maintenance: MaintenanceEnabled, OS: "Linux", CPUPercent: 3, MemoryPercent: 22.5}))
	must(s.AddRepository(Repository{ID: DemoRepositoryFullID, Name: "Contoso Exchange repository", Path: `E:\VBO\Contoso`, Description: "Local disk on vbo-proxy01",
		CapacityBytes: 4 << 40, FreeSpaceBytes: 300 << 30, ProxyID: DemoProxyID}))
	must(s.AddRepository(Repository{ID: DemoRepositoryID, Name: "Fabrikam and Northwind repository", Path: `F:\VBO\Shared`,
		CapacityBytes: 8 << 40, FreeSpaceBytes: 3 << 40, ProxyID: DemoProxyMaintenanceID}))
	must(s.AddRepository(Repository{ID: DemoRepositoryObjectID, Name: "Azure Blob archive", Description: "Copies of Contoso Exchange",
		ObjectStorageID: "0b5e0001-0000-4000-8000-000000000001", Path: `C:\ProgramData\Veeam\Cache`, LongTerm: true, Encrypted: true, ProxyID: DemoProxyID}))

	ok := func(ago time.Duration, took time.Duration, objects int64) demoSession {
		return demoSession{ago: ago, took: took, status: StatusSuccess, objects: objects}
	}
	daily := func(from, n int, took time.Duration, objects int64) []demoSession {
		var out []demoSession
		for d := from; d < from+n; d++ {
			out = append(out, ok(time.Duration(d)*day+9*time.Hour, took+time.Duration(d%3)*time.Minute, objects+int64(d*37)))
		}
		return out
	}
	type demoJob struct {
		job      Job
		proxy    string
		sessions []demoSession
	}
	jobs := []demoJob{
		{Job{ID: DemoJobFailedID, Name: "Contoso Exchange daily", Description: "All Contoso mailboxes, archives included",
			RepositoryID: DemoRepositoryFullID, OrganizationID: "0e9a0001-0000-4000-8000-000000000001", DailyTime: "22:00:00", NextRun: now.Add(15 * time.Hour)},
			DemoProxyID, append([]demoSession{{ago: 9 * time.Hour, took: 42 * time.Minute, status: StatusFailed, objects: 1260, log: []demoItem{
				{LogSuccess, "Found 1312 mailboxes, 1309 archive mailboxes"},
				{LogWarning, "Exchange Online is throttling requests for organization contoso.onmicrosoft.com (Retry-After: 30); processing slowed down"},
				{LogError, "Failed to process mailbox Finance (finance@contoso.onmicrosoft.com): The remote server returned an error: (401) Unauthorized."},
				{LogError, DemoJobFailedReason},
			}}}, daily(1, 6, 35*time.Minute, 24800)...)},
		{Job{ID: DemoJobWarningID, Name: "Fabrikam OneDrive", BackupType: BackupSelectedItems, RepositoryID: DemoRepositoryID,
			OrganizationID: "0e9a0002-0000-4000-8000-000000000002", DailyTime: "23:00:00", NextRun: now.Add(16 * time.Hour)},
			DemoProxyMaintenanceID, append([]demoSession{{ago: 8 * time.Hour, took: 71 * time.Minute, status: StatusWarning, objects: 58211, log: []demoItem{
				{LogSuccess, "Found 212 OneDrive accounts"},
				{LogWarning, DemoJobWarningReason},
			}}}, daily(1, 6, 64*time.Minute, 57900)...)},
		{Job{ID: DemoJobRunningID, Name: "Northwind SharePoint", RepositoryID: DemoRepositoryID, Schedule: SchedulePeriodically,
			OrganizationID: "0e9a0003-0000-4000-8000-000000000003", NextRun: now.Add(4 * time.Hour)},
			DemoProxyID, []demoSession{{ago: 12 * time.Minute, status: StatusRunning, objects: 7200, log: []demoItem{{LogRunning, "Processing site https://northwind.sharepoint.com/sites/Sales"}}},
				ok(4*time.Hour+12*time.Minute, 14*time.Minute, 5320), ok(8*time.Hour+12*time.Minute, 15*time.Minute, 5290), ok(12*time.Hour+12*time.Minute, 13*time.Minute, 5301)}},
		{Job{ID: DemoJobStaleID, Name: "Fabrikam SharePoint", RepositoryID: DemoRepositoryID, OrganizationID: "0e9a0002-0000-4000-8000-000000000002",
			DailyTime: "21:00:00", NextRun: now.Add(14 * time.Hour)},
			DemoProxyOfflineID, append([]demoSession{
				{ago: day + 10*time.Hour, took: 3 * time.Hour, status: StatusStopped, objects: 310, log: []demoItem{{LogStop, `Job was stopped by user FABRIKAM\backup-admin`}}},
				{ago: 2*day + 10*time.Hour, took: 2 * time.Minute, status: StatusFailed, log: []demoItem{
					{LogError, "Backup proxy vbo-proxy02.contoso.local is unavailable: No connection could be made because the target machine actively refused it 10.0.4.12:9193"}}},
				{ago: 3*day + 10*time.Hour, took: 2 * time.Minute, status: StatusFailed, log: []demoItem{
					{LogError, "Backup proxy vbo-proxy02.contoso.local is unavailable: No connection could be made because the target machine actively refused it 10.0.4.12:9193"}}},
			}, daily(4, 3, 51*time.Minute, 8800)...)},
		{Job{ID: DemoJobCopyID, Name: "Contoso Exchange copy to Azure", Type: JobTypeCopy, RepositoryID: DemoRepositoryObjectID,
			OrganizationID: "0e9a0001-0000-4000-8000-000000000001", Schedule: SchedulePeriodically, NextRun: now.Add(2 * time.Hour)},
			DemoProxyID, daily(0, 5, 18*time.Minute, 6100)},
		{Job{ID: DemoJobDisabledID, Name: "Northwind Exchange (legacy)", Disabled: true, RepositoryID: DemoRepositoryID,
			OrganizationID: "0e9a0003-0000-4000-8000-000000000003", Description: "Replaced by the new tenant's jobs"},
			DemoProxyID, daily(40, 2, 25*time.Minute, 9100)},
		{Job{ID: DemoJobNeverRunID, Name: "Northwind Teams", RepositoryID: DemoRepositoryID, OrganizationID: "0e9a0003-0000-4000-8000-000000000003",
			DailyTime: "23:30:00", NextRun: now.Add(16*time.Hour + 30*time.Minute)}, DemoProxyID, nil},
	}
	for n, dj := range jobs {
		must(s.AddJob(dj.job))
		for k, ds := range dj.sessions {
			must(s.AddJobSession(demoJobSession(dj.job, dj.proxy, n+1, k, ds, now)))
		}
	}
}

// demoJobSession makes session k (0 newest, at most 7) of demo job n, with a log in VB365's
// style. Its ID mixes k up (k*5+3 mod 8), so that the list, in ID order, is not in time order.
func demoJobSession(j Job, proxy string, n, k int, ds demoSession, now time.Time) JobSession {
	if k >= 8 {
		panic("a demo job has at most 8 sessions")
	}
	created := now.Add(-ds.ago)
	js := JobSession{ID: fmt.Sprintf("5e55%04x-%04x-4000-8000-000000000000", n, (k*5+3)%8), JobID: j.ID, CreationTime: created,
		Status: ds.status, ProxyID: proxy, ProcessedObjects: ds.objects, TransferredBytes: ds.objects * 183 << 10,
		Progress: 100, Bottleneck: "Source", ReadRateBytesPS: 48 << 20, WriteRateBytesPS: 21 << 20}
	if ds.status == StatusRunning {
		js.Progress, js.ProcessedObjects, js.TransferredBytes, js.Bottleneck, js.ReadRateBytesPS, js.WriteRateBytesPS = 0, 0, 0, "Detecting", 0, 0
		js.FinishAt, js.FinalStatus = now.Add(18*time.Minute), StatusSuccess
		js.ProgressPerSecond, js.ObjectsPerSecond, js.BytesPerSecond = 100.0/(30*60), 4, 6<<20
	} else {
		js.EndTime = created.Add(ds.took)
		js.ProcessingRateItemsPS = ds.objects / int64(max(ds.took.Seconds(), 1))
	}
	switch ds.status {
	case StatusFailed:
		js.Details, js.RetryCount = "Processing finished with errors", 3
	case StatusWarning:
		js.Details = "Processing finished with warnings"
	}
	at := func(f float64) time.Time {
		end := js.EndTime
		if end.IsZero() {
			end = js.FinishAt
		}
		return created.Add(time.Duration(f * float64(end.Sub(created))))
	}
	js.Log = []LogItem{{Type: LogSuccess, Message: "Job started at " + vbTime(created), CreationTime: created}}
	for i, it := range ds.log {
		js.Log = append(js.Log, LogItem{Type: it.typ, Message: it.msg, CreationTime: at(float64(i+1) / float64(len(ds.log)+1))})
	}
	if ds.status == StatusSuccess || ds.status == StatusRunning {
		end := at(1)
		js.Log = append(js.Log,
			LogItem{Type: LogSuccess, Message: fmt.Sprintf("Processed %d objects", ds.objects), CreationTime: end.Add(-time.Second)},
			LogItem{Type: LogSuccess, Message: "Job finished at " + vbTime(end), CreationTime: end})
	}
	return js
}
