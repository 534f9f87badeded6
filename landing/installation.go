package landing

import (
	"fmt"
	"html/template"
	"sort"
	"time"

	"github.com/vb365-exporter/vb365_exporter/server"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

// installView is what the page shows of a server's installation: the kinds it collected, and
// the collectors that failed with why. Every string in it was scrubbed and cut by the reader.
type installView struct {
	*server.Snapshot // the repositories, proxies and dropped counts, as the reader left them
	Collected        map[string]bool
	Failed           []collectorView
	Jobs, Running    []jobView
	License          *licenseView
	OrgRows          []orgView
	OrgsHidden       int
	RestoreRows      []restoreView
}

type collectorView struct{ Name, Reason, Error string }

type jobView struct {
	ID                              vb365.ID
	Name, Type, Status, StatusClass string
	Enabled                         bool
	Ended, Duration, Transferred    string
	LastSuccess                     string
	WantsLog, LogRead               bool
	LogType, LogMessage, ReadError  string
	Progress                        int64
	Rate                            string
}

type licenseView struct {
	Status, Type, LicensedTo, Expires, ExpiresIn, ExpiryClass string
	Licensed, Used                                            int64
	Usage, UsageClass                                         string
}

// The page marks what the installation alerts fire on, with the rules' default thresholds,
// so that the page and the alerts agree.
const (
	licenseSoon    = 30 * 24 * time.Hour
	usersNearLimit = 0.95
	repositoryFull = 0.10
)

func installationView(snap *server.Snapshot, now time.Time) installView {
	v := installView{Snapshot: snap, Collected: map[string]bool{}}
	for _, c := range snap.Collectors {
		v.Collected[c.Name] = true
		if c.Err != nil {
			cv := collectorView{Name: c.Name, Reason: vb365.Reason(c.Err)}
			// A server that was down failed every call alike, and its error is shown above.
			if snap.Err == nil {
				cv.Error = vb365.Detail(c.Err)
			}
			v.Failed = append(v.Failed, cv)
		}
	}
	for i := range snap.Jobs {
		j := jobRow(&snap.Jobs[i], snap.Start)
		v.Jobs = append(v.Jobs, j)
		if r := snap.Jobs[i].Running; r != nil {
			j.Status, j.StatusClass, j.Progress = r.Status, statusClass(r.Status), r.Progress
			j.Duration, j.Transferred = sessionDuration(r.Duration(snap.Start)), bytesText(r.TransferredBytes)
			j.Rate = bytesText(r.ProcessingRate) + "/s"
			v.Running = append(v.Running, j)
		}
	}
	// Jobs that need someone first: Failed, then Warning; the rest in the server's order.
	sort.SliceStable(v.Jobs, func(a, b int) bool { return server.StatusRank(v.Jobs[a].Status) < server.StatusRank(v.Jobs[b].Status) })
	if l := snap.License; l != nil {
		lv := &licenseView{Status: l.Status, Type: l.Type, LicensedTo: l.LicensedTo, Licensed: l.Licensed, Used: l.Used,
			ExpiresIn: "no expiry"}
		if !l.Expires.IsZero() {
			lv.Expires = l.Expires.Format(sessionTime)
			lv.ExpiresIn, lv.ExpiryClass = expiry(l.Expires.Sub(now), licenseSoon)
		}
		if l.Licensed > 0 {
			used := float64(l.Used) / float64(l.Licensed)
			lv.Usage = fmt.Sprintf("%.0f %%", 100*used)
			if used >= usersNearLimit {
				lv.UsageClass = "exp-gone"
			}
		}
		v.License = lv
	}
	v.OrgRows, v.OrgsHidden = orgViews(snap.Organizations, now)
	v.RestoreRows = restoreViews(snap.Restores, snap.Start)
	return v
}

func jobRow(r *server.JobResult, at time.Time) jobView {
	j := jobView{ID: r.Job.ID, Name: r.Job.Name, Type: r.Job.BackupType, Enabled: r.Job.Enabled, Status: "none on record",
		StatusClass: "st-other", WantsLog: r.WantsLog()}
	if s := r.LastFinished; s != nil {
		j.Status, j.StatusClass = s.Status, statusClass(s.Status)
		j.Ended, j.Duration = s.EndTime.Format(sessionTime), sessionDuration(s.Duration(at))
		j.Transferred = bytesText(s.TransferredBytes)
	}
	if !r.LastSuccessEnd.IsZero() {
		j.LastSuccess = r.LastSuccessEnd.Format(sessionTime)
	}
	if l := r.Log; l != nil {
		j.LogRead = l.Err == nil
		if l.Reason != nil {
			j.LogType, j.LogMessage = l.Reason.Type, l.Reason.Message
		}
	}
	if r.Err != nil {
		j.ReadError = vb365.Reason(r.Err)
	}
	return j
}

// bytesText is a size in binary units, as Grafana's "bytes" unit shows it.
func bytesText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f, i := float64(n)/unit, 0
	for ; f >= unit && i < 5; i++ {
		f /= unit
	}
	return fmt.Sprintf("%.1f %ciB", f, "KMGTPE"[i])
}

// installFuncs format the repositories and proxies in the template.
var installFuncs = template.FuncMap{
	"bytes": bytesText,
	"percent": func(p *float64) string {
		if p == nil {
			return "n/a"
		}
		return fmt.Sprintf("%.0f %%", *p)
	},
	// free is a repository's free share, "" when it reports no capacity (object storage).
	"free": func(r vb365.Repository) string {
		if r.CapacityBytes <= 0 {
			return ""
		}
		return fmt.Sprintf("%.0f %%", 100*float64(r.FreeBytes)/float64(r.CapacityBytes))
	},
	"full": func(r vb365.Repository) bool {
		return r.CapacityBytes > 0 && float64(r.FreeBytes)/float64(r.CapacityBytes) < repositoryFull
	},
}
