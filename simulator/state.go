package simulator

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"
)

// The simulator's own copy of the documented enums, so that a client typo cannot hide behind
// a shared constant: session statuses (RESTDataRetrievalSessionStatus), the two that jobs and
// job sessions add (RESTJob.lastStatus, RESTJobSession.status), and log item types
// (RESTLogItem.type in v8).
const (
	StatusStopped       = "Stopped"
	StatusRunning       = "Running"
	StatusSuccess       = "Success"
	StatusFailed        = "Failed"
	StatusWarning       = "Warning"
	StatusNotConfigured = "NotConfigured"
	StatusDisconnected  = "Disconnected"
	StatusQueued        = "Queued"
	LogRunning          = "Running"
	LogWarning          = "Warning"
	LogError            = "Error"
	LogSuccess          = "Success"
	LogStop             = "Stop"
)

// Session types (RESTDataRetrievalSession.type).
const (
	TypeRetrieve                  = "Retrieve"
	TypeChangeAvailabilityPeriod  = "RetrievalChangeAvailabilityPeriodDays"
	TypeRetrievalRemoving         = "RetrievalRemoving"
	RetrievalTypeExchange         = "Exchange"
	RetrievalTypeOneDrive         = "OneDrive"
	RetrievalTypeSharePoint       = "SharePoint"
	RetrievalTypeTeams            = "Teams"
	DataStateRetrieving           = "Retrieving"
	DataStateRetrieved            = "Retrieved"
	DataStateChangingAvailability = "ChangingAvailabilityPeriod"
	DataStateRemoving             = "Removing"
)

var (
	sessionStatuses = []string{StatusStopped, StatusRunning, StatusSuccess, StatusFailed, StatusWarning, StatusNotConfigured}
	logTypes        = []string{LogRunning, LogWarning, LogError, LogSuccess, LogStop}
	sessionTypes    = []string{TypeRetrieve, TypeChangeAvailabilityPeriod, TypeRetrievalRemoving}
	retrievalTypes  = []string{RetrievalTypeExchange, RetrievalTypeOneDrive, RetrievalTypeSharePoint, RetrievalTypeTeams}
	dataStates      = []string{DataStateRetrieving, DataStateRetrieved, DataStateChangingAvailability, DataStateRemoving}
)

// Session is one data retrieval session held by the simulator.
type Session struct {
	ID           string
	Name         string
	RetrievalID  string
	CreationTime time.Time
	// EndTime is the zero time while the session has not ended.
	EndTime          time.Time
	Progress         int32
	ProcessedObjects int64
	Type             string
	Status           string

	// v8 only; empty proxy IDs are sent as null because the schema marks them nullable.
	RepositoryID string
	ProxyID      string
	ProxyPoolID  string

	// Plan for a Running session: Progress and ProcessedObjects grow at these rates per second
	// of simulated time, and at FinishAt the session ends with FinalStatus. A zero FinishAt
	// means the session runs until someone updates it.
	FinishAt          time.Time
	FinalStatus       string
	ProgressPerSecond float64
	ObjectsPerSecond  float64

	// advancedAt is when Progress/ProcessedObjects were last brought up to date; zero means
	// CreationTime, so callers can build a Session without knowing about it.
	advancedAt time.Time
	// Growth not yet whole enough to show in Progress / ProcessedObjects.
	progressFrac, objectsFrac float64
	// log is set by SetLogItems (logitems.go).
	log []LogItem
}

// advance brings a planned Running session up to now. It is idempotent for a given now.
func (s *Session) advance(now time.Time) {
	elapsed, to, finished := planStep(s.Status, s.CreationTime, s.advancedAt, s.FinishAt, now)
	if elapsed > 0 {
		// Fractions carry over, or frequent reads of a slow session would never see it move.
		s.Progress = addClamped32(s.Progress, grow(&s.progressFrac, s.ProgressPerSecond, elapsed))
		s.ProcessedObjects = addClamped64(s.ProcessedObjects, grow(&s.objectsFrac, s.ObjectsPerSecond, elapsed))
		s.advancedAt = to
	}
	if finished {
		s.Status, s.EndTime = endPlan(s.FinalStatus, s.FinishAt)
	}
}

func addClamped32(v int32, d float64) int32 {
	r := float64(v) + d
	if r > math.MaxInt32 {
		return math.MaxInt32
	}
	return int32(r)
}

func addClamped64(v int64, d float64) int64 {
	r := float64(v) + d
	if r > math.MaxInt64/2 {
		return math.MaxInt64 / 2
	}
	return int64(r)
}

func (s *Session) validate() error {
	if !isUUID(s.ID) {
		return fmt.Errorf("session id %q is not a UUID", s.ID)
	}
	if s.RetrievalID != "" && !isUUID(s.RetrievalID) {
		return fmt.Errorf("retrievalId %q is not a UUID", s.RetrievalID)
	}
	if s.CreationTime.IsZero() {
		return fmt.Errorf("session %s has no creation time", s.ID)
	}
	if err := errors.Join(oneOf("status", s.Status, sessionStatuses), oneOf("type", s.Type, sessionTypes),
		optional(s.FinalStatus, oneOf("final status", s.FinalStatus, sessionStatuses))); err != nil {
		return err
	}
	for _, id := range []string{s.RepositoryID, s.ProxyID, s.ProxyPoolID} {
		if id != "" && !isUUID(id) {
			return fmt.Errorf("%q is not a UUID", id)
		}
	}
	return nil
}

// DataRetrieval is a retrieval job (RESTDataRetrievalComposed), kept simple: sessions refer to
// it by RetrievalID and its lastStatus follows the newest of them.
type DataRetrieval struct {
	ID             string
	Name           string
	Description    string // empty is sent as null
	Type           string // Exchange, OneDrive, SharePoint, Teams
	DataState      string
	LastStatus     string // used when no session refers to this retrieval
	StorageType    string // AzureArchive or AmazonS3Glacier
	Policy         string // the retrieval policy matching StorageType
	OrganizationID string
	RepositoryID   string
	ProxyID        string
	PointInTime    time.Time
	StartTime      time.Time
	ExpirationTime time.Time // zero is sent as null
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func isUUID(s string) bool { return uuidRE.MatchString(s) }

func normID(s string) string { return strings.ToLower(s) }

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// optional is err unless the value it is about is empty, which means "not set".
func optional(v string, err error) error {
	if v == "" {
		return nil
	}
	return err
}

// oneOf is the error for a value outside its documented enum; nil when it is one of them.
func oneOf(what, v string, allowed []string) error {
	if contains(allowed, v) {
		return nil
	}
	return fmt.Errorf("%s %q is not one of %v", what, v, allowed)
}
