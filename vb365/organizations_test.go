package vb365_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vb365-exporter/vb365_exporter/vb365"
)

const (
	orgA = "0E9A0001-0000-4000-8000-000000000001"
	orgB = "0e9a0002-0000-4000-8000-000000000002"
	repo = "7e000001-0000-4000-8000-000000000001"
)

// The tenants documents' shapes: organizations an array in v6 and v7 and pages in v8, the
// used repository named by repositoryId in v8 and only by its link before, usedSpaceBytes
// null on object storage.
func TestOrganizationsPerVersion(t *testing.T) {
	for _, version := range []string{"v6", "v7", "v8"} {
		t.Run(version, func(t *testing.T) {
			c, api := newKindsClient(t, version, func(path string, q map[string]string) (int, string) {
				switch path {
				case "/Organizations":
					if q["extendedView"] != "true" {
						return 200, list(version, q, `{"id":"`+orgA+`","name":"no extended view"}`)
					}
					return 200, list(version, q,
						`{"id":"`+orgA+`","name":"contoso `+kindsPassword+`","type":"Office365","region":"Worldwide","isBackedup":true,"firstBackuptime":"2025-01-01T00:00:00Z","lastBackuptime":"2026-03-01T04:00:00.1234567Z","_links":{}}`,
						`{"id":"`+orgB+`","name":"tailspin","type":null,"isBackedup":false,"lastBackuptime":null}`,
						`{"name":"no id"}`, `{"id":" \t ","name":"blank id"}`)
				case "/Organizations/" + strings.ToLower(orgA) + "/LicensingInformation":
					return 200, `{"licensedUsers":262,"newUsers":2}`
				case "/Organizations/" + strings.ToLower(orgA) + "/usedRepositories":
					rid := ""
					if version == "v8" {
						rid = `"repositoryId":"` + repo + `",`
					}
					link := `"_links":{"backupRepository":{"href":"/` + version + `/BackupRepositories/` + strings.ToUpper(repo) + `"},"organization":{"href":"/x"}}`
					objLink := `"_links":{"backupRepository":{"href":"https://vbo.example:4443/` + version + `/BackupRepositories/obj-` + kindsPassword + `?x=1"}}`
					if version == "v8" {
						objLink = `"repositoryId":"obj-` + kindsPassword + `","_links":{}`
					}
					return 200, `{"offset":0,"limit":10000,"results":[` +
						`{` + rid + `"usedSpaceBytes":1000,"localCacheUsedSpaceBytes":null,"objectStorageUsedSpaceBytes":null,"isAvailable":true,` + link + `},` +
						`{"usedSpaceBytes":null,"localCacheUsedSpaceBytes":12,"objectStorageUsedSpaceBytes":1900,` + objLink + `},` +
						`{"usedSpaceBytes":5,"_links":{"organization":{"href":"/x"}}},` +
						`{"repositoryId":" \u200b","usedSpaceBytes":6,"_links":{"backupRepository":{"href":"/x/%20"}}}]}`
				}
				return 404, `{"message":"no"}`
			})
			ctx := context.Background()
			orgs, st, err := c.Organizations(ctx, 10)
			if err != nil || st.Invalid != 2 || len(orgs) != 2 {
				t.Fatalf("Organizations: %v %+v %+v", err, st, orgs)
			}
			want := vb365.Organization{ID: vb365.ID(strings.ToLower(orgA)), Name: "contoso <secret>", Type: "Office365",
				LastBackup: time.Date(2026, 3, 1, 4, 0, 0, 123456700, time.UTC)}
			if orgs[0] != want || orgs[1] != (vb365.Organization{ID: orgB, Name: "tailspin"}) {
				t.Errorf("organizations %+v", orgs)
			}
			lic, err := c.OrganizationLicensing(ctx, orgs[0].ID)
			if err != nil || *lic != (vb365.OrganizationLicensing{Licensed: 262, New: 2}) {
				t.Errorf("licensing: %v %+v", err, lic)
			}
			use, st, err := c.OrganizationUsage(ctx, orgs[0].ID, 10)
			if err != nil || st.Invalid != 2 || len(use) != 2 {
				t.Fatalf("usage: %v %+v %+v", err, st, use)
			}
			if use[0].RepositoryID != repo || use[0].UsedBytes == nil || *use[0].UsedBytes != 1000 || use[0].ObjectStorageBytes != nil {
				t.Errorf("local repository %+v", use[0])
			}
			if use[1].RepositoryID != "obj-<secret>" || use[1].UsedBytes == nil || *use[1].UsedBytes != 12 ||
				use[1].ObjectStorageBytes == nil || *use[1].ObjectStorageBytes != 1900 {
				t.Errorf("object storage repository (usedSpaceBytes null: the local cache's): %+v", use[1])
			}
			if _, err := c.OrganizationLicensing(ctx, orgB); err == nil {
				t.Error("a 404 is an error")
			}
			for _, a := range api.asked {
				if strings.HasPrefix(a, "/Organizations?") && strings.Contains(a, "limit=") != (version == "v8") {
					t.Errorf("%s: v6 and v7 answer the organizations whole, v8 in pages", a)
				}
				if strings.HasSuffix(strings.SplitN(a, "?", 2)[0], "/usedRepositories") && !strings.Contains(a, "limit=") {
					t.Errorf("%s: used repositories are paged in every version", a)
				}
			}
		})
	}
}

