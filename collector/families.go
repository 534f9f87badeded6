package collector

import (
	"strconv"

	"github.com/vb365-exporter/vb365_exporter/server"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

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
		"The session's progress exactly as VB365 reports it (progress). Veeam's API reference documents it as the number of objects processed during the session: a count, not a percentage.",
		[]string{"server", "session_id"}}
	processedFamily = &Family{namespace + "_data_retrieval_session_processed_objects",
		"Number of items processed by the retrieval job (processedObjects): a count.",
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
		"Why a data retrieval session ended Failed or Warning: the last log item of type Error (Failed) or Warning (Warning), falling back to the other type (v6/v7 items without a type by their words); message collapsed, scrubbed and cut at " + strconv.Itoa(vb365.MaxReasonBytes) + " bytes, ending \"(log cut)\" when the log was longer than read. A log that could not be read gives log_type=\"\" and message \"log could not be read: <why>\". Always 1; absent when the log has no such item or was not read yet.",
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

	jobInfoFamily = &Family{namespace + "_job_info",
		"Backup or copy job metadata: name, backup type (EntireOrganization, SelectedItems) and the ID of its repository. Always 1.",
		[]string{"backup_type", "job_id", "name", "repository_id", "server"}}
	jobEnabledFamily = &Family{namespace + "_job_enabled",
		"1 when the job is enabled (isEnabled), else 0.",
		[]string{"job_id", "server"}}
	jobLastRunFamily = &Family{namespace + "_job_last_run_timestamp_seconds",
		"When the job last ran (lastRun), in Unix seconds; absent when the server gives none.",
		[]string{"job_id", "server"}}
	jobNextRunFamily = &Family{namespace + "_job_next_run_timestamp_seconds",
		"When the job runs next (nextRun), in Unix seconds; absent when the server gives none.",
		[]string{"job_id", "server"}}
	jobLastStatusFamily = &Family{namespace + "_job_last_session_status",
		"Status of the job's latest finished session as a state set: 1 for its status (Stopped, Running, Success, Failed, Warning, NotConfigured, Disconnected, Queued), 0 for the others. Absent when the job has no finished session on record.",
		[]string{"job_id", "server", "status"}}
	jobLastEndFamily = &Family{namespace + "_job_last_session_end_timestamp_seconds",
		"When the job's latest finished session ended, in Unix seconds.",
		[]string{"job_id", "server"}}
	jobLastDurationFamily = &Family{namespace + "_job_last_session_duration_seconds",
		"Duration of the job's latest finished session: endTime - creationTime.",
		[]string{"job_id", "server"}}
	jobLastTransferredFamily = &Family{namespace + "_job_last_session_transferred_bytes",
		"Bytes the job's latest finished session transferred (statistics.transferredDataBytes).",
		[]string{"job_id", "server"}}
	jobLastProcessedFamily = &Family{namespace + "_job_last_session_processed_objects",
		"Objects the job's latest finished session processed (statistics.processedObjects).",
		[]string{"job_id", "server"}}
	jobLastRetriesFamily = &Family{namespace + "_job_last_session_retries",
		"Retries of the job's latest finished session (retryCount).",
		[]string{"job_id", "server"}}
	jobReasonFamily = &Family{namespace + "_job_last_session_reason_info",
		"Why the job's latest finished session ended Failed or Warning: the last log item of type Error (Failed) or Warning (Warning), falling back to the other type (v6/v7 items without a type by their words); message collapsed, scrubbed and cut at " + strconv.Itoa(vb365.MaxReasonBytes) + " bytes, ending \"(log cut)\" when the log was longer than read. A log that could not be read gives log_type=\"\" and message \"log could not be read: <why>\". Always 1; absent when the log has no such item or was not read yet.",
		[]string{"job_id", "log_type", "message", "server", "session_id"}}
	jobLastSuccessFamily = &Family{namespace + "_job_last_success_timestamp_seconds",
		"When the job's latest session that ended Success or Warning ended, in Unix seconds; absent when the server keeps none.",
		[]string{"job_id", "server"}}
	jobRunningProgressFamily = &Family{namespace + "_job_running_session_progress",
		"Progress of the job's running session, in percent; absent when none runs.",
		[]string{"job_id", "server"}}
	jobRunningDurationFamily = &Family{namespace + "_job_running_session_duration_seconds",
		"How long the job's running session has run: now - creationTime; absent when none runs.",
		[]string{"job_id", "server"}}
	jobRunningTransferredFamily = &Family{namespace + "_job_running_session_transferred_bytes",
		"Bytes the job's running session transferred so far; absent when none runs.",
		[]string{"job_id", "server"}}
	jobRunningRateFamily = &Family{namespace + "_job_running_session_processing_rate_bytes_per_second",
		"Processing rate of the job's running session (statistics.processingRateBytesPS); absent when none runs.",
		[]string{"job_id", "server"}}
	jobsDroppedFamily = &Family{namespace + "_jobs_dropped",
		"Jobs the server listed in this scrape beyond max_jobs; they are not exported. Absent when the jobs could not be read.",
		[]string{"server"}}
	jobSessionListsTruncatedFamily = &Family{namespace + "_job_session_lists_truncated",
		"Jobs whose session list was longer than one scrape reads (20,000 sessions); their latest sessions come from the part read. Absent when the jobs could not be read.",
		[]string{"server"}}

	licenseStatusFamily = &Family{namespace + "_license_status",
		"Status of the license as a state set: 1 for its status (Valid, Expired), 0 for the other.",
		[]string{"server", "status"}}
	licenseInfoFamily = &Family{namespace + "_license_info",
		"License metadata: type (Subscription, Evaluation, NFR, Rental, Community, ...) and whom it is licensed to. Always 1.",
		[]string{"licensed_to", "server", "type"}}
	licenseExpirationFamily = &Family{namespace + "_license_expiration_timestamp_seconds",
		"When the license expires (expirationDate in v6, licenseExpires from v7 on), in Unix seconds; absent when it has no expiry.",
		[]string{"server"}}
	licenseLicensedFamily = &Family{namespace + "_license_licensed_users",
		"Users the license covers (totalNumber).",
		[]string{"server"}}
	licenseUsedFamily = &Family{namespace + "_license_used_users",
		"Users the license covers that are in use (usedNumber).",
		[]string{"server"}}

	repositoryInfoFamily = &Family{namespace + "_repository_info",
		"Backup repository metadata: name. Always 1.",
		[]string{"name", "repository_id", "server"}}
	repositoryCapacityFamily = &Family{namespace + "_repository_capacity_bytes",
		"Capacity of the backup repository (capacityBytes); 0 when the server reports none, as object storage repositories may.",
		[]string{"repository_id", "server"}}
	repositoryFreeFamily = &Family{namespace + "_repository_free_bytes",
		"Free space of the backup repository (freeSpaceBytes); 0 when the server reports none.",
		[]string{"repository_id", "server"}}
	repositoryOutOfSyncFamily = &Family{namespace + "_repository_out_of_sync",
		"1 when the backup repository is out of sync (isOutOfSync), else 0.",
		[]string{"repository_id", "server"}}
	repositoriesDroppedFamily = &Family{namespace + "_repositories_dropped",
		"Backup repositories the server listed beyond the exporter's bound (" + strconv.Itoa(server.MaxRepositories) + "); they are not exported. Absent when they could not be read or there are none.",
		[]string{"server"}}

	proxyInfoFamily = &Family{namespace + "_proxy_info",
		"Backup proxy metadata: host name. Always 1.",
		[]string{"host", "proxy_id", "server"}}
	proxyStatusFamily = &Family{namespace + "_proxy_status",
		"Status of the backup proxy as a state set: 1 for its status (Online, Offline), 0 for the other.",
		[]string{"proxy_id", "server", "status"}}
	proxyMaintenanceFamily = &Family{namespace + "_proxy_maintenance_mode",
		"1 when the backup proxy is in maintenance mode or entering it (maintenanceModeState Enabled or Enabling), else 0; absent when the API version does not say (v6, v7).",
		[]string{"proxy_id", "server"}}
	proxyCPUFamily = &Family{namespace + "_proxy_cpu_usage_ratio",
		"CPU usage of the backup proxy, 0 to 1 (cpuUsagePercent / 100); absent when the API version does not say (v6, v7).",
		[]string{"proxy_id", "server"}}
	proxyMemoryFamily = &Family{namespace + "_proxy_memory_usage_ratio",
		"Memory usage of the backup proxy, 0 to 1 (memoryUsagePercent / 100); absent when the API version does not say (v6, v7).",
		[]string{"proxy_id", "server"}}
	proxiesDroppedFamily = &Family{namespace + "_proxies_dropped",
		"Backup proxies the server listed beyond the exporter's bound (" + strconv.Itoa(server.MaxProxies) + "); they are not exported. Absent when they could not be read or there are none.",
		[]string{"server"}}

	organizationInfoFamily = &Family{namespace + "_organization_info",
		"Organization metadata: name and type (Office365, OnPremises, Hybrid). Always 1.",
		[]string{"name", "organization_id", "server", "type"}}
	organizationLastBackupFamily = &Family{namespace + "_organization_last_backup_timestamp_seconds",
		"When the organization was last backed up (lastBackuptime, read with extendedView), in Unix seconds; absent when never, or when the server does not say (its proxy offline).",
		[]string{"organization_id", "server"}}
	organizationLicensedFamily = &Family{namespace + "_organization_licensed_users",
		"Licenses the organization's users consume (LicensingInformation licensedUsers, including users beyond the license). Read in the background every organizations_refresh; absent until read.",
		[]string{"organization_id", "server"}}
	organizationNewFamily = &Family{namespace + "_organization_new_users",
		"The organization's users in the new-user state of a rental license (LicensingInformation newUsers; 0 with a subscription). Read in the background every organizations_refresh; absent until read.",
		[]string{"organization_id", "server"}}
	organizationUsersFamily = &Family{namespace + "_organization_users",
		"The organization's licensed users by state: protected (isBackedUp true) or unprotected (false), counted in the background every organizations_refresh from one streamed pass over LicensedUsers (at most " + strconv.Itoa(server.MaxLicensedUsers) + " users); the counts of the last pass that succeeded, as of vb365_organization_users_last_read_timestamp_seconds. Absent until the first pass succeeded.",
		[]string{"organization_id", "server", "state"}}
	organizationUsedFamily = &Family{namespace + "_organization_used_bytes",
		"Bytes the organization's backups take on the repository's own storage (usedSpaceBytes; on an object storage repository, which sends that null, its local cache, localCacheUsedSpaceBytes). Absent when the server sends neither. Read in the background every organizations_refresh.",
		[]string{"organization_id", "repository_id", "server"}}
	organizationObjectStorageFamily = &Family{namespace + "_organization_object_storage_used_bytes",
		"Bytes the organization's backups take in the repository's object storage (objectStorageUsedSpaceBytes); absent for a repository without object storage. Added to vb365_organization_used_bytes, it is all the organization takes. Read in the background every organizations_refresh.",
		[]string{"organization_id", "repository_id", "server"}}
	organizationUsersReadFamily = &Family{namespace + "_organization_users_last_read_timestamp_seconds",
		"When the licensed users behind vb365_organization_users were last counted, in Unix seconds. It stops moving while the background read fails (vb365_collector_success{collector=\"organizations\"} is then 0); absent until the first count.",
		[]string{"server"}}
	organizationsDroppedFamily = &Family{namespace + "_organizations_dropped",
		"Organizations the server listed beyond the exporter's bound (" + strconv.Itoa(server.MaxOrganizations) + "); they are not exported. Absent when they could not be read or there are none.",
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

	restoreTotalFamily = &Family{namespace + "_restore_sessions_total",
		"Restores seen ending while the exporter runs, each counted once, by organization (name), type (Exchange, OneDrive, SharePoint, Teams, or the code as sent) and result (Success, Warning, Failed); restores that ended before it started are history and not counted, so a restart is no burst to increase(). An organization/type has all three results from when it is first seen. At most " + strconv.Itoa(server.MaxRestoreLabelSets) + " label sets; restores of others are counted in vb365_restore_sessions_dropped.",
		[]string{"organization", "result", "server", "type"}}
	restoreRecentFamily = &Family{namespace + "_restore_sessions_recent",
		"Restores that ended within restore_window (default 1h), from the server's own history, so that it survives a restart; by organization, type and result. At most " + strconv.Itoa(server.MaxRecentRestores) + " restores are kept.",
		[]string{"organization", "result", "server", "type"}}
	restoreRunningFamily = &Family{namespace + "_restore_sessions_running",
		"Restores running now, by organization, type and the operator who started them (initiatedBy, scrubbed and cut). At most " + strconv.Itoa(server.MaxRunningRestores) + " running restores are followed.",
		[]string{"initiated_by", "organization", "server", "type"}}
	restoreDroppedFamily = &Family{namespace + "_restore_sessions_dropped",
		"Restores that ended while the exporter runs but are in no vb365_restore_sessions_total series, because " + strconv.Itoa(server.MaxRestoreLabelSets) + " organization/type/result label sets were taken. Absent until the restores were read.",
		[]string{"server"}}
)

var families = []*Family{upFamily, scrapeDurationFamily, scrapeSuccessFamily, infoFamily, statusFamily,
	progressFamily, processedFamily, durationFamily, creationFamily, endFamily, reasonFamily, logItemsFamily,
	retrievalInfoFamily, retrievalLastStatusFamily, retrievalExpirationFamily, retrievalsDroppedFamily,
	discoverySessionsFamily, discoveryDroppedFamily, discoverySuccessFamily, collectorSuccessFamily, collectorDurationFamily,
	jobInfoFamily, jobEnabledFamily, jobLastRunFamily, jobNextRunFamily, jobLastStatusFamily, jobLastEndFamily,
	jobLastDurationFamily, jobLastTransferredFamily, jobLastProcessedFamily, jobLastRetriesFamily, jobReasonFamily,
	jobLastSuccessFamily, jobRunningProgressFamily, jobRunningDurationFamily, jobRunningTransferredFamily,
	jobRunningRateFamily, jobsDroppedFamily, jobSessionListsTruncatedFamily,
	licenseStatusFamily, licenseInfoFamily, licenseExpirationFamily, licenseLicensedFamily, licenseUsedFamily,
	repositoryInfoFamily, repositoryCapacityFamily, repositoryFreeFamily, repositoryOutOfSyncFamily, repositoriesDroppedFamily,
	proxyInfoFamily, proxyStatusFamily, proxyMaintenanceFamily, proxyCPUFamily, proxyMemoryFamily, proxiesDroppedFamily,
	organizationInfoFamily, organizationLastBackupFamily, organizationLicensedFamily, organizationNewFamily, organizationUsersFamily,
	organizationUsedFamily, organizationObjectStorageFamily, organizationUsersReadFamily, organizationsDroppedFamily,
	restoreTotalFamily, restoreRecentFamily, restoreRunningFamily, restoreDroppedFamily}

// Families lists every family the collector can serve, for documentation and dashboard tests.
func Families() []Family {
	out := make([]Family, len(families))
	for i, f := range families {
		out[i] = *f
	}
	return out
}
