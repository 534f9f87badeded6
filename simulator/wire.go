package simulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// TimeLayout is how VB365 formats times: seven fractional digits and a numeric offset.
const TimeLayout = "2006-01-02T15:04:05.0000000-07:00"

// zeroTime is .NET's DateTime.MinValue as Newtonsoft writes it: no fraction, no offset.
const zeroTime = "0001-01-01T00:00:00"

func formatTime(t time.Time) string { return t.Format(TimeLayout) }

// field and object keep keys in the order Veeam documents them, which map-based encoding would lose.
type field struct {
	k string
	v any
}

type object []field

type rawJSON []byte

func encodeJSON(v any) []byte {
	var buf bytes.Buffer
	writeValue(&buf, v)
	return buf.Bytes()
}

func writeValue(buf *bytes.Buffer, v any) {
	switch x := v.(type) {
	case object:
		buf.WriteByte('{')
		for i, f := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeScalar(buf, f.k)
			buf.WriteByte(':')
			writeValue(buf, f.v)
		}
		buf.WriteByte('}')
	case []object:
		buf.WriteByte('[')
		for i, o := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeValue(buf, o)
		}
		buf.WriteByte(']')
	case rawJSON:
		buf.Write(x)
	default:
		writeScalar(buf, v)
	}
}

// writeScalar does not escape <, > and & because Newtonsoft.Json, which VB365 uses, does not
// either; clients must handle such names themselves. The common types are written directly:
// a json.Encoder per value made large lists slow to serve.
func writeScalar(buf *bytes.Buffer, v any) {
	var b []byte
	switch x := v.(type) {
	case nil:
		buf.WriteString("null")
		return
	case bool:
		b = strconv.AppendBool(buf.AvailableBuffer(), x)
	case int:
		b = strconv.AppendInt(buf.AvailableBuffer(), int64(x), 10)
	case int32:
		b = strconv.AppendInt(buf.AvailableBuffer(), int64(x), 10)
	case int64:
		b = strconv.AppendInt(buf.AvailableBuffer(), x, 10)
	case string:
		if plainString(x) {
			buf.WriteByte('"')
			buf.WriteString(x)
			buf.WriteByte('"')
			return
		}
	}
	if b != nil {
		buf.Write(b)
		return
	}
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // only scalars built by this package reach here
	}
	buf.Truncate(buf.Len() - 1) // Encode appends a newline
}

// plainString is a string JSON writes as it is: printable ASCII without quote or backslash.
func plainString(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullableTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return formatTime(t)
}

// unsetTime appends a date-time the documents do not let be null; unset (zero), it is sent as
// Options.EndTimeStyle says.
func (s *Simulator) unsetTime(o object, key string, t time.Time) object {
	switch {
	case !t.IsZero():
		return append(o, field{key, formatTime(t)})
	case s.opts.EndTimeStyle == EndTimeNull:
		return append(o, field{key, nil})
	case s.opts.EndTimeStyle == EndTimeZero:
		return append(o, field{key, zeroTime})
	}
	return o
}

func links(kv ...string) object {
	o := object{}
	for i := 0; i+1 < len(kv); i += 2 {
		o = append(o, field{kv[i], object{{"href", kv[i+1]}}})
	}
	return o
}

func (s *Simulator) sessionJSON(ver string, sess *Session) object {
	o := object{
		{"id", sess.ID},
		{"name", sess.Name},
		{"retrievalId", sess.RetrievalID},
	}
	if ver == "v8" && sess.RepositoryID != "" {
		o = append(o, field{"repositoryId", sess.RepositoryID})
	}
	o = s.unsetTime(append(o, field{"creationTime", formatTime(sess.CreationTime)}), "endTime", sess.EndTime)
	o = append(o,
		field{"progress", sess.Progress},
		field{"processedObjects", sess.ProcessedObjects},
		field{"type", sess.Type},
		field{"status", sess.Status},
	)
	if ver == "v8" {
		o = append(o, field{"proxyId", nullable(sess.ProxyID)}, field{"proxyPoolId", nullable(sess.ProxyPoolID)})
	}
	// Veeam's reference page shows the self link built from the retrieval ID with a lower-case
	// "d"; we reproduce it so clients are tested against what the server documents, and so
	// they learn not to follow it blindly.
	linkID := sess.RetrievalID
	if linkID == "" {
		linkID = sess.ID
	}
	return append(o, field{"_links", links("self", "/"+ver+"/dataRetrievalSessions/"+linkID)})
}

func (s *Simulator) retrievalJSON(ver string, r *DataRetrieval, lastStatus string) object {
	o := object{
		{"name", r.Name},
		{"description", nullable(r.Description)},
	}
	if r.StorageType != "" {
		o = append(o, field{"storageType", r.StorageType})
		if r.StorageType == "AmazonS3Glacier" && r.Policy != "" {
			o = append(o, field{"amazonS3GlacierRetrievalPolicy", r.Policy})
		}
	}
	o = append(o, field{"id", r.ID})
	if !r.PointInTime.IsZero() {
		o = append(o, field{"pointInTime", formatTime(r.PointInTime)})
	}
	o = append(o, field{"organizationId", nullable(r.OrganizationID)})
	// v8 dropped proxyId from RESTDataRetrievalComposed.
	if ver != "v8" && r.ProxyID != "" {
		o = append(o, field{"proxyId", r.ProxyID})
	}
	if r.RepositoryID != "" {
		o = append(o, field{"repositoryId", r.RepositoryID})
	}
	o = append(o, field{"dataState", r.DataState})
	if lastStatus != "" {
		o = append(o, field{"lastStatus", lastStatus})
	}
	if !r.StartTime.IsZero() {
		o = append(o, field{"startTime", formatTime(r.StartTime)})
	}
	o = append(o,
		field{"expirationTime", nullableTime(r.ExpirationTime)},
		field{"enableExpirationNotification", false},
		field{"expirationHoursThreshold", int32(0)},
		field{"type", r.Type},
		field{"showDeleted", false},
		field{"showAllVersions", false},
		field{"_links", links(
			"self", "/"+ver+"/DataRetrievals/"+r.ID,
			"dataRetrievalSessions", "/"+ver+"/DataRetrievalSessions?dataRetrievalId="+r.ID,
		)},
	)
	if r.StorageType == "AzureArchive" && r.Policy != "" {
		o = append(o, field{"azureArchiveRetrievalPolicy", r.Policy})
	}
	return o
}

// Error codes of RESTExceptionInfo in v8. v7 documents only ProxyOffline, so every other
// code is sent as null there.
const (
	codeNotFound   = "ResourceNotFound"
	codeValidation = "ParameterValidationFailure"
	codeDenied     = "ResourceAccessDenied"
	codeHTTP       = "HttpError"
)

func errorJSON(ver, code, msg string) object {
	o := object{{"message", msg}}
	switch ver {
	case "v7":
		if code != "ProxyOffline" {
			return append(o, field{"errorCode", nil})
		}
		return append(o, field{"errorCode", code})
	case "v8":
		return append(o, field{"errorCode", nullable(code)}, field{"stackTrace", nil})
	}
	return o
}

const jsonContentType = "application/json; charset=utf-8"

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", jsonContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeError(w http.ResponseWriter, ver string, status int, code, msg string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	writeJSON(w, status, encodeJSON(errorJSON(ver, code, msg)))
}
