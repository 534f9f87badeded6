package vb365

import (
	"fmt"
	"regexp"
	"strings"
)

// ID is a session's or a data retrieval's ID as the exporter keeps it: lower case, so the
// same UUID from the config, the command line and any server answer is one map key and one
// label value. It is made once where it enters, by ParseID (what people type) or by the
// decoder (what a server sends), and never re-normalised after.
type ID string

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// ParseID reads an ID a person gave (config file, command line): a UUID in any case,
// surrounding space ignored.
func ParseID(s string) (ID, error) {
	id := strings.ToLower(strings.TrimSpace(s))
	if !uuidRE.MatchString(id) {
		return "", fmt.Errorf("%q is not a UUID", shorten(s, maxQuoted))
	}
	return ID(id), nil
}

// answerID is an ID as a server sent it. It is not checked against the UUID form: another
// implementation of the API may use other IDs, and an ID that is not a UUID still names
// its session. masks.id bounds it, once scrubbed.
func answerID(s string) ID { return ID(strings.ToLower(s)) }
