package vb365

import "testing"

func TestParseID(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ID
		ok   bool
	}{
		{"668f478c-0326-440a-8bdf-58cf39163ea2", "668f478c-0326-440a-8bdf-58cf39163ea2", true},
		{" 668F478C-0326-440A-8BDF-58CF39163EA2\n", "668f478c-0326-440a-8bdf-58cf39163ea2", true},
		{"{668f478c-0326-440a-8bdf-58cf39163ea2}", "", false},
		{"668f478c03264 40a8bdf58cf39163ea2", "", false},
		{"668f478c-0326-440a-8bdf-58cf39163ea", "", false},
		{"", "", false},
	} {
		got, err := ParseID(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("ParseID(%q) = %q, %v; want %q, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// The same UUID in any case from a server is one ID, the one a config names.
func TestAnswerIDIsTheParsedID(t *testing.T) {
	parsed, err := ParseID("668F478C-0326-440A-8BDF-58CF39163EA2")
	if err != nil {
		t.Fatal(err)
	}
	if got := answerID("668f478c-0326-440A-8bdf-58CF39163ea2"); got != parsed {
		t.Errorf("answerID = %q, ParseID = %q", got, parsed)
	}
}
