package sessions

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// parseEnumSet reads a flag's comma-separated list of enum values in any case into a set
// of their canonical spellings; an empty list is nil, which keeps everything.
func parseEnumSet(flag, what, list string, known []string) (map[string]bool, error) {
	if list == "" {
		return nil, nil
	}
	set := map[string]bool{}
	for _, v := range strings.Split(list, ",") {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		i := slices.IndexFunc(known, func(k string) bool { return strings.EqualFold(v, k) })
		if i < 0 {
			return nil, fmt.Errorf("%s: unknown %s %q (want %s)", flag, what, printable(v), strings.Join(known, ", "))
		}
		set[known[i]] = true
	}
	return set, nil
}

// writeTable prints n rows as aligned columns under header (tab-separated), or the line
// none when there are no rows. Every cell is made one line of printable text here, so no
// server string can break a row or reach the terminal as an escape sequence.
func writeTable(w io.Writer, none, header string, n int, row func(i int) []string) error {
	if n == 0 {
		_, err := fmt.Fprintln(w, none)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for i := range n {
		cells := row(i)
		for j, c := range cells {
			cells[j] = oneField(c)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// writeJSON prints v indented, for scripts; docs/flags-and-endpoints.md documents the field names.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// oneField makes an API string one line of printable text, whitespace collapsed.
func oneField(s string) string {
	return strings.Join(strings.Fields(printable(s)), " ")
}
