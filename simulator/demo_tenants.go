package simulator

import "time"

// IDs of the demo organizations (the organizationId of the demo jobs) and restore sessions.
const (
	DemoOrgContosoID   = "0e9a0001-0000-4000-8000-000000000001"
	DemoOrgFabrikamID  = "0e9a0002-0000-4000-8000-000000000002" // has users that are not backed up
	DemoOrgNorthwindID = "0e9a0003-0000-4000-8000-000000000003"
	DemoOrgTailspinID  = "0e9a0004-0000-4000-8000-000000000004" // added yesterday, never backed up

	DemoRestoreSuccessID = "4e570001-0000-4000-8000-000000000001" // Contoso mail, by the helpdesk
	DemoRestoreWarningID = "4e570002-0000-4000-8000-000000000002" // Fabrikam OneDrive, through the Restore Portal
	DemoRestoreFailedID  = "4e570003-0000-4000-8000-000000000003" // Contoso SharePoint, by the backup admin
	DemoRestoreRunningID = "4e570004-0000-4000-8000-000000000004" // Northwind Teams, ends Success 6 minutes after loading
	DemoRestoreOldID     = "4e570005-0000-4000-8000-000000000005" // three days ago: history
)

// DemoRestoreFailedDetails is the details of the demo's Failed restore.
const DemoRestoreFailedDetails = "Failed to restore site https://contoso.sharepoint.com/sites/Legal: Access denied. " +
	"You do not have permission to perform this action or access this resource."

// loadDemoTenants adds the organizations of the demo jobs and a fourth one, and restores as a
// security team would review them: each result, one running, by different operators.
func (s *Simulator) loadDemoTenants(now time.Time) {
	must := func(err error) {
		if err != nil {
			panic(err) // demo data is fixed; an error is a bug in this file
		}
	}
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	first := ago(420 * 24 * time.Hour)
	// 262 + 137 + 82 users are the 481 the demo license counts.
	for _, o := range []Organization{
		{ID: DemoOrgContosoID, Name: "contoso.onmicrosoft.com", Description: "Contoso Ltd", MSID: "6c0b0001-0000-4000-8000-000000000001",
			FirstBackup: first, LastBackup: ago(8*time.Hour + 18*time.Minute), LicensedUsers: 262, NewUsers: 2, ProtectedUsers: 262,
			Repositories: []UsedRepository{{RepositoryID: DemoRepositoryFullID, UsedBytes: 3700 << 30},
				{RepositoryID: DemoRepositoryObjectID, ObjectStorage: true, UsedBytes: 12 << 30, ObjectStorageBytes: 1900 << 30, ProtectedObjects: 1312}}},
		{ID: DemoOrgFabrikamID, Name: "fabrikam.onmicrosoft.com", Description: "Fabrikam, Inc.", MSID: "6c0b0002-0000-4000-8000-000000000002",
			FirstBackup: first.Add(90 * 24 * time.Hour), LastBackup: ago(6*time.Hour + 49*time.Minute), LicensedUsers: 137, NewUsers: 1,
			ProtectedUsers: 128, UnprotectedUsers: 9, Repositories: []UsedRepository{{RepositoryID: DemoRepositoryID, UsedBytes: 2100 << 30}}},
		{ID: DemoOrgNorthwindID, Name: "northwind.onmicrosoft.com", Type: OrgHybrid, MSID: "6c0b0003-0000-4000-8000-000000000003",
			FirstBackup: first.Add(200 * 24 * time.Hour), LastBackup: ago(4 * time.Hour), LicensedUsers: 82, ProtectedUsers: 82,
			Repositories: []UsedRepository{{RepositoryID: DemoRepositoryID, UsedBytes: 900 << 30}}},
		{ID: DemoOrgTailspinID, Name: "tailspintoys.onmicrosoft.com", Description: "Onboarding"},
	} {
		must(s.AddOrganization(o))
	}
	for _, rs := range []RestoreSession{
		{ID: DemoRestoreSuccessID, Name: "Exchange restore", Organization: "contoso.onmicrosoft.com", Type: RestoreExchange,
			CreationTime: ago(50 * time.Minute), EndTime: ago(44 * time.Minute), Result: StatusSuccess, InitiatedBy: `CONTOSO\helpdesk.jane`,
			ClientHost: "vbo-console01.contoso.local", Reason: "Deleted mail of finance@contoso.com (INC-20417)"},
		{ID: DemoRestoreWarningID, Name: "OneDrive restore", Organization: "fabrikam.onmicrosoft.com", Type: RestoreOneDrive,
			CreationTime: ago(35 * time.Minute), EndTime: ago(31 * time.Minute), Result: StatusWarning, InitiatedBy: "adele.vance@fabrikam.onmicrosoft.com",
			ScopeName: "Fabrikam self-service", ClientHost: "restore.fabrikam.com", Details: "2 items were skipped: the file path exceeds 400 characters"},
		{ID: DemoRestoreFailedID, Name: "SharePoint restore", Organization: "contoso.onmicrosoft.com", Type: RestoreSharePoint,
			CreationTime: ago(22 * time.Minute), EndTime: ago(20 * time.Minute), Result: StatusFailed, InitiatedBy: `CONTOSO\backup-admin`,
			ClientHost: "vbo-console01.contoso.local", Details: DemoRestoreFailedDetails, Reason: "Legal hold review"},
		{ID: DemoRestoreRunningID, Name: "Teams restore", Organization: "northwind.onmicrosoft.com", Type: RestoreTeams,
			CreationTime: ago(4 * time.Minute), Result: StatusSuccess, InitiatedBy: `NORTHWIND\it.operator`, ClientHost: "nw-admin07.northwind.local",
			Reason: "Channel Sales deleted by mistake", FinishAt: now.Add(6 * time.Minute), FinalResult: StatusSuccess},
		{ID: DemoRestoreOldID, Name: "Exchange restore", Organization: "fabrikam.onmicrosoft.com", Type: RestoreExchange,
			CreationTime: ago(72 * time.Hour), EndTime: ago(72*time.Hour - 3*time.Minute), Result: StatusSuccess, InitiatedBy: `FABRIKAM\helpdesk`,
			ClientHost: "vbo-console02.fabrikam.local"},
	} {
		must(s.AddRestoreSession(rs))
	}
}
