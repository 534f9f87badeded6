// Package examples_test checks that the files in examples/ are consistent
// with each other and with the exporter: the configs load with the
// exporter's own config package, the systemd unit keeps its hardening and
// its credential path matches the config, the Kubernetes objects reference
// each other correctly, and docker-compose.yml mounts files that exist.
// promtool and systemd-analyze add their own checks in make examples-check.
package examples_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/vb365-exporter/vb365_exporter/config"
	"github.com/vb365-exporter/vb365_exporter/simulator"
)

var (
	passwordFileRE = regexp.MustCompile(`(?m)^(\s*password_file:\s*)(\S+)\s*$`)
	caFileRE       = regexp.MustCompile(`(?m)^(\s*ca_file:\s*)(\S+)\s*$`)
)

// loadConfig loads an example config with the exporter's config package.
// Example configs name password files that exist only on the target
// machine, so each password_file is pointed at a temporary file first; the
// original paths are returned for the caller to check.
func loadConfig(t *testing.T, name string, data []byte) (*config.Config, []string) {
	t.Helper()
	dir := t.TempDir()
	pw := filepath.Join(dir, "password")
	if err := os.WriteFile(pw, []byte("example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var originals []string
	for _, m := range passwordFileRE.FindAllSubmatch(data, -1) {
		originals = append(originals, string(m[2]))
	}
	data = passwordFileRE.ReplaceAll(data, []byte("${1}"+pw))
	// The loader reads the CA file: point it at a real one.
	_, caPEM, err := simulator.GenerateCert("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	data = caFileRE.ReplaceAll(data, []byte("${1}"+ca))
	path := filepath.Join(dir, filepath.Base(name))
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("%s does not load: %v", name, err)
	}
	return cfg, originals
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// unit is a parsed systemd unit: section -> key -> values in order.
type unit map[string]map[string][]string

func parseUnit(t *testing.T, path string) unit {
	t.Helper()
	u := unit{}
	section := ""
	var logical strings.Builder
	s := bufio.NewScanner(bytes.NewReader(read(t, path)))
	flush := func() {
		line := strings.TrimSpace(logical.String())
		logical.Reset()
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") {
			return
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = strings.Trim(line, "[]")
			u[section] = map[string][]string{}
			return
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || section == "" {
			t.Fatalf("%s: cannot parse %q", path, line)
		}
		k = strings.TrimSpace(k)
		u[section][k] = append(u[section][k], strings.Join(strings.Fields(v), " "))
	}
	for s.Scan() {
		line := s.Text()
		if trimmed := strings.TrimSpace(line); strings.HasPrefix(trimmed, "#") && logical.Len() == 0 {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			logical.WriteString(strings.TrimSuffix(line, `\`) + " ")
			continue
		}
		logical.WriteString(line)
		flush()
	}
	flush()
	return u
}

func TestSystemdUnitIsHardenedAndMatchesItsConfig(t *testing.T) {
	const path = "systemd/vb365_exporter.service"
	u := parseUnit(t, path)
	svc := u["Service"]
	if svc == nil {
		t.Fatalf("%s has no [Service] section", path)
	}
	for key, want := range map[string]string{
		"DynamicUser":           "yes",
		"ProtectSystem":         "strict",
		"ProtectHome":           "yes",
		"NoNewPrivileges":       "yes",
		"PrivateTmp":            "yes",
		"CapabilityBoundingSet": "",
		"Restart":               "on-failure",
	} {
		if got := svc[key]; len(got) == 0 || got[len(got)-1] != want {
			t.Errorf("%s: %s=%q, want %q", path, key, got, want)
		}
	}
	if got := strings.Join(svc["RestrictAddressFamilies"], " "); got != "AF_INET AF_INET6" {
		t.Errorf("%s: RestrictAddressFamilies=%q, want only AF_INET AF_INET6", path, got)
	}
	if !slices.Contains(svc["SystemCallFilter"], "@system-service") {
		t.Errorf("%s: SystemCallFilter %q lacks @system-service", path, svc["SystemCallFilter"])
	}
	if exec := strings.Join(svc["ExecStart"], " "); !strings.Contains(exec, "--config.file=/etc/vb365_exporter/config.yml") {
		t.Errorf("%s: ExecStart %q does not use /etc/vb365_exporter/config.yml", path, exec)
	}
	if got := svc["ExecReload"]; len(got) != 1 || !strings.Contains(got[0], "-HUP $MAINPID") {
		t.Errorf("%s: ExecReload=%q, want a SIGHUP (the exporter reloads on it)", path, got)
	}
	creds := svc["LoadCredential"]
	if len(creds) != 1 {
		t.Fatalf("%s: want one LoadCredential, got %q", path, creds)
	}
	name, source, _ := strings.Cut(creds[0], ":")
	if source != "/etc/vb365_exporter/password" {
		t.Errorf("%s: LoadCredential source %q, want /etc/vb365_exporter/password", path, source)
	}
	// The config cannot use %d, so it must spell out the directory systemd
	// gives this unit's credentials.
	wantPW := "/run/credentials/" + filepath.Base(path) + "/" + name
	_, pw := loadConfig(t, "systemd/config.yml", read(t, "systemd/config.yml"))
	if !slices.Equal(pw, []string{wantPW}) {
		t.Errorf("systemd/config.yml password_file %q, want %q", pw, wantPW)
	}
}

// k8sObject is the part of a manifest the checks need; everything else is
// reached through the raw node.
type k8sObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	raw map[string]any
}

func decodeAll(t *testing.T, path string) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(read(t, path)))
	var docs []map[string]any
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
}

// get walks a decoded YAML tree by map keys and list indexes.
func get(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch key := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %q: not a mapping in path %v", key, path)
			}
			v = m[key]
		case int:
			l, ok := v.([]any)
			if !ok || key >= len(l) {
				t.Fatalf("at [%d]: not a long enough list in path %v", key, path)
			}
			v = l[key]
		}
	}
	return v
}

func TestKubernetesManifestsFitTogether(t *testing.T) {
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	objs := map[string]k8sObject{}
	var resources []string
	for _, f := range files {
		for _, doc := range decodeAll(t, f) {
			b, err := yaml.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			var o k8sObject
			if err := yaml.Unmarshal(b, &o); err != nil {
				t.Fatal(err)
			}
			o.raw = doc
			if o.APIVersion == "" || o.Kind == "" {
				t.Errorf("%s: object without apiVersion/kind", f)
				continue
			}
			if o.Kind == "Kustomization" {
				for _, r := range get(t, doc, "resources").([]any) {
					resources = append(resources, "kubernetes/"+r.(string))
				}
				continue
			}
			if o.Metadata.Name == "" {
				t.Errorf("%s: %s without metadata.name", f, o.Kind)
			}
			if _, dup := objs[o.Kind]; dup {
				t.Errorf("%s: second %s", f, o.Kind)
			}
			objs[o.Kind] = o
		}
	}
	others := slices.DeleteFunc(slices.Clone(files), func(f string) bool { return f == "kubernetes/kustomization.yaml" })
	slices.Sort(resources)
	if !slices.Equal(resources, others) {
		t.Errorf("kustomization resources %q, want every other manifest %q", resources, others)
	}
	for _, kind := range []string{"Deployment", "Service", "Secret", "ConfigMap", "ServiceMonitor"} {
		if _, ok := objs[kind]; !ok {
			t.Fatalf("no %s in kubernetes/", kind)
		}
	}

	dep := objs["Deployment"].raw
	pod := get(t, dep, "spec", "template", "spec")
	podLabels := get(t, dep, "spec", "template", "metadata", "labels").(map[string]any)
	if sel := get(t, dep, "spec", "selector", "matchLabels").(map[string]any); !subset(sel, podLabels) {
		t.Errorf("Deployment selector %v does not match pod labels %v", sel, podLabels)
	}
	if get(t, pod, "securityContext", "runAsNonRoot") != true {
		t.Error("pod securityContext.runAsNonRoot is not true")
	}
	c := get(t, pod, "containers", 0)
	sc := get(t, c, "securityContext")
	if get(t, sc, "readOnlyRootFilesystem") != true || get(t, sc, "allowPrivilegeEscalation") != false {
		t.Errorf("container securityContext %v: want readOnlyRootFilesystem true, allowPrivilegeEscalation false", sc)
	}
	if drop := get(t, sc, "capabilities", "drop"); !slices.Equal(toStrings(drop), []string{"ALL"}) {
		t.Errorf("capabilities.drop %v, want [ALL]", drop)
	}
	port := get(t, c, "ports", 0)
	if get(t, port, "containerPort") != 9925 || get(t, port, "name") != "http" {
		t.Errorf("container port %v, want http 9925", port)
	}
	for probe, want := range map[string]string{"livenessProbe": "/-/healthy", "readinessProbe": "/-/ready"} {
		if p := get(t, c, probe, "httpGet", "path"); p != want {
			t.Errorf("%s path %v, want %s", probe, p, want)
		}
		if p := get(t, c, probe, "httpGet", "port"); p != "http" {
			t.Errorf("%s port %v, want http", probe, p)
		}
	}

	// The config file the container is told to read must be in the
	// projected volume, and the password_file it names must be the
	// Secret's key projected beside it.
	args := toStrings(get(t, c, "args"))
	i := slices.IndexFunc(args, func(a string) bool { return strings.HasPrefix(a, "--config.file=") })
	if i < 0 {
		t.Fatalf("container args %q lack --config.file", args)
	}
	configFile := strings.TrimPrefix(args[i], "--config.file=")
	mount := get(t, c, "volumeMounts", 0)
	mountPath := get(t, mount, "mountPath").(string)
	if filepath.Dir(configFile) != mountPath {
		t.Errorf("--config.file=%s is not in the mounted %s", configFile, mountPath)
	}
	vol := get(t, pod, "volumes", 0)
	if get(t, vol, "name") != get(t, mount, "name") {
		t.Errorf("volume %v is not the one mounted (%v)", get(t, vol, "name"), get(t, mount, "name"))
	}
	var cmName, secretName, secretKey, secretPath string
	for _, src := range get(t, vol, "projected", "sources").([]any) {
		if cm, ok := src.(map[string]any)["configMap"]; ok {
			cmName = get(t, cm, "name").(string)
		}
		if s, ok := src.(map[string]any)["secret"]; ok {
			secretName = get(t, s, "name").(string)
			secretKey = get(t, s, "items", 0, "key").(string)
			secretPath = get(t, s, "items", 0, "path").(string)
		}
	}
	if cmName != objs["ConfigMap"].Metadata.Name || secretName != objs["Secret"].Metadata.Name {
		t.Errorf("projected volume uses ConfigMap %q and Secret %q, want %q and %q",
			cmName, secretName, objs["ConfigMap"].Metadata.Name, objs["Secret"].Metadata.Name)
	}
	if _, ok := get(t, objs["Secret"].raw, "stringData").(map[string]any)[secretKey]; !ok {
		t.Errorf("Secret has no key %q", secretKey)
	}
	cmData := get(t, objs["ConfigMap"].raw, "data").(map[string]any)
	cfgText, ok := cmData[filepath.Base(configFile)].(string)
	if !ok {
		t.Fatalf("ConfigMap has no %s", filepath.Base(configFile))
	}
	_, pw := loadConfig(t, "configmap config.yml", []byte(cfgText))
	if want := []string{mountPath + "/" + secretPath}; !slices.Equal(pw, want) {
		t.Errorf("ConfigMap password_file %q, want the projected Secret %q", pw, want)
	}

	svc := objs["Service"].raw
	if sel := get(t, svc, "spec", "selector").(map[string]any); !subset(sel, podLabels) {
		t.Errorf("Service selector %v does not select the pods %v", sel, podLabels)
	}
	svcPort := get(t, svc, "spec", "ports", 0)
	if get(t, svcPort, "targetPort") != "http" || get(t, svcPort, "port") != 9925 {
		t.Errorf("Service port %v, want 9925 -> http", svcPort)
	}
	sm := objs["ServiceMonitor"].raw
	if sel := get(t, sm, "spec", "selector", "matchLabels").(map[string]any); !subset(sel, toAny(objs["Service"].Metadata.Labels)) {
		t.Errorf("ServiceMonitor selector %v does not select the Service %v", sel, objs["Service"].Metadata.Labels)
	}
	if p := get(t, sm, "spec", "endpoints", 0, "port"); p != get(t, svcPort, "name") {
		t.Errorf("ServiceMonitor endpoint port %v, want the Service's %v", p, get(t, svcPort, "name"))
	}
}

func TestComposeStack(t *testing.T) {
	docs := decodeAll(t, "docker-compose.yml")
	if len(docs) != 1 {
		t.Fatalf("docker-compose.yml: %d documents, want 1", len(docs))
	}
	services := get(t, docs[0], "services").(map[string]any)
	var names []string
	for name := range services {
		names = append(names, name)
	}
	slices.Sort(names)
	if want := []string{"alertmanager", "exporter", "grafana", "prometheus", "simulator"}; !slices.Equal(names, want) {
		t.Errorf("services %q, want %q", names, want)
	}

	// Every bind mount must name a file in the repository, so a clone
	// starts the stack as it is; that includes the dashboard and the rules.
	mounts := map[string]string{}
	for name, svc := range services {
		vols, _ := get(t, svc, "volumes").([]any)
		for _, v := range vols {
			parts := strings.Split(v.(string), ":")
			if len(parts) < 2 {
				t.Errorf("%s: volume %q is not SOURCE:TARGET", name, v)
				continue
			}
			mounts[parts[1]] = parts[0]
			if _, err := os.Stat(parts[0]); err != nil {
				if dir := topDir(parts[0]); dir != "." && !exists(dir) {
					// dashboards/ and alerts/ come from their own packages;
					// once a package is in the checkout its file must exist.
					t.Logf("%s: %s is not in this checkout", name, dir)
					continue
				}
				t.Errorf("%s: mount source %s: %v", name, parts[0], err)
			}
		}
	}
	for _, want := range []string{"../dashboards/vb365-data-retrieval-sessions.json", "../alerts/vb365_exporter.rules.yml"} {
		if !slices.Contains(mapValues(mounts), want) {
			t.Errorf("%s is not provisioned", want)
		}
	}

	// The simulator is built from this repository's Dockerfile stage.
	if target := get(t, services["simulator"], "build", "target"); target != "simulator" {
		t.Errorf("simulator build target %v, want simulator", target)
	} else if !regexp.MustCompile(`(?m)^FROM \S+ AS simulator$`).Match(read(t, "../Dockerfile")) {
		t.Error("the Dockerfile has no stage named simulator")
	}

	// The exporter reads the config mounted for it, and that config's
	// password_file is the compose secret.
	exporter := services["exporter"]
	cmd := toStrings(get(t, exporter, "command"))
	cfgPath := strings.TrimPrefix(cmd[0], "--config.file=")
	src, ok := mounts[cfgPath]
	if !ok {
		t.Fatalf("exporter config %s is not mounted", cfgPath)
	}
	cfg, pw := loadConfig(t, src, read(t, src))
	secrets := toStrings(get(t, exporter, "secrets"))
	for _, p := range pw {
		if !strings.HasPrefix(p, "/run/secrets/") || !slices.Contains(secrets, strings.TrimPrefix(p, "/run/secrets/")) {
			t.Errorf("password_file %s is not a secret of the exporter service (%q)", p, secrets)
		}
	}
	versions := map[string]bool{}
	for _, s := range cfg.Servers {
		versions[s.APIVersion] = true
		if !strings.HasPrefix(s.URL, "http://simulator:") {
			t.Errorf("server %s polls %s, not the simulator service", s.Name, s.URL)
		}
	}
	if !versions["v6"] || !versions["v8"] {
		t.Errorf("compose config covers API versions %v, want v6 and v8", versions)
	}
}

func TestPrometheusExampleScrapesTheExporter(t *testing.T) {
	for _, path := range []string{"prometheus/prometheus.yml", "compose/prometheus.yml"} {
		doc := decodeAll(t, path)[0]
		job := get(t, doc, "scrape_configs", 0)
		if get(t, job, "job_name") != "vb365" {
			t.Errorf("%s: first job %v, want vb365", path, get(t, job, "job_name"))
		}
		target := get(t, job, "static_configs", 0, "targets", 0).(string)
		if !strings.HasSuffix(target, ":9925") {
			t.Errorf("%s: target %s is not on the exporter's port 9925", path, target)
		}
	}
}

func subset(sub, of map[string]any) bool {
	for k, v := range sub {
		if of[k] != v {
			return false
		}
	}
	return len(sub) > 0
}

func toStrings(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func toAny(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// topDir returns the repository directory a path relative to examples/
// points into: "../dashboards" for "../dashboards/x.json", "." inside
// examples/.
func topDir(path string) string {
	parts := strings.Split(filepath.ToSlash(filepath.Clean(path)), "/")
	if len(parts) > 1 && parts[0] == ".." {
		return filepath.Join("..", parts[1])
	}
	return "."
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
