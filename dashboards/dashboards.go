// Package dashboards ships the Grafana dashboards for vb365_exporter. The JSON
// files are the source of truth (users import or provision them as they are);
// this package embeds them so the unit and end-to-end tests read exactly those files.
package dashboards

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
)

// File names inside dashboards/: the data retrieval dashboard and the installation one.
const (
	FileName             = "vb365-data-retrieval-sessions.json"
	InstallationFileName = "vb365-installation.json"
)

// JSON is the content of dashboards/vb365-data-retrieval-sessions.json.
//
//go:embed vb365-data-retrieval-sessions.json
var JSON []byte

// Files holds every dashboard, dashboards/*.json.
//
//go:embed *.json
var Files embed.FS

// Names lists the shipped dashboards' file names, sorted.
func Names() []string {
	names, err := fs.Glob(Files, "*.json")
	if err != nil {
		panic(err) // only for a malformed pattern
	}
	return names
}

// LoadFile parses the shipped dashboard of that file name.
func LoadFile(name string) (*Dashboard, error) {
	b, err := Files.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// Dashboard is the part of Grafana's dashboard model the tests look at.
type Dashboard struct {
	UID           string  `json:"uid"`
	Title         string  `json:"title"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []Panel `json:"panels"`
	Links         []Link  `json:"links"`
	Templating    struct {
		List []Variable `json:"list"`
	} `json:"templating"`
}

// Panel is a dashboard panel; rows carry their collapsed children in Panels.
type Panel struct {
	ID          int            `json:"id"`
	Type        string         `json:"type"`
	Title       string         `json:"title"`
	Description string         `json:"description"`
	Datasource  *DatasourceRef `json:"datasource"`
	GridPos     struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets         []Target          `json:"targets"`
	Panels          []Panel           `json:"panels"`
	Transformations []json.RawMessage `json:"transformations"`
	FieldConfig     json.RawMessage   `json:"fieldConfig"`
	Options         json.RawMessage   `json:"options"`
}

// Target is one Prometheus query of a panel.
type Target struct {
	RefID        string         `json:"refId"`
	Expr         string         `json:"expr"`
	Instant      bool           `json:"instant"`
	Range        bool           `json:"range"`
	Format       string         `json:"format"`
	LegendFormat string         `json:"legendFormat"`
	Datasource   *DatasourceRef `json:"datasource"`
}

// Link is a dashboard link in the dashboard's header.
type Link struct {
	Title       string `json:"title"`
	Type        string `json:"type"`
	URL         string `json:"url"`
	IncludeVars bool   `json:"includeVars"`
	KeepTime    bool   `json:"keepTime"`
}

// DatasourceRef points a panel, query or variable at a data source.
type DatasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// Variable is a template variable.
type Variable struct {
	Type       string          `json:"type"`
	Name       string          `json:"name"`
	Query      json.RawMessage `json:"query"`
	Datasource *DatasourceRef  `json:"datasource"`
	Multi      bool            `json:"multi"`
	IncludeAll bool            `json:"includeAll"`
	AllValue   string          `json:"allValue"`
}

// Load parses the shipped dashboard.
func Load() (*Dashboard, error) {
	return Parse(JSON)
}

// Parse parses a dashboard JSON document.
func Parse(b []byte) (*Dashboard, error) {
	var d Dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("dashboard is not valid JSON: %w", err)
	}
	return &d, nil
}

// AllPanels returns every panel, including those nested in rows.
func (d *Dashboard) AllPanels() []Panel {
	var out []Panel
	for _, p := range d.Panels {
		out = append(out, p)
		out = append(out, p.Panels...)
	}
	return out
}

// Query is one panel query, named for error messages.
type Query struct {
	Panel string
	Target
}

// Queries returns the Prometheus queries of every panel.
func (d *Dashboard) Queries() []Query {
	var out []Query
	for _, p := range d.AllPanels() {
		for _, t := range p.Targets {
			out = append(out, Query{Panel: p.Title, Target: t})
		}
	}
	return out
}
