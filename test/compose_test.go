package test

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"gopkg.in/yaml.v3"
)

// The container set-up, checked without Docker: docker-compose.yml as Compose itself loads
// it (compose-go), and the Dockerfile read line by line.

// loadCompose loads ../docker-compose.yml as `docker compose [--profile P]... config`
// would, from an empty environment: no OS variables, no .env file, no network.
func loadCompose(t *testing.T, env []string, profiles ...string) *types.Project {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "docker-compose.yml")},
		cli.WithWorkingDirectory(root),
		cli.WithEnv(env),
		cli.WithProfiles(profiles),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		t.Fatal(err)
	}
	project, err := opts.LoadProject(ctx)
	if err != nil {
		t.Fatalf("load docker-compose.yml with profiles %q: %v", profiles, err)
	}
	return project
}

// composeSetup is what each ERP's half of the compose file must be: a database, an
// erp-init job that seeds it, and a bridge serving on it.
type composeSetup struct {
	db, init, bridge string
	scheme           string // of the DSN
	dbPort           int    // the database's port inside the network
	published        string // the bridge's port on the host
	dbImage          string // prefix
	profiles         []string
}

var composeSetups = []composeSetup{
	{db: "postgres", init: "erp-init", bridge: "bridge", scheme: "postgres", dbPort: 5432, published: "8080", dbImage: "postgres:"},
	{db: "oracle", init: "erp-init-oracle", bridge: "bridge-oracle", scheme: "oracle", dbPort: 1521, published: "8081", dbImage: "gvenzl/oracle-free:", profiles: []string{"oracle"}},
}

func TestComposeServicesPerProfile(t *testing.T) {
	def := loadCompose(t, nil)
	if got, want := sorted(def.ServiceNames()), []string{"bridge", "erp-init", "postgres"}; !slices.Equal(got, want) {
		t.Errorf("default services %q, want %q", got, want)
	}
	if got, want := sorted(def.DisabledServiceNames()), []string{"bridge-oracle", "erp-init-oracle", "grafana", "oracle", "prometheus"}; !slices.Equal(got, want) {
		t.Errorf("services behind a profile %q, want %q", got, want)
	}
	if def.Name != "b2bridge" {
		t.Errorf("project name %q, want b2bridge (set in the file, not taken from the directory)", def.Name)
	}

	ora := loadCompose(t, nil, "oracle")
	if got, want := sorted(ora.ServiceNames()), []string{"bridge", "bridge-oracle", "erp-init", "erp-init-oracle", "oracle", "postgres"}; !slices.Equal(got, want) {
		t.Errorf("services with profile oracle %q, want %q", got, want)
	}
	if got, want := sorted(ora.DisabledServiceNames()), []string{"grafana", "prometheus"}; !slices.Equal(got, want) {
		t.Errorf("services still disabled with profile oracle: %q, want %q", got, want)
	}
	for _, s := range composeSetups {
		for _, name := range []string{s.db, s.init, s.bridge} {
			if got := ora.Services[name].Profiles; !slices.Equal(got, s.profiles) {
				t.Errorf("%s: profiles %q, want %q", name, got, s.profiles)
			}
		}
	}

	// Compose Specification: no obsolete top-level version.
	b, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]any
	if err := yaml.Unmarshal(b, &top); err != nil {
		t.Fatal(err)
	}
	if _, ok := top["version"]; ok {
		t.Error("docker-compose.yml has the obsolete top-level version key")
	}
}

