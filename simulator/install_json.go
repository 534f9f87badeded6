package simulator

import "time"

// The encoders below follow each version's schema field for field (see the installation
// subsets of Veeam's documents); what a version lacks it does not get.

func orString(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func schedulePolicyJSON(ver string, j *Job) object {
	typ := orString(j.Schedule, ScheduleDaily)
	o := object{{"scheduleEnabled", typ != ScheduleManualOnly}, {"backupWindowEnabled", false}}
	if ver != "v6" {
		o = append(o, field{"periodicallyWindowEnabled", false})
	}
	o = append(o, field{"type", typ})
	switch typ {
	case SchedulePeriodically:
		o = append(o, field{"periodicallyEvery", "Hours1"})
	case ScheduleDaily:
		o = append(o, field{"dailyType", "Everyday"}, field{"dailyTime", orString(j.DailyTime, "22:00:00")})
	}
	return append(o, field{"retryEnabled", true}, field{"retryNumber", int32(3)}, field{"retryWaitInterval", int32(10)})
}

// jobJSON encodes a job; sum (nil: no sessions) overrides its own last run and status.
func (s *Simulator) jobJSON(ver string, j *Job, sum *jobSummary) object {
	lastRun, lastStatus, lastBackup := j.LastRun, j.LastStatus, j.LastBackup
	if sum != nil && !sum.lastRun.IsZero() {
		lastRun, lastStatus = sum.lastRun, sum.lastStatus
		if !sum.lastBackup.IsZero() {
			lastBackup = sum.lastBackup
		}
	}
	next := j.NextRun
	if j.Disabled || j.Schedule == ScheduleManualOnly {
		next = time.Time{}
	}
	o := object{
		{"description", j.Description},
		{"backupType", orString(j.BackupType, BackupEntireOrg)},
		{"schedulePolicy", schedulePolicyJSON(ver, j)},
		{"id", j.ID},
	}
	if ver == "v8" {
		o = append(o, field{"organizationId", nullable(j.OrganizationID)})
	}
	o = append(o,
		field{"repositoryId", nullable(j.RepositoryID)},
		field{"name", j.Name},
		field{"lastRun", nullableTime(lastRun)},
		field{"nextRun", nullableTime(next)},
	)
	if ver != "v6" {
		o = append(o, field{"lastBackup", nullableTime(lastBackup)})
	}
	o = append(o, field{"isEnabled", !j.Disabled}, field{"lastStatus", nullable(lastStatus)})
	if ver == "v8" {
		o = append(o, field{"eTag", int64(1)})
	}
	sessions := "/" + ver + "/JobSessions?jobId=" + j.ID
	if ver == "v6" {
		sessions = "/v6/Jobs/" + j.ID + "/JobSessions"
	}
	l := links("self", "/"+ver+"/Jobs/"+j.ID)
	if j.RepositoryID != "" {
		l = append(l, links("backupRepository", "/"+ver+"/BackupRepositories/"+j.RepositoryID)...)
	}
	return append(o, field{"_links", append(l, links("jobsessions", sessions)...)})
}

// jobSessionJSON encodes a session; caller holds s.mu (the job gives defaults).
func (s *Simulator) jobSessionJSON(ver string, js *JobSession) object {
	o := object{{"id", js.ID}}
	if ver == "v8" {
		o = append(o, field{"jobId", js.JobID})
	}
	if ver != "v6" {
		repo := js.RepositoryID
		if j, ok := s.job(js.JobID); ok && repo == "" {
			repo = j.RepositoryID
		}
		if repo != "" {
			o = append(o, field{"repositoryId", repo})
		}
		o = append(o, field{"mainSessionId", orString(js.MainSessionID, js.ID)})
	}
	o = append(o, field{"details", nullable(js.Details)}, field{"creationTime", formatTime(js.CreationTime)})
	o = s.unsetTime(o, "endTime", js.EndTime)
	o = append(o, field{"retryCount", js.RetryCount})
	if ver != "v6" {
		o = append(o, field{"jobWillBeRetried", js.WillBeRetried})
	}
	o = append(o, field{"progress", js.Progress})
	if ver != "v6" {
		o = append(o, field{"jobType", s.sessionJobType(js)})
	}
	if ver == "v8" {
		o = append(o, field{"jobSessionConfigType", orString(js.ConfigType, SessionConfigIncremental)})
	}
	rate := js.ProcessingRateBytesPS
	if rate == 0 {
		end := js.EndTime
		if end.IsZero() {
			end = js.advancedAt
		}
		if secs := int64(end.Sub(js.CreationTime).Seconds()); secs > 0 {
			rate = js.TransferredBytes / secs
		}
	}
	o = append(o, field{"status", js.Status}, field{"statistics", object{
		{"processingRateBytesPS", rate},
		{"processingRateItemsPS", js.ProcessingRateItemsPS},
		{"readRateBytesPS", js.ReadRateBytesPS},
		{"writeRateBytesPS", js.WriteRateBytesPS},
		{"transferredDataBytes", js.TransferredBytes},
		{"processedObjects", js.ProcessedObjects},
		{"bottleneck", orString(js.Bottleneck, "NA")},
	}})
	if ver == "v8" {
		o = append(o, field{"eTag", int64(js.Progress) + js.ProcessedObjects + js.CreationTime.Unix()%100000})
	}
	base := "/" + ver + "/JobSessions/" + js.ID
	o = append(o, field{"_links", links("self", base, "job", "/"+ver+"/Jobs/"+js.JobID, "logItems", base+"/LogItems")})
	if ver == "v8" {
		o = append(o, field{"proxyId", nullable(js.ProxyID)}, field{"proxyPoolId", nullable(js.ProxyPoolID)})
	}
	return o
}

func licenseJSON(ver string, l *License, now time.Time) object {
	status := l.Status
	if status == "" {
		status = LicenseValid
		if !l.Expires.IsZero() && !now.Before(l.Expires) {
			status = LicenseExpired
		}
	}
	o := object{{"licenseID", nullable(l.ID)}, {"email", l.Email}, {"status", status}}
	if ver == "v6" {
		o = append(o, field{"expirationDate", nullableTime(l.Expires)}, field{"type", l.Type},
			field{"licensedTo", l.LicensedTo}, field{"contactPerson", l.ContactPerson})
	} else {
		o = append(o, field{"licenseExpires", nullableTime(l.Expires)}, field{"gracePeriodExpires", nullableTime(l.GraceExpires)},
			field{"type", l.Type}, field{"package", l.Package}, field{"licensedTo", l.LicensedTo})
	}
	o = append(o, field{"totalNumber", l.TotalUsers}, field{"usedNumber", l.UsedUsers}, field{"newNumber", l.NewUsers}, field{"supportID", l.SupportID})
	if ver == "v6" {
		o = append(o, field{"supportExpirationDate", nullableTime(l.SupportExpires)})
	}
	return o
}

func repositoryJSON(ver string, r *Repository) object {
	objStore := r.ObjectStorageID != ""
	var encrypted any
	if objStore {
		encrypted = r.Encrypted
	}
	o := object{}
	if ver != "v8" {
		o = append(o, field{"objectStorageId", nullable(r.ObjectStorageID)})
		if objStore {
			o = append(o, field{"objectStorageCachePath", `C:\ProgramData\Veeam\Backup365\Cache\` + r.ObjectStorageID})
		}
	}
	o = append(o,
		field{"objectStorageEncryptionEnabled", encrypted},
		field{"encryptionKeyId", nil},
	)
	if ver != "v8" {
		o = append(o, field{"isOutOfSync", r.OutOfSync})
	}
	o = append(o,
		field{"capacityBytes", r.CapacityBytes},
		field{"freeSpaceBytes", r.FreeSpaceBytes},
		field{"id", r.ID},
		field{"name", r.Name},
		field{"description", r.Description},
		field{"path", r.Path},
		field{"retentionType", "SnapshotBased"},
		field{"retentionPeriodType", "Yearly"},
		field{"dailyRetentionPeriod", nil},
		field{"monthlyRetentionPeriod", nil},
		field{"yearlyRetentionPeriod", orString(r.RetentionYears, "Years3")},
		field{"retentionFrequencyType", "Daily"},
		field{"dailyTime", "00:00:00"},
		field{"dailyType", "Everyday"},
		field{"monthlyTime", "00:00:00"},
		field{"monthlyDaynumber", "First"},
		field{"monthlyDayofweek", "Sunday"},
		field{"proxyId", nullable(r.ProxyID)},
	)
	if ver == "v8" {
		o = append(o, field{"proxyPoolId", nullable(r.ProxyPoolID)}, field{"organizationId", nullable(r.OrganizationID)})
	}
	o = append(o, field{"isLongTerm", r.LongTerm})
	if ver == "v8" {
		o = append(o,
			field{"isOutdated", false},
			field{"isOutOfSync", r.OutOfSync},
			field{"isIndexed", true},
			field{"isMigrationLocked", false},
			field{"isOutOfOrder", r.OutOfOrderReason != ""},
			field{"outOfOrderReason", nullable(r.OutOfOrderReason)},
		)
	}
	o = append(o, field{"_links", links("self", "/"+ver+"/BackupRepositories/"+r.ID)})
	if ver == "v8" && objStore {
		o = append(o, field{"objectStorage", object{{"id", r.ObjectStorageID}, {"type", "AzureBlob"},
			{"sizeLimitEnabled", false}, {"usedSpaceBytes", r.CapacityBytes - r.FreeSpaceBytes}, {"freeSpaceBytes", nil}}})
	}
	return o
}

// proxyJSON encodes a proxy; extended (v6/v7 extendedView) adds what only an online proxy
// can tell.
func proxyJSON(ver string, p *Proxy, extended bool) object {
	status := orString(p.Status, ProxyOnline)
	o := object{{"type", orString(p.Type, "Domain")}, {"useInternetProxy", false}}
	if ver == "v8" {
		o = append(o, field{"operatingSystem", orString(p.OS, "Windows")})
	}
	o = append(o, field{"id", p.ID})
	if ver == "v8" {
		o = append(o, field{"proxyPoolId", nullable(p.ProxyPoolID)})
	}
	o = append(o, field{"hostName", p.HostName})
	if ver != "v6" {
		o = append(o, field{"fqdn", orString(p.FQDN, p.HostName)})
	}
	port := p.Port
	if port == 0 {
		port = 9193
	}
	o = append(o, field{"description", p.Description}, field{"port", port})
	full := extended && status == ProxyOnline && ver != "v8"
	if full {
		threads := p.Threads
		if threads == 0 {
			threads = 64
		}
		o = append(o, field{"threadsNumber", threads})
	}
	o = append(o, field{"enableNetworkThrottling", false})
	if full {
		o = append(o, field{"throttlingValue", int64(0)}, field{"throttlingUnit", "Mbps"})
	}
	o = append(o, field{"status", status})
	if ver == "v8" {
		var cpu, mem any
		if status == ProxyOnline {
			cpu, mem = p.CPUPercent, p.MemoryPercent
		}
		o = append(o,
			field{"maintenanceModeState", orString(p.Maintenance, MaintenanceDisabled)},
			field{"cpuUsagePercent", cpu},
			field{"memoryUsagePercent", mem},
			field{"version", nullable(orString(p.Version, "8.0.3.1044"))},
			field{"serviceAccount", nil},
			field{"role", []string{"Processor"}},
		)
	}
	return append(o, field{"_links", links("self", "/"+ver+"/Proxies/"+p.ID)})
}