// usersPage answers LicensedUsers as the documents do: pages of at most limit, the last one
// short; every seventh user is not backed up; total users in all.
func usersPage(q map[string]string, total int, orgs ...string) string {
	off, _ := strconv.Atoi(q["offset"])
	limit, _ := strconv.Atoi(q["limit"])
	var b strings.Builder
	for i := off; i < min(off+limit, total); i++ {
		if i > off {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"u%d","name":"user%d@x","isBackedUp":%v,"licenseState":"Licensed","organizationId":"%s","organizationName":"x"}`,
			i, i, i%7 != 0, orgs[i%len(orgs)])
	}
	return fmt.Sprintf(`{"offset":%d,"limit":%d,"results":[%s]}`, off, limit, b.String())
}

// The users are counted as they stream by, in pages of 10,000: 25,000 users are three pages.
func TestCountLicensedUsers(t *testing.T) {
	c, api := newKindsClient(t, "v7", func(path string, q map[string]string) (int, string) {
		if path != "/LicensedUsers" {
			return 404, `{"message":"no"}`
		}
		if q["offset"] == "20000" { // broken entries do not hide the others
			return 200, strings.Replace(usersPage(q, 25000, orgA, orgB), `"isBackedUp":true,`, ``, 1)
		}
		if q["offset"] == "10000" { // organizationId is nullable: a user of no organization is in no count, and no error
			return 200, strings.Replace(usersPage(q, 25000, orgA, orgB), `"organizationId":"`+orgB+`"`, `"organizationId":null`, 1)
		}
		// An id of only blanks and control characters is kept as none: counted in no
		// organization, not in one named "".
		return 200, strings.Replace(usersPage(q, 25000, orgA, orgB), `"organizationId":"`+orgA+`"`, `"organizationId":" \u0000 "`, 1)
	})
	counts := map[vb365.ID]*[2]int{}
	st, err := c.CountLicensedUsers(context.Background(), 11, func(org vb365.ID, backedUp bool) {
		if counts[org] == nil {
			counts[org] = &[2]int{}
		}
		if backedUp {
			counts[org][0]++
		} else {
			counts[org][1]++
		}
	})
	if err != nil || st.Invalid != 1 || st.Truncated {
		t.Fatalf("%v %+v", err, st)
	}
	a, b := counts[vb365.ID(strings.ToLower(orgA))], counts[orgB]
	if len(counts) != 2 || a == nil || b == nil || a[0]+a[1]+2 != 12500 || b[0]+b[1]+1 != 12500 {
		t.Errorf("counts %v %v (of %d organizations)", a, b, len(counts))
	}
	if len(api.asked) != 3 || !strings.Contains(api.asked[0], "limit=10000") {
		t.Errorf("asked %v", api.asked)
	}
}

// A server whose user list never ends is read up to the page bound, which says so.
func TestCountLicensedUsersBounded(t *testing.T) {
	c, api := newKindsClient(t, "v8", func(_ string, q map[string]string) (int, string) {
		off, _ := strconv.Atoi(q["offset"])
		p := usersPage(q, off+10000, orgA)
		return 200, strings.Replace(p, `"results"`, `"_links":{"next":{"href":"/v8/LicensedUsers?offset=1"}},"results"`, 1)
	})
	n := 0
	st, err := c.CountLicensedUsers(context.Background(), 3, func(vb365.ID, bool) { n++ })
	if err != nil || !st.Truncated || n != 30000 || len(api.asked) != 3 {
		t.Errorf("%v %+v: %d users in %d requests", err, st, n, len(api.asked))
	}
}
