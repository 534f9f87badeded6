package simulator

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// benchGet serves path b.N times without a network, as the bench's simulator would.
func benchGet(b *testing.B, sim *Simulator, tok, path string) {
	b.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		w := httptest.NewRecorder()
		sim.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("%s: %d", path, w.Code)
		}
		_, _ = io.Copy(io.Discard, w.Body)
	}
}

func benchSim(b *testing.B) (*Simulator, string) {
	sim := New(Options{Username: testUser, Password: testPassword})
	sim.GenerateInstallation(200, 120, 7)
	return sim, issueTestToken(sim)
}

// issueTestToken is an access token of sim, without a request.
func issueTestToken(sim *Simulator) string {
	sim.mu.Lock()
	defer sim.mu.Unlock()
	tok, _ := sim.issueTokens(sim.opts.Now())
	return tok
}

// The bench's installation: 200 jobs of 120 sessions, every 7th running.
func BenchmarkServeJobs(b *testing.B) {
	sim, tok := benchSim(b)
	benchGet(b, sim, tok, "/v8/Jobs?limit=200")
}

func BenchmarkServeJobSessionsOfAJob(b *testing.B) {
	sim, tok := benchSim(b)
	benchGet(b, sim, tok, "/v8/JobSessions?limit=120&jobId="+genJobID(7))
}

func BenchmarkServeRunningJobSession(b *testing.B) {
	sim, tok := benchSim(b)
	benchGet(b, sim, tok, "/v8/JobSessions/"+genSessionID(7, 0))
}