func TestComposeBridgeServices(t *testing.T) {
	p := loadCompose(t, nil, "oracle")
	root := p.WorkingDir
	image := ""
	for _, s := range composeSetups {
		db, init, bridge := p.Services[s.db], p.Services[s.init], p.Services[s.bridge]

		// The same image, built from this repository's Dockerfile.
		for _, svc := range []types.ServiceConfig{init, bridge} {
			if svc.Build == nil {
				t.Errorf("%s: no build section", svc.Name)
				continue
			}
			if svc.Build.Context != root {
				t.Errorf("%s: build context %q, want the repository %q", svc.Name, svc.Build.Context, root)
			}
			if _, err := os.Stat(filepath.Join(svc.Build.Context, svc.Build.Dockerfile)); err != nil {
				t.Errorf("%s: dockerfile %q: %v", svc.Name, svc.Build.Dockerfile, err)
			}
			if image == "" {
				image = svc.Image
			}
			if svc.Image == "" || svc.Image != image {
				t.Errorf("%s: image %q, want the one image %q of every b2bridge service", svc.Name, svc.Image, image)
			}
		}

		// The commands, and the data volume they share at the --data directory.
		if got, want := []string(init.Command), []string{"erp", "seed", "--if-empty", "--data", "/data"}; !slices.Equal(got, want) {
			t.Errorf("%s: command %q, want %q", s.init, got, want)
		}
		if got, want := []string(bridge.Command), []string{"serve"}; !slices.Equal(got, want) {
			t.Errorf("%s: command %q, want %q", s.bridge, got, want)
		}
		initData, bridgeData := volumeAt(init, "/data"), volumeAt(bridge, "/data")
		if initData == nil || bridgeData == nil || initData.Type != types.VolumeTypeVolume || initData.Source != bridgeData.Source || bridgeData.ReadOnly {
			t.Errorf("%s and %s do not share a writable named volume at /data: %+v, %+v", s.init, s.bridge, initData, bridgeData)
		}

		// Start order: the database healthy, then the seed job done, then the bridge.
		wantDeps := map[string]map[string]string{
			s.init:   {s.db: types.ServiceConditionHealthy},
			s.bridge: {s.db: types.ServiceConditionHealthy, s.init: types.ServiceConditionCompletedSuccessfully},
		}
		for name, want := range wantDeps {
			got := map[string]string{}
			for dep, d := range p.Services[name].DependsOn {
				got[dep] = d.Condition
				if !d.Required {
					t.Errorf("%s: dependency on %s is not required", name, dep)
				}
			}
			if !mapsEqual(got, want) {
				t.Errorf("%s: depends_on %v, want %v", name, got, want)
			}
		}
		if init.Restart != types.RestartPolicyNo {
			t.Errorf("%s: restart %q, want \"no\": a job run to completion", s.init, init.Restart)
		}
		if bridge.Restart != types.RestartPolicyUnlessStopped {
			t.Errorf("%s: restart %q, want unless-stopped", s.bridge, bridge.Restart)
		}
		if init.HealthCheck == nil || !init.HealthCheck.Disable {
			t.Errorf("%s: the image's health check is not disabled for the one-shot job: %+v", s.init, init.HealthCheck)
		}

		// Health: the bridge asks itself; the database has a check of its own.
		if hc := bridge.HealthCheck; hc == nil || hc.Disable || !slices.Equal([]string(hc.Test), []string{"CMD", "/b2bridge", "healthcheck"}) {
			t.Errorf("%s: healthcheck %+v, want test [CMD /b2bridge healthcheck]", s.bridge, hc)
		}
		if !strings.HasPrefix(db.Image, s.dbImage) {
			t.Errorf("%s: image %q, want %s...", s.db, db.Image, s.dbImage)
		}
		if db.HealthCheck == nil || db.HealthCheck.Disable || len(db.HealthCheck.Test) < 2 || db.HealthCheck.Test[0] != "CMD" {
			t.Errorf("%s: no health check to be service_healthy on: %+v", s.db, db.HealthCheck)
		}
		if s.db == "postgres" {
			if got, want := []string(db.HealthCheck.Test), []string{"CMD", "pg_isready", "-U", "postgres", "-d", "b2bridge"}; !slices.Equal(got, want) {
				t.Errorf("postgres: healthcheck %q, want %q", got, want)
			}
		}
		if volumeAt(db, dbDataDir(s.db)) == nil {
			t.Errorf("%s: no volume at its data directory %s", s.db, dbDataDir(s.db))
		}

		// The bridge's port on the host, to the port it listens on in the container.
		if len(bridge.Ports) != 1 || bridge.Ports[0].Published != s.published || bridge.Ports[0].Target != 8080 {
			t.Errorf("%s: ports %+v, want %s:8080", s.bridge, bridge.Ports, s.published)
		}
		if len(init.Ports) != 0 || len(db.Ports) != 0 {
			t.Errorf("%s or %s publishes ports: %+v %+v", s.init, s.db, init.Ports, db.Ports)
		}

		// The DSN names the database service, its scheme, port and credentials.
		for _, svc := range []types.ServiceConfig{init, bridge} {
			checkDSN(t, svc, db, s)
		}
	}
	if d1, d2 := volumeAt(p.Services["bridge"], "/data"), volumeAt(p.Services["bridge-oracle"], "/data"); d1 != nil && d2 != nil && d1.Source == d2.Source {
		t.Errorf("bridge and bridge-oracle share the data volume %q: one ERP's demo keys would overwrite the other's", d1.Source)
	}

	// Every named volume a service mounts is declared.
	for _, svc := range p.Services {
		for _, v := range svc.Volumes {
			if v.Type != types.VolumeTypeVolume {
				t.Errorf("%s: %s mount %s: want named volumes only", svc.Name, v.Type, v.Target)
				continue
			}
			if _, ok := p.Volumes[v.Source]; !ok {
				t.Errorf("%s: volume %q is not declared", svc.Name, v.Source)
			}
		}
	}
	if got, want := sorted(keys(p.Volumes)), []string{"bridge-data", "bridge-oracle-data", "grafana-data", "oracle-data", "postgres-data", "prometheus-data"}; !slices.Equal(got, want) {
		t.Errorf("volumes %q, want %q", got, want)
	}
}

