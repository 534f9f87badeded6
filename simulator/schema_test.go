package simulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// openAPI holds the schemas copied unchanged from Veeam's OpenAPI documents into testdata.
type openAPI struct {
	Responses map[string]struct {
		Path      string                    `json:"path"`
		Method    string                    `json:"method"`
		Responses map[string]map[string]any `json:"responses"`
	} `json:"responses"`
	Components struct {
		Schemas map[string]map[string]any `json:"schemas"`
	} `json:"components"`
}

func loadOpenAPI(t *testing.T, ver string) *openAPI {
	t.Helper()
	b, err := os.ReadFile("testdata/openapi-" + ver + "-schemas.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc openAPI
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if ver == "v6" {
		// v6's document lists the type "RetrievalChangeAvailabilityPeriodDays," with a stray
		// comma; real servers (and v7/v8's documents) send the name without it, so the schema
		// is corrected here. Asserting the typo first makes this fail loudly if the copied
		// document ever changes.
		typ := doc.Components.Schemas["RESTDataRetrievalSession"]["properties"].(map[string]any)["type"].(map[string]any)
		enum := typ["enum"].([]any)
		fixed := false
		for i, e := range enum {
			if e == "RetrievalChangeAvailabilityPeriodDays," {
				enum[i] = "RetrievalChangeAvailabilityPeriodDays"
				fixed = true
			}
		}
		if !fixed {
			t.Fatalf("v6 schema no longer has the documented enum typo; revisit this workaround: %v", enum)
		}
	}
	return &doc
}

// responseSchema is the documented schema of an operation's answer with this status; errors
// fall back to "default" as OpenAPI prescribes.
func (d *openAPI) responseSchema(t *testing.T, op string, status int) map[string]any {
	t.Helper()
	r, ok := d.Responses[op]
	if !ok {
		t.Fatalf("operation %s not in the document", op)
	}
	if s, ok := r.Responses[fmt.Sprint(status)]; ok {
		return s
	}
	s, ok := r.Responses["default"]
	if !ok {
		t.Fatalf("operation %s documents no response for %d", op, status)
	}
	return s
}

// validator checks JSON values against the OpenAPI 3.0 subset Veeam's documents use. It is
// stricter than OpenAPI: objects may not carry properties the schema does not define, so the
// simulator cannot drift from the documents unnoticed.
type validator struct{ doc *openAPI }

var knownKeywords = map[string]bool{
	"type": true, "properties": true, "required": true, "enum": true, "nullable": true, "$ref": true,
	"items": true, "additionalProperties": true, "format": true,
	// Annotations without effect on validity.
	"description": true, "example": true, "readOnly": true, "default": true,
}

var (
	dateTimeRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?(Z|[+-]\d{2}:\d{2})$`)
	uuidTestRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

func (v *validator) validateJSON(schema map[string]any, body []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var val any
	if err := dec.Decode(&val); err != nil {
		return []string{"invalid JSON: " + err.Error()}
	}
	if dec.More() {
		return []string{"trailing data after JSON value"}
	}
	return v.validate(schema, val, "$")
}

func (v *validator) resolve(schema map[string]any) (map[string]any, error) {
	for depth := 0; ; depth++ {
		ref, ok := schema["$ref"].(string)
		if !ok {
			return schema, nil
		}
		if depth > 20 {
			return nil, fmt.Errorf("$ref loop at %s", ref)
		}
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		next, ok := v.doc.Components.Schemas[name]
		if !ok {
			return nil, fmt.Errorf("unresolvable $ref %s", ref)
		}
		schema = next
	}
}

func (v *validator) validate(schema map[string]any, val any, path string) (errs []string) {
	fail := func(format string, a ...any) { errs = append(errs, path+": "+fmt.Sprintf(format, a...)) }
	schema, err := v.resolve(schema)
	if err != nil {
		fail("%v", err)
		return
	}
	for k := range schema {
		if !knownKeywords[k] && !strings.HasPrefix(k, "x-") {
			fail("schema keyword %q is not supported by this validator", k)
		}
	}
	if val == nil {
		if schema["nullable"] != true {
			fail("null is not allowed")
		}
		return
	}
	if enum, ok := schema["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			if e == val {
				found = true
			}
		}
		if !found {
			fail("%v is not one of %v", val, enum)
		}
	}
	typ, _ := schema["type"].(string)
	switch typ {
	case "string":
		s, ok := val.(string)
		if !ok {
			fail("want string, got %T", val)
			return
		}
		switch schema["format"] {
		case "date-time":
			if !dateTimeRE.MatchString(s) {
				fail("%q is not an RFC 3339 date-time", s)
			} else if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
				fail("%q: %v", s, err)
			}
		case "uuid":
			if !uuidTestRE.MatchString(s) {
				fail("%q is not a UUID", s)
			}
		}
	case "integer":
		n, ok := val.(json.Number)
		if !ok {
			fail("want integer, got %T", val)
			return
		}
		i, err := n.Int64()
		if err != nil {
			fail("%s is not an integer", n)
			return
		}
		if schema["format"] == "int32" && (i < math.MinInt32 || i > math.MaxInt32) {
			fail("%d does not fit int32", i)
		}
	case "number":
		if _, ok := val.(json.Number); !ok {
			fail("want number, got %T", val)
		}
	case "boolean":
		if _, ok := val.(bool); !ok {
			fail("want boolean, got %T", val)
		}
	case "array":
		arr, ok := val.([]any)
		if !ok {
			fail("want array, got %T", val)
			return
		}
		items, _ := schema["items"].(map[string]any)
		for i, it := range arr {
			if items != nil {
				errs = append(errs, v.validate(items, it, fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	case "object":
		obj, ok := val.(map[string]any)
		if !ok {
			fail("want object, got %T", val)
			return
		}
		props, _ := schema["properties"].(map[string]any)
		if req, ok := schema["required"].([]any); ok {
			for _, r := range req {
				if _, ok := obj[r.(string)]; !ok {
					fail("required property %q is missing", r)
				}
			}
		}
		addl, hasAddl := schema["additionalProperties"].(map[string]any)
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := path + "." + k
			if ps, ok := props[k].(map[string]any); ok {
				errs = append(errs, v.validate(ps, obj[k], p)...)
				continue
			}
			if hasAddl {
				errs = append(errs, v.validate(addl, obj[k], p)...)
				continue
			}
			errs = append(errs, p+": property is not defined by the schema")
		}
	case "":
		fail("schema has no type")
	default:
		fail("unsupported type %q", typ)
	}
	return errs
}

func TestValidatorRejectsDrift(t *testing.T) {
	doc := loadOpenAPI(t, "v8")
	v := &validator{doc: doc}
	session := doc.Components.Schemas["RESTDataRetrievalSession"]
	good := `{"id":"668f478c-0326-440a-8bdf-58cf39163ea2","name":"n","creationTime":"2022-01-28T20:52:36.9177053+01:00","progress":5,"type":"Retrieve","status":"Success","proxyId":null,"_links":{"self":{"href":"/x"}}}`
	if errs := v.validateJSON(session, []byte(good)); len(errs) != 0 {
		t.Fatalf("a valid session was rejected: %v", errs)
	}
	bad := map[string]string{
		"unknown property": `{"id":"668f478c-0326-440a-8bdf-58cf39163ea2","totalCount":1}`,
		"bad enum":         `{"status":"Done"}`,
		"bad uuid":         `{"id":"668f478c"}`,
		"bad date-time":    `{"creationTime":"0001-01-01T00:00:00"}`,
		"null not allowed": `{"endTime":null}`,
		"int32 overflow":   `{"progress":2147483648}`,
		"not integer":      `{"processedObjects":1.5}`,
		"wrong type":       `{"name":5}`,
		"bad link":         `{"_links":{"self":{"href":1}}}`,
		"extra link field": `{"_links":{"self":{"href":"/x","rel":"self"}}}`,
		"not an object":    `[]`,
		"trailing garbage": `{} {}`,
		"invalid json":     `{"id":`,
	}
	for name, body := range bad {
		if errs := v.validateJSON(session, []byte(body)); len(errs) == 0 {
			t.Errorf("%s: %s was accepted", name, body)
		}
	}
	token := doc.Components.Schemas["OAuthTokenResponse"]
	if errs := v.validateJSON(token, []byte(`{"access_token":"a"}`)); len(errs) == 0 {
		t.Error("a token answer without the required fields was accepted")
	}
	// v7 only knows the ProxyOffline error code.
	v7 := &validator{doc: loadOpenAPI(t, "v7")}
	if errs := v7.validateJSON(v7.doc.Components.Schemas["RESTExceptionInfo"], []byte(`{"message":"m","errorCode":"ResourceNotFound"}`)); len(errs) == 0 {
		t.Error("v7 accepted an error code it does not document")
	}
}
