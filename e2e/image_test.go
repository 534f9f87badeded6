//go:build e2e && linux

package e2e

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vb365-exporter/vb365_exporter/simulator"
)

// imageConfig is the part of the OCI image config a container runtime acts on.
type imageConfig struct {
	User         string              `json:"User"`
	Entrypoint   []string            `json:"Entrypoint"`
	Cmd          []string            `json:"Cmd"`
	Env          []string            `json:"Env"`
	ExposedPorts map[string]struct{} `json:"ExposedPorts"`
	Labels       map[string]string   `json:"Labels"`
}

// TestImageRunsAsNonRootAndServesMetrics builds the release image with `make image` and runs
// what it holds as a container runtime would: the image's entrypoint and command, its
// environment, as its user, with the root at the image's filesystem, its own PID and mount
// namespaces and /proc. Containers cannot be started on every machine (rootless limits on
// RLIMIT_NOFILE, nested runtimes), so the test does not ask a runtime: it copies the image's
// filesystem out with buildah and starts the entrypoint with unshare and chroot, which
// needs root, as CI has. The exporter must trust a server through the image's CA bundle
// (no ca_file), read its config at the image's config path and answer /metrics.
func TestImageRunsAsNonRootAndServesMetrics(t *testing.T) {
	buildah := requireTool(t, "buildah", "apt-get install -y buildah")
	unshare := requireTool(t, "unshare", "apt-get install -y util-linux")
	chroot := requireTool(t, "chroot", "apt-get install -y coreutils")
	if os.Getuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI runs as root; this test needs root for buildah mount, unshare and chroot")
		}
		t.Skip("needs root (buildah mount, unshare, chroot)")
	}
	image := fmt.Sprintf("localhost/vb365_exporter:test-%d", os.Getpid())
	repo := repoRoot(t)
	mk := exec.Command("make", "--no-print-directory", "image", "IMAGE="+image)
	mk.Dir = repo
	out, err := mk.CombinedOutput()
	if err != nil {
		t.Fatalf("make image: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command(buildah, "rmi", "-f", image).Run() })

	// What the image says about itself.
	raw, err := exec.Command(buildah, "inspect", "--type", "image", image).Output()
	if err != nil {
		t.Fatalf("buildah inspect: %v", err)
	}
	var inspect struct {
		OCIv1 struct {
			Config imageConfig `json:"config"`
		} `json:"OCIv1"`
	}
	if err := json.Unmarshal(raw, &inspect); err != nil {
		t.Fatal(err)
	}
	cfg := inspect.OCIv1.Config
	version, err := os.ReadFile(filepath.Join(repo, "VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.User != "65532:65532" {
		t.Errorf("image user %q, want 65532:65532 (numeric, for runAsNonRoot)", cfg.User)
	}
	if !slices.Equal(cfg.Entrypoint, []string{"/bin/vb365_exporter"}) || !slices.Contains(cfg.Cmd, "--config.file=/etc/vb365_exporter/config.yml") {
		t.Errorf("entrypoint %q, cmd %q", cfg.Entrypoint, cfg.Cmd)
	}
	if _, ok := cfg.ExposedPorts["9925/tcp"]; !ok {
		t.Errorf("exposed ports %v, want 9925/tcp", cfg.ExposedPorts)
	}
	if got := cfg.Labels["org.opencontainers.image.version"]; got != strings.TrimSpace(string(version)) {
		t.Errorf("version label %q", got)
	}

	root := exportImage(t, buildah, image)

	// The CA bundle is Debian's, at the path Go reads first.
	bundlePath := filepath.Join(root, "etc/ssl/certs/ca-certificates.crt")
	bundle, err := os.ReadFile(bundlePath)
	if err != nil {
		t.Fatalf("no CA bundle in the image: %v", err)
	}
	if n := strings.Count(string(bundle), "BEGIN CERTIFICATE"); n < 100 || !x509.NewCertPool().AppendCertsFromPEM(bundle) {
		t.Errorf("CA bundle has %d certificates", n)
	}
	// Trust the simulator through the bundle, as a user adds a private CA to an image of
	// their own: the exporter can only verify the server if it reads this very file.
	sim := startSim(t, simulator.Options{})
	sim.sim.LoadDemoData()
	caPEM, err := os.ReadFile(sim.caFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bundlePath, append(bundle, caPEM...), 0o644); err != nil {
		t.Fatal(err)
	}

	// The config and password where the image's command looks, readable by its user only.
	etc := filepath.Join(root, "etc/vb365_exporter")
	config := fmt.Sprintf("servers:\n  - name: bundle\n    url: %s\n    username: '%s'\n    password_file: password\n    sessions:\n      - %s\n",
		sim.url, simUser, simulator.ReferenceSessionID)
	for name, content := range map[string]string{"config.yml": config, "password": simPassword + "\n"} {
		p := filepath.Join(etc, name)
		if err := os.WriteFile(p, []byte(content), 0o400); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, 65532, 65532); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(root, "proc"), 0o555); err != nil {
		t.Fatal(err)
	}

	uid, gid, _ := strings.Cut(cfg.User, ":")
	addr := freeAddr(t)
	args := []string{"--mount", "--pid", "--fork", "--kill-child", "--mount-proc=" + filepath.Join(root, "proc"),
		chroot, "--userspec=" + cfg.User, "--groups=" + gid, root}
	args = append(append(append(args, cfg.Entrypoint...), cfg.Cmd...), "--web.listen-address="+addr)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, unshare, args...)
	cmd.Env = cfg.Env // the image's environment, nothing of the test's
	// chroot's change of user clears the parent-death signal that --kill-child sets, so the
	// entrypoint would outlive unshare: stop the whole process group instead.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	base := "http://" + addr
	for i := 0; ; i++ {
		resp, err := http.Get(base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case <-done:
			t.Fatalf("the image's entrypoint exited:\n%s", logs.String())
		case <-time.After(50 * time.Millisecond):
		}
		if i > 600 {
			t.Fatalf("the image's entrypoint does not answer:\n%s", logs.String())
		}
	}

	// The process serving is the image's binary, running as the image's user.
	pid := childOf(t, cmd.Process.Pid)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) == 5 && (f[0] == "Uid:" || f[0] == "Gid:") {
			want := uid
			if f[0] == "Gid:" {
				want = gid
			}
			if f[1] != want || f[2] != want || f[3] != want || f[4] != want {
				t.Errorf("process %s %v, want %s everywhere", f[0], f[1:], want)
			}
		}
	}
	if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err != nil || exe != filepath.Join(root, "bin/vb365_exporter") {
		t.Errorf("serving process runs %q (%v), want the image's /bin/vb365_exporter", exe, err)
	}

	r := scrape(t, base+"/metrics", nil)
	if r.status != http.StatusOK {
		t.Fatalf("/metrics: %d", r.status)
	}
	if got := r.mustValue(t, "vb365_up", l("server", "bundle")); got != 1 {
		t.Errorf("vb365_up %v: the server was not trusted through the image's CA bundle:\n%s", got, logs.String())
	}
	if got := r.mustValue(t, "vb365_data_retrieval_session_scrape_success", l("server", "bundle", "session_id", simulator.ReferenceSessionID)); got != 1 {
		t.Errorf("reference session not read: %v", got)
	}
	if got := r.mustValue(t, "vb365_exporter_build_info", l("version", strings.TrimSpace(string(version)))); got != 1 {
		t.Errorf("build_info %v", got)
	}
}