// The passwords come from the environment, into the database and the DSNs alike.
func TestComposePasswordsFromEnvironment(t *testing.T) {
	p := loadCompose(t, []string{"POSTGRES_PASSWORD=pg-Secret1", "ORACLE_PASSWORD=ora-Secret2"}, "oracle")
	if got := env(p.Services["postgres"], "POSTGRES_PASSWORD"); got != "pg-Secret1" {
		t.Errorf("postgres: POSTGRES_PASSWORD %q", got)
	}
	for _, name := range []string{"ORACLE_PASSWORD", "APP_USER_PASSWORD"} {
		if got := env(p.Services["oracle"], name); got != "ora-Secret2" {
			t.Errorf("oracle: %s %q", name, got)
		}
	}
	for _, s := range composeSetups {
		for _, name := range []string{s.init, s.bridge} {
			checkDSN(t, p.Services[name], p.Services[s.db], s)
		}
	}
}

// checkDSN checks svc's B2BRIDGE_ERP_DSN against the database service db.
func checkDSN(t *testing.T, svc, db types.ServiceConfig, s composeSetup) {
	t.Helper()
	raw := env(svc, "B2BRIDGE_ERP_DSN")
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		t.Errorf("%s: B2BRIDGE_ERP_DSN %q: %v", svc.Name, raw, err)
		return
	}
	if u.Scheme != s.scheme {
		t.Errorf("%s: DSN scheme %q, want %q", svc.Name, u.Scheme, s.scheme)
	}
	if u.Hostname() != s.db {
		t.Errorf("%s: DSN host %q, want the service %q", svc.Name, u.Hostname(), s.db)
	}
	if _, ok := svc.DependsOn[u.Hostname()]; !ok {
		t.Errorf("%s: does not depend on the DSN's host %q", svc.Name, u.Hostname())
	}
	if port, _ := strconv.Atoi(u.Port()); port != s.dbPort {
		t.Errorf("%s: DSN port %q, want %d", svc.Name, u.Port(), s.dbPort)
	}
	pw, _ := u.User.Password()
	var wantUser, wantPW, wantPath string
	switch s.scheme {
	case "postgres":
		wantUser, wantPW, wantPath = "postgres", env(db, "POSTGRES_PASSWORD"), "/"+env(db, "POSTGRES_DB")
		if got := u.Query().Get("sslmode"); got != "disable" {
			t.Errorf("%s: DSN sslmode %q, want disable (no TLS inside the compose network)", svc.Name, got)
		}
	case "oracle":
		wantUser, wantPW, wantPath = env(db, "APP_USER"), env(db, "APP_USER_PASSWORD"), "/FREEPDB1"
	}
	if u.User.Username() != wantUser || pw != wantPW || wantPW == "" {
		t.Errorf("%s: DSN user %q password %q, want %q %q from %s", svc.Name, u.User.Username(), pw, wantUser, wantPW, s.db)
	}
	if u.Path != wantPath || wantPath == "/" {
		t.Errorf("%s: DSN database %q, want %q", svc.Name, u.Path, wantPath)
	}
}

func dbDataDir(db string) string {
	if db == "oracle" {
		return "/opt/oracle/oradata"
	}
	return "/var/lib/postgresql/data"
}

func volumeAt(svc types.ServiceConfig, target string) *types.ServiceVolumeConfig {
	for i, v := range svc.Volumes {
		if v.Target == target {
			return &svc.Volumes[i]
		}
	}
	return nil
}

