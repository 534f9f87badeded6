package collector

import (
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/vb365-exporter/vb365_exporter/server"
	"github.com/vb365-exporter/vb365_exporter/vb365"
)

var lOrganizationID, lState = "organization_id", "state"

// userStatePairs label the user counts, in name order.
var userStatePairs = []*dto.LabelPair{{Name: &lState, Value: proto.String("protected")}, {Name: &lState, Value: proto.String("unprotected")}}

// organizations adds the organizations' series: each absent when the organizations were not
// read, and each organization's licensing, usage and user counts until a background read
// got them (the counts then as of vb365_organization_users_last_read_timestamp_seconds).
func (b *builder) organizations(s *server.Snapshot, serverPair *dto.LabelPair) {
	var lastRead float64
	for _, r := range byID(s.Organizations, func(r server.OrganizationResult) vb365.ID { return r.Org.ID }) {
		o := &r.Org
		id := b.pair(&lOrganizationID, string(o.ID))
		labels := b.set(id, serverPair)
		b.add(organizationInfoFamily, 1, b.pair(&lName, o.Name), id, serverPair, b.pair(&lType, o.Type))
		b.addTime(organizationLastBackupFamily, o.LastBackup, labels)
		if l := r.Licensing; l != nil {
			b.addSet(organizationLicensedFamily, float64(l.Licensed), labels)
			b.addSet(organizationNewFamily, float64(l.New), labels)
		}
		if u := r.Users; u != nil {
			b.add(organizationUsersFamily, float64(u.Protected), id, serverPair, userStatePairs[0])
			b.add(organizationUsersFamily, float64(u.Unprotected), id, serverPair, userStatePairs[1])
			lastRead = max(lastRead, unixSeconds(u.ReadAt))
		}
		for _, u := range byID(r.Usage, func(u vb365.OrganizationUsage) vb365.ID { return u.RepositoryID }) {
			repo := b.pair(&lRepositoryID, string(u.RepositoryID))
			if u.UsedBytes != nil {
				b.add(organizationUsedFamily, float64(*u.UsedBytes), id, repo, serverPair)
			}
			if u.ObjectStorageBytes != nil {
				b.add(organizationObjectStorageFamily, float64(*u.ObjectStorageBytes), id, repo, serverPair)
			}
		}
	}
	if lastRead > 0 {
		b.add(organizationUsersReadFamily, lastRead, serverPair)
	}
	if len(s.Organizations) > 0 || s.OrganizationsDropped > 0 {
		b.add(organizationsDroppedFamily, float64(s.OrganizationsDropped), serverPair)
	}
}
