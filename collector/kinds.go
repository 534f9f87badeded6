package collector

import (
	"slices"
	"time"

	"github.com/go-kit/log"
	dto "github.com/prometheus/client_model/go"

	"github.com/vb365-exporter/vb365_exporter/server"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

var (
	lJobID, lBackupType, lRepositoryID = "job_id", "backup_type", "repository_id"
	lLicensedTo, lProxyID, lHost       = "licensed_to", "proxy_id", "host"
)

// stateSet makes the label pairs of a state set's members, in name order.
func stateSet(values ...string) []*dto.LabelPair {
	values = slices.Sorted(slices.Values(values))
	pairs := make([]*dto.LabelPair, len(values))
	for i := range values {
		pairs[i] = &dto.LabelPair{Name: &lStatus, Value: &values[i]}
	}
	return pairs
}

var (
	jobStatusPairs     = stateSet(vb365.JobStatuses...)
	licenseStatusPairs = stateSet("Valid", "Expired")
	proxyStatusPairs   = stateSet("Online", "Offline")
)

// addStates adds one series per member of a state set: 1 for the value, 0 for the others.
// A value outside the set (a newer server's, or a hostile one's) is logged once.
func (b *builder) addStates(f *Family, pairs []*dto.LabelPair, value string, logger log.Logger, before ...*dto.LabelPair) {
	known := false
	for _, p := range pairs {
		known = known || *p.Value == value
		b.add(f, boolFloat(*p.Value == value), append(slices.Clone(before), p)...)
	}
	if !known {
		unknownStatuses.warn(logger, "unknown status; all series of the state set are 0", "status", value, "metric", f.Name)
	}
}

// installation adds the series of the installation's kinds: each absent when its kind was
// not read, each value absent when the server gives none.
func (b *builder) installation(s *server.Snapshot, now time.Time, serverPair *dto.LabelPair, logger log.Logger) {
	for _, r := range byID(s.Jobs, func(r server.JobResult) vb365.ID { return r.Job.ID }) {
		j := &r.Job
		id := b.pair(&lJobID, string(j.ID))
		labels := b.set(id, serverPair)
		b.add(jobInfoFamily, 1, b.pair(&lBackupType, j.BackupType), id, b.pair(&lName, j.Name), b.pair(&lRepositoryID, string(j.RepositoryID)), serverPair)
		b.addSet(jobEnabledFamily, boolFloat(j.Enabled), labels)
		b.addTime(jobLastRunFamily, j.LastRun, labels)
		b.addTime(jobNextRunFamily, j.NextRun, labels)
		b.addTime(jobLastSuccessFamily, r.LastSuccessEnd, labels)
		if l := r.LastFinished; l != nil {
			b.addStates(jobLastStatusFamily, jobStatusPairs, l.Status, logger, id, serverPair)
			b.addTime(jobLastEndFamily, l.EndTime, labels)
			b.addSet(jobLastDurationFamily, l.Duration(now).Seconds(), labels)
			b.addSet(jobLastTransferredFamily, float64(l.TransferredBytes), labels)
			b.addSet(jobLastProcessedFamily, float64(l.ProcessedObjects), labels)
			b.addSet(jobLastRetriesFamily, float64(l.RetryCount), labels)
			if r.Log != nil && r.Log.Reason != nil {
				why := r.Log.Reason
				b.add(jobReasonFamily, 1, id, b.pair(&lLogType, why.Type), b.pair(&lMessage, why.Message), serverPair, b.pair(&lSessionID, string(l.ID)))
			}
		}
		if run := r.Running; run != nil {
			b.addSet(jobRunningProgressFamily, float64(run.Progress), labels)
			b.addSet(jobRunningDurationFamily, run.Duration(now).Seconds(), labels)
			b.addSet(jobRunningTransferredFamily, float64(run.TransferredBytes), labels)
			b.addSet(jobRunningRateFamily, float64(run.ProcessingRate), labels)
		}
	}
	if s.Jobs != nil {
		b.add(jobsDroppedFamily, float64(s.JobsDropped), serverPair)
		b.add(jobSessionListsTruncatedFamily, float64(s.JobSessionsTruncated), serverPair)
	}

	if l := s.License; l != nil {
		b.add(licenseInfoFamily, 1, b.pair(&lLicensedTo, l.LicensedTo), serverPair, b.pair(&lType, l.Type))
		b.addStates(licenseStatusFamily, licenseStatusPairs, l.Status, logger, serverPair)
		b.addTime(licenseExpirationFamily, l.Expires, b.set(serverPair))
		b.add(licenseLicensedFamily, float64(l.Licensed), serverPair)
		b.add(licenseUsedFamily, float64(l.Used), serverPair)
	}

	for _, r := range byID(s.Repositories, func(r vb365.Repository) vb365.ID { return r.ID }) {
		id := b.pair(&lRepositoryID, string(r.ID))
		labels := b.set(id, serverPair)
		b.add(repositoryInfoFamily, 1, b.pair(&lName, r.Name), id, serverPair)
		b.addSet(repositoryCapacityFamily, float64(r.CapacityBytes), labels)
		b.addSet(repositoryFreeFamily, float64(r.FreeBytes), labels)
		b.addSet(repositoryOutOfSyncFamily, boolFloat(r.OutOfSync), labels)
	}
	if len(s.Repositories) > 0 || s.RepositoriesDropped > 0 {
		b.add(repositoriesDroppedFamily, float64(s.RepositoriesDropped), serverPair)
	}

	for _, p := range byID(s.Proxies, func(p vb365.Proxy) vb365.ID { return p.ID }) {
		id := b.pair(&lProxyID, string(p.ID))
		labels := b.set(id, serverPair)
		b.add(proxyInfoFamily, 1, b.pair(&lHost, p.Host), id, serverPair)
		b.addStates(proxyStatusFamily, proxyStatusPairs, p.Status, logger, id, serverPair)
		switch p.Maintenance {
		case "Enabled", "Enabling":
			b.addSet(proxyMaintenanceFamily, 1, labels)
		case "Disabled":
			b.addSet(proxyMaintenanceFamily, 0, labels)
		}
		if p.CPU != nil {
			b.addSet(proxyCPUFamily, *p.CPU/100, labels)
		}
		if p.Memory != nil {
			b.addSet(proxyMemoryFamily, *p.Memory/100, labels)
		}
	}
	if len(s.Proxies) > 0 || s.ProxiesDropped > 0 {
		b.add(proxiesDroppedFamily, float64(s.ProxiesDropped), serverPair)
	}
}

// addTime adds a timestamp in Unix seconds, or nothing for the zero time ("none").
func (b *builder) addTime(f *Family, t time.Time, labels []*dto.LabelPair) {
	if !t.IsZero() {
		b.addSet(f, unixSeconds(t), labels)
	}
}
