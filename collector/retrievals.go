package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vb365-exporter/vb365_exporter/target"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

var (
	retrievalInfoDesc = prometheus.NewDesc(namespace+"_data_retrieval_info",
		"Data retrieval job metadata: name, type (Exchange, OneDrive, SharePoint, Teams) and data state (Retrieving, Retrieved, ChangingAvailabilityPeriod, Removing). Always 1. Join on retrieval_id with vb365_data_retrieval_session_info.",
		[]string{"server", "retrieval_id", "name", "type", "data_state"}, nil)
	retrievalLastStatusDesc = prometheus.NewDesc(namespace+"_data_retrieval_last_status",
		"Status of the data retrieval job's latest session as a state set: 1 for the current status (Stopped, Running, Success, Failed, Warning, NotConfigured), 0 for the others.",
		[]string{"server", "retrieval_id", "status"}, nil)
	retrievalExpirationDesc = prometheus.NewDesc(namespace+"_data_retrieval_expiration_timestamp_seconds",
		"When the retrieved data stops being available (expirationTime), in Unix seconds; absent when it has no expiration.",
		[]string{"server", "retrieval_id"}, nil)
	retrievalsDroppedDesc = prometheus.NewDesc(namespace+"_data_retrievals_dropped",
		"Data retrievals the server listed in this scrape beyond max_retrievals; they are not exported. Absent when the data retrievals could not be read or there are none.",
		serverLabels, nil)
	discoverySessionsDesc = prometheus.NewDesc(namespace+"_discovery_sessions",
		"Sessions selected by session discovery in this scrape (after the max_sessions guard), including configured ones it also found. Absent when discovery is off or the session list could not be read.",
		serverLabels, nil)
	discoveryDroppedDesc = prometheus.NewDesc(namespace+"_discovery_sessions_dropped",
		"Sessions discovery selected in this scrape but dropped because there were more than max_sessions; the oldest are dropped. Absent when discovery is off or the session list could not be read.",
		serverLabels, nil)
	discoverySuccessDesc = prometheus.NewDesc(namespace+"_discovery_scrape_success",
		"1 when session discovery read the session list in this scrape, else 0. Absent when discovery is off.",
		serverLabels, nil)
)

func discoveryDescs() []*prometheus.Desc {
	return []*prometheus.Desc{retrievalInfoDesc, retrievalLastStatusDesc, retrievalExpirationDesc, retrievalsDroppedDesc,
		discoverySessionsDesc, discoveryDroppedDesc, discoverySuccessDesc}
}

// emitDiscovery sends the data retrieval and session discovery metrics of one snapshot.
func emitDiscovery(ch chan<- prometheus.Metric, s *target.Snapshot) {
	server := s.Server
	for _, r := range s.Retrievals {
		ch <- prometheus.MustNewConstMetric(retrievalInfoDesc, prometheus.GaugeValue, 1,
			server, r.ID, labelValue(r.Name), labelValue(r.Type), labelValue(r.DataState))
		for _, st := range vb365.Statuses {
			ch <- prometheus.MustNewConstMetric(retrievalLastStatusDesc, prometheus.GaugeValue,
				boolFloat(st == r.LastStatus), server, r.ID, st)
		}
		if !r.ExpirationTime.IsZero() {
			ch <- prometheus.MustNewConstMetric(retrievalExpirationDesc, prometheus.GaugeValue,
				unixSeconds(r.ExpirationTime), server, r.ID)
		}
	}
	if len(s.Retrievals) > 0 || s.RetrievalsDropped > 0 {
		ch <- prometheus.MustNewConstMetric(retrievalsDroppedDesc, prometheus.GaugeValue, float64(s.RetrievalsDropped), server)
	}
	if d := s.Discovery; d != nil {
		ch <- prometheus.MustNewConstMetric(discoverySuccessDesc, prometheus.GaugeValue, boolFloat(d.Err == nil), server)
		if d.Err == nil {
			ch <- prometheus.MustNewConstMetric(discoverySessionsDesc, prometheus.GaugeValue, float64(d.Sessions), server)
			ch <- prometheus.MustNewConstMetric(discoveryDroppedDesc, prometheus.GaugeValue, float64(d.Dropped), server)
		}
	}
}