func env(svc types.ServiceConfig, name string) string {
	if v := svc.Environment[name]; v != nil {
		return *v
	}
	return ""
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// dockerInstruction is one Dockerfile instruction, continuation lines joined.
type dockerInstruction struct {
	cmd, args string
}

// readDockerfile returns the Dockerfile's stages, each a list of instructions from its FROM.
func readDockerfile(t *testing.T) [][]dockerInstruction {
	t.Helper()
	f, err := os.Open("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var stages [][]dockerInstruction
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	flush := func() {
		line := strings.TrimSpace(cur.String())
		cur.Reset()
		if line == "" {
			return
		}
		cmd, args, _ := strings.Cut(line, " ")
		in := dockerInstruction{strings.ToUpper(cmd), strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			if in.cmd != "ARG" {
				t.Errorf("Dockerfile: %s before the first FROM", in.cmd)
			}
			return
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], in)
	}
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") {
			continue // comments (and the syntax directive), also inside continuations
		}
		if rest, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(rest + " ")
			continue
		}
		cur.WriteString(line)
		flush()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	flush()
	return stages
}

// execForm parses a JSON exec-form argument list.
func execForm(t *testing.T, what, args string) []string {
	t.Helper()
	var argv []string
	if err := json.Unmarshal([]byte(args), &argv); err != nil {
		t.Errorf("Dockerfile: %s %s: not the exec (JSON) form: %v", what, args, err)
	}
	return argv
}

// dockerEnv returns the ENV settings of a stage (KEY=VALUE forms).
func dockerEnv(stage []dockerInstruction) map[string]string {
	m := map[string]string{}
	for _, in := range stage {
		if in.cmd != "ENV" {
			continue
		}
		for _, kv := range strings.Fields(in.args) {
			if k, v, ok := strings.Cut(kv, "="); ok {
				m[k] = strings.Trim(v, `"'`)
			}
		}
	}
	return m
}

func last(stage []dockerInstruction, cmd string) (dockerInstruction, bool) {
	for i := len(stage) - 1; i >= 0; i-- {
		if stage[i].cmd == cmd {
			return stage[i], true
		}
	}
	return dockerInstruction{}, false
}

