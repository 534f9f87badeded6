package simulator

import "time"

// Messages of the demo logs, in the style of VB365's session logs, so that pages and alerts
// built on the reason can be looked at with something realistic. DemoFailedReason and
// DemoWarningReason are the last Error of the Failed session and the last Warning of the
// Warning session: what a reason picked by "last item of that type" must show.
const (
	DemoFailedReason = "Failed to access Azure storage account vb365archive: Server failed to authenticate the request. " +
		"Make sure the value of Authorization header is formed correctly including the signature. (AuthenticationFailed)"
	DemoWarningReason = "Availability period was changed for 1520 of 1523 items; 3 items of mailbox Sales & Marketing " +
		"<sales@contoso.onmicrosoft.com> could not be updated and keep their current expiration date"
	DemoRunningFailedReason = "Failed to process team Marketing (marketing@contoso.onmicrosoft.com): The remote server " +
		"returned an error: (403) Forbidden. This request is not authorized to perform this operation using this permission. " +
		"(AuthorizationPermissionMismatch)"
	DemoRunningWarningReason = "Failed to retrieve item Documents/Contracts/2023-NDA.pdf of user adele.vance@contoso.onmicrosoft.com: " +
		"The operation is not valid for the object's storage class. (InvalidObjectState)"
)

// vbTime is how VB365 writes times into log messages.
func vbTime(t time.Time) string { return t.Format("1/2/2006 3:04:05 PM") }

// loadDemoLogItems gives the demo's ended and running sessions a log; called by LoadDemoData
// once the sessions exist. Items of a running session are timed across its plan and
// appear as the clock passes them.
func (s *Simulator) loadDemoLogItems() {
	type entry struct {
		at  time.Duration // after the session's creation; negative: before its end
		typ string
		msg string
	}
	// Each log opens as VB365's do, with an item saying what started and when.
	logs := map[string]struct {
		started string
		items   []entry
	}{
		ReferenceSessionID: {"Retrieval session", []entry{
			{2 * time.Second, LogSuccess, "Retrieving data from Azure Blob Storage Archive tier (Standard priority)"},
			{40 * time.Second, LogSuccess, "Processing mailbox: Adele Vance (adele.vance@contoso.onmicrosoft.com)"},
			{-time.Second, LogSuccess, "Processed 37 items (12.4 MB) of 1 mailbox"},
		}},
		DemoFailedID: {"Retrieval session", []entry{
			{3 * time.Second, LogSuccess, "Retrieving data from Azure Blob Storage Archive tier (High priority)"},
			{20 * time.Second, LogSuccess, "Processing team: Finance (finance@contoso.onmicrosoft.com)"},
			{time.Minute, LogWarning, "Azure storage account vb365archive is throttling requests (503 ServerBusy: The server is busy.); retrying in 30 sec"},
			{2 * time.Minute, LogError, "Failed to retrieve item General/Budget 2024.xlsx: This operation is not permitted on an archived blob. (BlobArchived)"},
			{-10 * time.Second, LogError, DemoFailedReason},
		}},
		DemoWarningID: {"Availability period change", []entry{
			{time.Second, LogSuccess, "Changing availability period of retrieved data to 14 days"},
			{10 * time.Second, LogWarning, "Azure storage account vb365archive is throttling requests (503 ServerBusy: The server is busy.); retrying in 10 sec"},
			{-5 * time.Second, LogWarning, DemoWarningReason},
		}},
		DemoStoppedID: {"Retrieval session", []entry{
			{-time.Second, LogStop, "Retrieval session was stopped by user CONTOSO\\backup-admin"},
		}},
		DemoRunningFailedID: {"Retrieval session", []entry{
			{2 * time.Second, LogSuccess, "Retrieving data from Azure Blob Storage Archive tier (High priority)"},
			{time.Minute, LogRunning, "Processing team: Marketing (marketing@contoso.onmicrosoft.com)"},
			{-5 * time.Second, LogError, DemoRunningFailedReason},
		}},
		DemoRunningWarningID: {"Availability period change", []entry{
			{30 * time.Second, LogWarning, "Amazon S3 is throttling requests (503 SlowDown: Please reduce your request rate.); retrying in 5 sec"},
			{-5 * time.Second, LogWarning, DemoRunningWarningReason},
		}},
	}
	for id, log := range logs {
		sess, ok := s.Session(id)
		if !ok {
			panic("demo session " + id + " missing") // demo data is fixed; a bug in this package
		}
		end := sess.EndTime
		if end.IsZero() {
			end = sess.FinishAt
		}
		opening := entry{0, LogSuccess, log.started + " started at " + vbTime(sess.CreationTime)}
		var items []LogItem
		for _, e := range append([]entry{opening}, log.items...) {
			at := sess.CreationTime.Add(e.at)
			if e.at < 0 {
				at = end.Add(e.at)
			}
			items = append(items, LogItem{Type: e.typ, Message: e.msg, CreationTime: at, EndTime: at.Add(time.Second)})
		}
		if err := s.SetLogItems(id, items); err != nil {
			panic(err)
		}
	}
}
