package metriccheck

import (
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	got := Expand(`rate(x{server=~"$server", a=~"${other}"}[$__rate_interval]) + y[${__range}]`, map[string]string{"server": "prod"})
	want := `rate(x{server=~"prod", a=~".*"}[1m]) + y[1m]`
	if got != want {
		t.Fatalf("Expand = %q, want %q", got, want)
	}
}

func TestCheck(t *testing.T) {
	known, err := ExporterMetrics()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		expr string
		want string // substring of the single expected error; "" for none
	}{
		{`sum by (server) (vb365_data_retrieval_session_status{status="Failed", job="vb365"})`, ""},
		{`{__name__="vb365_up", server="a"}`, ""},
		{`vb365_data_retrieval_session_status{status="Broken"}`, `status "Broken"`},
		{`vb365_up{session_id="x"}`, `no label "session_id"`},
		{`vb365_sessions_total`, `metric "vb365_sessions_total" is not exposed`},
		{`{__name__="vb365_nope"}`, `metric "vb365_nope" is not exposed`},
		{`sum(vb365_up`, "does not parse"},
		{`{__name__=~"vb365_.+_dropped", server="a"}`, ""},
		{`{__name__=~"vb365_.+_dropped", session_id="a"}`, `no label "session_id"`},
		{`{__name__=~"vb365_nope_.+"}`, `metric "vb365_nope_.+" is not exposed`},
	} {
		errs := Check(tc.expr, known)
		switch {
		case tc.want == "" && len(errs) != 0:
			t.Errorf("%s: unexpected %v", tc.expr, errs)
		case tc.want != "" && (len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.want)):
			t.Errorf("%s: got %v, want one error containing %q", tc.expr, errs, tc.want)
		}
	}
}

func TestMetricNames(t *testing.T) {
	got, err := MetricNames(`vb365_up * on(server) group_left vb365_up + {__name__="vb365_scrape_duration_seconds"}`)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "vb365_scrape_duration_seconds,vb365_up" {
		t.Fatalf("MetricNames = %v", got)
	}
}