func TestDockerfile(t *testing.T) {
	stages := readDockerfile(t)
	if len(stages) < 2 {
		t.Fatalf("Dockerfile has %d stages, want a build stage and a final one", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]

	// Build stage: golang of go.mod's go version, static binary, modules as their own layer.
	from := strings.Fields(build[0].args)
	if len(from) != 3 || !strings.EqualFold(from[1], "AS") {
		t.Fatalf("Dockerfile: first stage %q is not named (FROM image AS name)", build[0].args)
	}
	buildName := from[2]
	goMod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goLine := regexp.MustCompile(`(?m)^go (\d+)\.(\d+)(?:\.(\d+))?\s*$`).FindStringSubmatch(string(goMod))
	tag := regexp.MustCompile(`^golang:(\d+)\.(\d+)(?:\.(\d+))?(?:-[a-z0-9.-]+)?$`).FindStringSubmatch(from[0])
	switch {
	case goLine == nil:
		t.Error("go.mod has no go line")
	case tag == nil:
		t.Errorf("Dockerfile: build stage image %q, want golang:<go version>[-variant]", from[0])
	case tag[1] != goLine[1] || tag[2] != goLine[2]:
		t.Errorf("Dockerfile: build stage %s, but go.mod says go %s.%s", from[0], goLine[1], goLine[2])
	case tag[3] != "" && goLine[3] != "" && atoi(tag[3]) < atoi(goLine[3]):
		t.Errorf("Dockerfile: build stage %s is older than go.mod's go %s.%s.%s", from[0], goLine[1], goLine[2], goLine[3])
	}
	var step []string // the order of the build stage's key steps
	for _, in := range build {
		switch {
		case in.cmd == "COPY" && strings.Contains(in.args, "go.mod") && strings.Contains(in.args, "go.sum"):
			step = append(step, "copy go.mod")
		case in.cmd == "COPY" && regexp.MustCompile(`^(--\S+\s+)*\.\s`).MatchString(in.args):
			step = append(step, "copy all")
		case in.cmd == "RUN" && strings.Contains(in.args, "go mod download"):
			step = append(step, "download")
		case in.cmd == "RUN" && strings.Contains(in.args, "go build"):
			step = append(step, "build")
			for _, want := range []string{"-trimpath", "-s -w", "-o /out/b2bridge", "./cmd/b2bridge"} {
				if !strings.Contains(in.args, want) {
					t.Errorf("Dockerfile: go build without %s: %s", want, in.args)
				}
			}
			if dockerEnv(build)["CGO_ENABLED"] != "0" && !strings.Contains(in.args, "CGO_ENABLED=0") {
				t.Errorf("Dockerfile: go build without CGO_ENABLED=0: not a static binary for a static image")
			}
		}
	}
	if want := []string{"copy go.mod", "download", "copy all", "build"}; !slices.Equal(step, want) {
		t.Errorf("Dockerfile: build stage steps %q, want %q (modules downloaded in their own layer)", step, want)
	}

	// Final stage: static and minimal, the binary, a non-root user owning /data.
	image := strings.Fields(final[0].args)[0]
	if !strings.HasPrefix(image, "gcr.io/distroless/static") && image != "scratch" {
		t.Errorf("Dockerfile: final stage %q, want distroless static or scratch", image)
	}
	user, ok := last(final, "USER")
	uid, _, _ := strings.Cut(user.args, ":")
	if !ok || uid == "" || uid == "root" || uid == "0" || (image == "scratch" && atoi(uid) <= 0) {
		t.Errorf("Dockerfile: final stage USER %q, want a non-root user", user.args)
	}
	var binDst, data string
	for _, in := range final {
		if in.cmd != "COPY" {
			continue
		}
		f := strings.Fields(in.args)
		if !slices.Contains(f, "--from="+buildName) || len(f) < 2 {
			continue
		}
		switch src, dst := f[len(f)-2], f[len(f)-1]; {
		case src == "/out/b2bridge":
			binDst = dst
		case dst == "/data" || dst == "/data/":
			data = dst
			if !slices.Contains(f, "--chown="+user.args) && !slices.Contains(f, "--chown="+uid) && !slices.Contains(f, "--chown="+uid+":"+uid) {
				t.Errorf("Dockerfile: /data is not owned by USER %s: COPY %s", user.args, in.args)
			}
		}
	}
	if binDst != "/b2bridge" {
		t.Errorf("Dockerfile: the binary is copied to %q, want /b2bridge", binDst)
	}
	if data == "" {
		t.Error("Dockerfile: no /data copied from the build stage with its owner (distroless cannot mkdir it)")
	}
	if in, ok := last(final, "ENTRYPOINT"); !ok || !slices.Equal(execForm(t, "ENTRYPOINT", in.args), []string{"/b2bridge"}) {
		t.Errorf("Dockerfile: ENTRYPOINT %q, want [\"/b2bridge\"]", in.args)
	}
	if in, ok := last(final, "CMD"); !ok || !slices.Equal(execForm(t, "CMD", in.args), []string{"serve"}) {
		t.Errorf("Dockerfile: CMD %q, want [\"serve\"]", in.args)
	}
	hc, ok := last(final, "HEALTHCHECK")
	_, hcCmd, _ := strings.Cut(hc.args, "CMD ")
	if !ok || !slices.Equal(execForm(t, "HEALTHCHECK CMD", strings.TrimSpace(hcCmd)), []string{"/b2bridge", "healthcheck"}) {
		t.Errorf("Dockerfile: HEALTHCHECK %q, want CMD [\"/b2bridge\", \"healthcheck\"] (no curl in the image)", hc.args)
	}

	// What the environment says matches what the image exposes.
	imgEnv := dockerEnv(final)
	_, port, err := net.SplitHostPort(imgEnv["B2BRIDGE_ADDR"])
	if err != nil || !strings.HasPrefix(imgEnv["B2BRIDGE_ADDR"], "0.0.0.0:") {
		t.Errorf("Dockerfile: B2BRIDGE_ADDR %q, want 0.0.0.0:PORT (reachable from outside the container)", imgEnv["B2BRIDGE_ADDR"])
	}
	if in, ok := last(final, "EXPOSE"); !ok || in.args != port || port != "8080" {
		t.Errorf("Dockerfile: EXPOSE %q, B2BRIDGE_ADDR port %q, want both 8080", in.args, port)
	}
	if in, ok := last(final, "VOLUME"); !ok || in.args != "/data" || imgEnv["B2BRIDGE_DATA"] != "/data" {
		t.Errorf("Dockerfile: VOLUME %q, B2BRIDGE_DATA %q, want both /data", in.args, imgEnv["B2BRIDGE_DATA"])
	}
}

// The build context keeps what the build needs and leaves out data, VCS and test output.
func TestDockerfileContext(t *testing.T) {
	b, err := os.ReadFile("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			patterns = append(patterns, line)
		}
	}
	ignored := func(name string) bool {
		out := false
		for _, p := range patterns {
			neg := strings.HasPrefix(p, "!")
			p = strings.Trim(strings.TrimPrefix(p, "!"), "/")
			if dockerignoreMatch(p, name) {
				out = !neg
			}
		}
		return out
	}
	for _, name := range []string{".git/HEAD", "b2bridge-data/erp.db", "b2bridge-data/demo-credentials.json", "b2bridge", "test.out", "x.test"} {
		if !ignored(name) {
			t.Errorf(".dockerignore lets %s into the build context", name)
		}
	}
	for _, name := range []string{"go.mod", "go.sum", "cmd/b2bridge/main.go", "erp/sqlerp/sqlerp.go", "erp/sqlerp/schema/x.sql", "erp/embedded/embedded.go", "bridge/bridge.go"} {
		if ignored(name) {
			t.Errorf(".dockerignore leaves out %s, which the build needs", name)
		}
	}
}