// exportImage copies the image's filesystem into a temporary directory, as a runtime would
// unpack it, and returns that directory.
func exportImage(t *testing.T, buildah, image string) string {
	t.Helper()
	ctr, err := exec.Command(buildah, "from", "--pull-never", "--quiet", image).Output()
	if err != nil {
		t.Fatalf("buildah from: %v", err)
	}
	name := strings.TrimSpace(string(ctr))
	defer func() { _ = exec.Command(buildah, "rm", name).Run() }()
	mnt, err := exec.Command(buildah, "mount", name).Output()
	if err != nil {
		t.Fatalf("buildah mount: %v", err)
	}
	defer func() { _ = exec.Command(buildah, "umount", name).Run() }()
	root := filepath.Join(t.TempDir(), "rootfs")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-a", strings.TrimSpace(string(mnt))+"/.", root+"/").CombinedOutput(); err != nil {
		t.Fatalf("copying the image's filesystem: %v\n%s", err, out)
	}
	return root
}

// childOf returns the one child of pid: unshare --fork's child, which chroot replaced with
// the entrypoint.
func childOf(t *testing.T, pid int) int {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(data))
	if len(f) != 1 {
		t.Fatalf("unshare has children %q", f)
	}
	child, err := strconv.Atoi(f[0])
	if err != nil {
		t.Fatal(err)
	}
	return child
}
