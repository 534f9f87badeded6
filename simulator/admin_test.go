package simulator

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestAdminAPI(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Admin = true })
	tok := e.login("v6").AccessToken
	const id = "abcdef01-2345-4678-89ab-cdef01234567"

	r := e.do(http.MethodPost, "/admin/sessions", "", "application/json",
		`{"id":"`+id+`","name":"added","retrievalId":"`+ReferenceRetrievalID+`","creationTime":"2024-05-06T07:00:00.5+02:00","status":"Running","type":"RetrievalRemoving","progress":2,"processedObjects":9}`)
	if r.status != http.StatusCreated || decodeMap(t, r.body)["id"] != id {
		t.Fatalf("add: %d %s", r.status, r.body)
	}
	m := decodeMap(t, e.get("/v6/DataRetrievalSessions/"+id, tok).body)
	if m["name"] != "added" || m["type"] != TypeRetrievalRemoving || m["status"] != StatusRunning ||
		m["creationTime"] != "2024-05-06T07:00:00.5000000+02:00" || m["progress"] != 2.0 || m["processedObjects"] != 9.0 {
		t.Errorf("added session served as %v", m)
	}

	r = e.do(http.MethodPatch, "/admin/sessions/"+id, "", "application/json",
		`{"status":"Failed","endTime":"2024-05-06T07:05:00+02:00","progress":4,"processedObjects":20,"name":"<i>renamed</i>"}`)
	if r.status != http.StatusNoContent {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	m = decodeMap(t, e.get("/v6/DataRetrievalSessions/"+id, tok).body)
	if m["status"] != StatusFailed || m["endTime"] != "2024-05-06T07:05:00.0000000+02:00" || m["progress"] != 4.0 ||
		m["processedObjects"] != 20.0 || m["name"] != "<i>renamed</i>" || m["type"] != TypeRetrievalRemoving {
		t.Errorf("patched session served as %v", m)
	}
	for name, body := range map[string]string{
		"bad status":    `{"status":"Done"}`,
		"unknown field": `{"colour":"red"}`,
		"bad time":      `{"endTime":"yesterday"}`,
		"id change":     `{"id":"00000000-0000-4000-8000-000000000000"}`,
	} {
		if r := e.do(http.MethodPatch, "/admin/sessions/"+id, "", "application/json", body); r.status != http.StatusBadRequest {
			t.Errorf("patch %s: %d", name, r.status)
		}
	}
	if r := e.do(http.MethodPatch, "/admin/sessions/00000000-0000-4000-8000-000000000000", "", "application/json", `{}`); r.status != http.StatusNotFound {
		t.Errorf("patch unknown: %d", r.status)
	}

	// A session posted without id or times gets a fresh id and starts now.
	r = e.do(http.MethodPost, "/admin/sessions", "", "application/json", `{"name":"auto","finishAt":"2024-05-06T07:10:00+02:00","finalStatus":"Success","objectsPerSecond":1}`)
	auto, _ := decodeMap(t, r.body)["id"].(string)
	if r.status != http.StatusCreated || !isUUID(auto) {
		t.Fatalf("add without id: %d %s", r.status, r.body)
	}
	e.clock.Advance(5 * time.Minute)
	if s, _ := e.sim.Session(auto); s.Status != StatusSuccess || s.ProcessedObjects < 60 {
		t.Errorf("planned session after finishAt: %+v", s)
	}

	if r := e.do(http.MethodPost, "/admin/faults", "", "application/json", `{"endpoint":"session","kind":"ratelimit","retryAfter":"3s","count":1}`); r.status != http.StatusNoContent {
		t.Fatalf("add fault: %d %s", r.status, r.body)
	}
	if r := e.get("/v6/DataRetrievalSessions/"+id, tok); r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "3" {
		t.Errorf("fault via admin: %d %q", r.status, r.header.Get("Retry-After"))
	}
	if r := e.do(http.MethodPost, "/admin/faults", "", "application/json", `{"kind":"status","status":500}`); r.status != http.StatusNoContent {
		t.Fatalf("add fault for any endpoint: %d %s", r.status, r.body)
	}
	if s := e.get("/v6/DataRetrievals", tok).status; s != 500 {
		t.Errorf("fault without endpoint should match any: %d", s)
	}
	if r := e.do(http.MethodDelete, "/admin/faults", "", "", ""); r.status != http.StatusNoContent {
		t.Errorf("clear faults: %d", r.status)
	}
	if s := e.get("/v6/DataRetrievals", tok).status; s != http.StatusOK {
		t.Errorf("after clearing faults: %d", s)
	}
	for _, body := range []string{`{"kind":"nope"}`, `{"kind":"latency","latency":"soon"}`, `not json`} {
		if r := e.do(http.MethodPost, "/admin/faults", "", "application/json", body); r.status != http.StatusBadRequest {
			t.Errorf("bad fault %s: %d", body, r.status)
		}
	}

	r = e.get("/admin/stats", "")
	st := decodeMap(t, r.body)
	if r.status != http.StatusOK || st["tokensIssued"] != 1.0 || st["byStatus"].(map[string]any)["429"] != 1.0 ||
		st["bySession"].(map[string]any)[id] == nil {
		t.Errorf("stats: %d %s", r.status, r.body)
	}

	if r := e.do(http.MethodPost, "/admin/revoke-tokens", "", "", ""); r.status != http.StatusNoContent {
		t.Errorf("revoke: %d", r.status)
	}
	if s := e.get("/v6/DataRetrievals", tok).status; s != http.StatusUnauthorized {
		t.Errorf("token after admin revoke: %d", s)
	}
	if r := e.do(http.MethodDelete, "/admin/sessions/"+id, "", "", ""); r.status != http.StatusNoContent {
		t.Errorf("delete: %d", r.status)
	}
	if r := e.do(http.MethodDelete, "/admin/sessions/"+id, "", "", ""); r.status != http.StatusNotFound {
		t.Errorf("delete twice: %d", r.status)
	}
	if _, ok := e.sim.Session(id); ok {
		t.Error("deleted session still exists")
	}
	if r := e.get("/admin/nothing", ""); r.status != http.StatusNotFound {
		t.Errorf("unknown admin path: %d", r.status)
	}
	// Admin requests are not API traffic.
	if n := e.sim.Stats().ByEndpoint[EndpointUnknown]; n != 0 {
		t.Errorf("admin requests counted as API requests: %d", n)
	}
}