// dockerignoreMatch matches name or one of its parent directories against a .dockerignore
// pattern (path.Match syntax, plus a leading **/ for any depth).
func dockerignoreMatch(pattern, name string) bool {
	parts := strings.Split(name, "/")
	for i := range parts {
		prefix := strings.Join(parts[:i+1], "/")
		if ok, _ := path.Match(pattern, prefix); ok {
			return true
		}
		if rest, ok := strings.CutPrefix(pattern, "**/"); ok {
			for j := 0; j <= i; j++ {
				if ok, _ := path.Match(rest, strings.Join(parts[j:i+1], "/")); ok {
					return true
				}
			}
		}
	}
	return false
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

// The observability profile: Prometheus scraping each bridge's /metrics on the port it
// listens on, and Grafana provisioned with that Prometheus and the b2bridge dashboard,
// from files that exist in the repository.
func TestComposeObservability(t *testing.T) {
	p := loadCompose(t, nil, "observability")
	prom, grafana := p.Services["prometheus"], p.Services["grafana"]
	if !slices.Equal(prom.Profiles, []string{"observability"}) || !slices.Equal(grafana.Profiles, []string{"observability"}) {
		t.Fatalf("profiles: prometheus %q, grafana %q", prom.Profiles, grafana.Profiles)
	}
	// Bind mounts: the host side must exist, at the path the container reads.
	mounted := map[string]string{} // container path → repository path
	for _, svc := range []types.ServiceConfig{prom, grafana} {
		for _, v := range svc.Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			rel, err := filepath.Rel(filepath.Dir(p.ComposeFiles[0]), v.Source)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join("..", rel)); err != nil || !v.ReadOnly {
				t.Errorf("%s: mount %s → %s: %v (read-only %v)", svc.Name, rel, v.Target, err, v.ReadOnly)
			}
			mounted[v.Target] = filepath.Join("..", rel)
		}
	}
	var promConfig struct {
		ScrapeConfigs []struct {
			StaticConfigs []struct{ Targets []string } `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	readYAML(t, mounted["/etc/prometheus/prometheus.yml"], &promConfig)
	var targets []string
	for _, sc := range promConfig.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			targets = append(targets, st.Targets...)
		}
	}
	for _, b := range composeSetups {
		if !slices.Contains(targets, b.bridge+":8080") {
			t.Errorf("Prometheus does not scrape %s:8080 (targets %q)", b.bridge, targets)
		}
	}
	var providers struct {
		Providers []struct{ Options struct{ Path string } } `yaml:"providers"`
	}
	readYAML(t, filepath.Join(mounted["/etc/grafana/provisioning"], "dashboards", "b2bridge.yml"), &providers)
	if len(providers.Providers) != 1 || mounted[providers.Providers[0].Options.Path] == "" {
		t.Fatalf("Grafana's dashboard provider reads %+v, which no mount provides", providers)
	}
	if _, err := os.Stat(filepath.Join(mounted[providers.Providers[0].Options.Path], "b2bridge.json")); err != nil {
		t.Error(err)
	}
	var datasources struct {
		Datasources []struct{ URL string } `yaml:"datasources"`
	}
	readYAML(t, filepath.Join(mounted["/etc/grafana/provisioning"], "datasources", "prometheus.yml"), &datasources)
	if len(datasources.Datasources) != 1 || datasources.Datasources[0].URL != "http://prometheus:9090" {
		t.Errorf("Grafana's data sources: %+v", datasources)
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
