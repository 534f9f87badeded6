package collector

// Family is one metric family the exporter serves. Labels are sorted by name: every series
// of the family carries them in this order, as the text format writes them.
type Family struct {
	Name, Help string
	Labels     []string
}

const namespace = "vb365"

// The families, in one table: a metric is added or changed here and in build.go, nowhere else.
var (
	upFamily = &Family{namespace + "_up",
		"1 when the exporter authenticated and the VB365 REST API answered during this scrape, else 0.",
		[]string{"server"}}
	scrapeDurationFamily = &Family{namespace + "_scrape_duration_seconds",
		"Time this scrape spent reading the VB365 server.",
		[]string{"server"}}
	scrapeSuccessFamily = &Family{namespace + "_data_retrieval_session_scrape_success",
		"1 when the data retrieval session's data was read, else 0 (not found, error, timeout). " +
			"A finished session (terminal status and an end time) is served from the exporter's cache for cache_ttl before it is read again; a running one is read every scrape.",
		[]string{"server", "session_id"}}
	infoFamily = &Family{namespace + "_data_retrieval_session_info",
		"Data retrieval session metadata: name, ID of the retrieval job (retrievalId) and session type (Retrieve, RetrievalChangeAvailabilityPeriodDays, RetrievalRemoving). Always 1.",
		[]string{"name", "retrieval_id", "server", "session_id", "type"}}
	statusFamily = &Family{namespace + "_data_retrieval_session_status",
		"Status of the data retrieval session as a state set: 1 for the current status (Stopped, Running, Success, Failed, Warning, NotConfigured), 0 for the others.",
		[]string{"server", "session_id", "status"}}
	progressFamily = &Family{namespace + "_data_retrieval_session_progress",
		"Progress of the data retrieval session as VB365 reports it: the number of objects processed during the session (a count, not a percentage).",
		[]string{"server", "session_id"}}
	processedFamily = &Family{namespace + "_data_retrieval_session_processed_objects",
		"Number of items processed by the retrieval job (processedObjects).",
		[]string{"server", "session_id"}}
	durationFamily = &Family{namespace + "_data_retrieval_session_duration_seconds",
		"Duration of the data retrieval session: endTime - creationTime, or now - creationTime while it has not ended.",
		[]string{"server", "session_id"}}
	creationFamily = &Family{namespace + "_data_retrieval_session_creation_timestamp_seconds",
		"When the data retrieval session was created (creationTime), in Unix seconds.",
		[]string{"server", "session_id"}}
	endFamily = &Family{namespace + "_data_retrieval_session_end_timestamp_seconds",
		"When the data retrieval session ended (endTime), in Unix seconds; absent while it has not ended.",
		[]string{"server", "session_id"}}
	reasonFamily = &Family{namespace + "_data_retrieval_session_reason_info",
		"Why a data retrieval session ended Failed or Warning: the last log item of type Error (Failed) or Warning (Warning), falling back to the other type; message collapsed, scrubbed and cut at 200 bytes. Always 1; absent when the log has no such item or was not read yet.",
		[]string{"log_type", "message", "server", "session_id"}}
	logItemsFamily = &Family{namespace + "_data_retrieval_session_log_items",
		"Number of log items of type Warning and Error of a data retrieval session that ended Failed or Warning; absent until its log was read.",
		[]string{"server", "session_id", "type"}}

	retrievalInfoFamily = &Family{namespace + "_data_retrieval_info",
		"Data retrieval job metadata: name, type (Exchange, OneDrive, SharePoint, Teams) and data state (Retrieving, Retrieved, ChangingAvailabilityPeriod, Removing). Always 1. Join on retrieval_id with vb365_data_retrieval_session_info.",
		[]string{"data_state", "name", "retrieval_id", "server", "type"}}
	retrievalLastStatusFamily = &Family{namespace + "_data_retrieval_last_status",
		"Status of the data retrieval job's latest session as a state set: 1 for the current status (Stopped, Running, Success, Failed, Warning, NotConfigured), 0 for the others.",
		[]string{"retrieval_id", "server", "status"}}
	retrievalExpirationFamily = &Family{namespace + "_data_retrieval_expiration_timestamp_seconds",
		"When the retrieved data stops being available (expirationTime), in Unix seconds; absent when it has no expiration.",
		[]string{"retrieval_id", "server"}}
	retrievalsDroppedFamily = &Family{namespace + "_data_retrievals_dropped",
		"Data retrievals the server listed in this scrape beyond max_retrievals; they are not exported. Absent when the data retrievals could not be read or there are none.",
		[]string{"server"}}

	collectorSuccessFamily = &Family{namespace + "_collector_success",
		"1 when the collector (a kind the exporter reads, or the session logs) succeeded in this scrape, else 0. A failed collector never takes vb365_up down; the landing page and the log say why.",
		[]string{"collector", "server"}}
	collectorDurationFamily = &Family{namespace + "_collector_duration_seconds",
		"Time the collector spent in this scrape.",
		[]string{"collector", "server"}}

	discoverySessionsFamily = &Family{namespace + "_discovery_sessions",
		"Sessions selected by session discovery in this scrape (after the max_sessions guard), including configured ones it also found. Absent when discovery is off or the session list could not be read.",
		[]string{"server"}}
	discoveryDroppedFamily = &Family{namespace + "_discovery_sessions_dropped",
		"Sessions discovery selected in this scrape but dropped because there were more than max_sessions; the oldest are dropped. Absent when discovery is off or the session list could not be read.",
		[]string{"server"}}
	discoverySuccessFamily = &Family{namespace + "_discovery_scrape_success",
		"1 when session discovery read the session list in this scrape, else 0. Absent when discovery is off.",
		[]string{"server"}}
)

var families = []*Family{upFamily, scrapeDurationFamily, scrapeSuccessFamily, infoFamily, statusFamily,
	progressFamily, processedFamily, durationFamily, creationFamily, endFamily, reasonFamily, logItemsFamily,
	retrievalInfoFamily, retrievalLastStatusFamily, retrievalExpirationFamily, retrievalsDroppedFamily,
	discoverySessionsFamily, discoveryDroppedFamily, discoverySuccessFamily, collectorSuccessFamily, collectorDurationFamily}

// Families lists every family the collector can serve, for documentation and dashboard tests.
func Families() []Family {
	out := make([]Family, len(families))
	for i, f := range families {
		out[i] = *f
	}
	return out
}