func TestAdminOffByDefault(t *testing.T) {
	e := newEnv(t, nil)
	r := e.do(http.MethodPost, "/admin/revoke-tokens", "", "", "")
	if r.status != http.StatusNotFound {
		t.Errorf("admin API reachable without Options.Admin: %d", r.status)
	}
	tok := e.login("v6").AccessToken
	if s := e.get("/v6/DataRetrievals", tok).status; s != http.StatusOK {
		t.Errorf("the admin request had an effect: %d", s)
	}
}

func TestGenerateCert(t *testing.T) {
	cert, caPEM, err := GenerateCert("localhost", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(caPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("CA PEM: %q", caPEM)
	}
	if strings.Contains(string(caPEM), "PRIVATE KEY") {
		t.Error("the CA PEM carries the private key")
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("CA PEM not usable as a trust root")
	}
	sim := New(Options{Username: testUser, Password: testPassword})
	srv := httptest.NewUnstartedServer(sim)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake errors are expected here
	srv.StartTLS()
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer client.CloseIdleConnections()
	resp, err := client.Post(srv.URL+"/v6/token", "application/x-www-form-urlencoded",
		strings.NewReader("grant_type=password&username=EXAMPLE%5Cmonitoring&password=s3cret-pw"))
	if err != nil {
		t.Fatalf("TLS with the generated CA: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("token over TLS: %d", resp.StatusCode)
	}

	// A certificate for another host must fail verification.
	wrong, wrongPEM, err := GenerateCert("vb365.example.org")
	if err != nil {
		t.Fatal(err)
	}
	pool2 := x509.NewCertPool()
	pool2.AppendCertsFromPEM(wrongPEM)
	srv2 := httptest.NewUnstartedServer(sim)
	srv2.TLS = &tls.Config{Certificates: []tls.Certificate{wrong}}
	srv2.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv2.StartTLS()
	defer srv2.Close()
	client2 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool2}}}
	defer client2.CloseIdleConnections()
	if _, err := client2.Get(srv2.URL + "/v6/DataRetrievals"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("wrong-host certificate accepted: %v", err)
	}
	if _, _, err := GenerateCert(); err == nil {
		t.Error("GenerateCert without hosts did not fail")
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(leaf.IPAddresses) != 1 || len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != "localhost" {
		t.Errorf("SANs: %v %v", leaf.DNSNames, leaf.IPAddresses)
	}
}
