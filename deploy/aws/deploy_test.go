package aws_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weupload/weupload/internal/database/dbtest"
	"github.com/weupload/weupload/internal/testenv"
)

func TestMain(m *testing.M) {
	if path := os.Getenv(stubEnv); path != "" {
		os.Exit(runStub(path, os.Args[1:]))
	}
	os.Exit(m.Run())
}

const (
	tagParam  = "/weupload-dev/app/image-tag"
	appSecret = "weupload-dev/db-app"
)

// newWorld is a running dev environment on "oldsha" with a bootstrapped database, a scanned
// image "newsha" to deploy and one in-service instance.
func newWorld() *world {
	return &world{
		Images: []*stubImage{{
			Tags: []string{"newsha"},
			// The trailing newline is part of the digest: the tag must keep it.
			Manifest:  "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}\n",
			MediaType: "application/vnd.oci.image.index.v1+json",
		}},
		ScanStatus:  "COMPLETE",
		Severities:  map[string]int{"LOW": 3, "MEDIUM": 1},
		Params:      map[string]string{tagParam: "oldsha"},
		Instances:   []string{"i-0123456789abcdef0"},
		TargetGroup: "arn:aws:elasticloadbalancing:eu-central-1:111122223333:targetgroup/weupload-dev/0123",
		Secrets: map[string][]*stubVersion{
			appSecret: {{ID: "v1", String: `{"username":"weupload","password":"old"}`, Stages: []string{"AWSCURRENT"}}},
		},
	}
}

type result struct {
	out   string
	err   error
	calls [][]string
	world *world
}

// called returns the index of the first call starting with prefix, or -1.
func (r result) called(prefix ...string) int {
	for i, c := range r.calls {
		if len(c) >= len(prefix) && slices.Equal(c[:len(prefix)], prefix) {
			return i
		}
	}
	return -1
}

func (r result) count(prefix ...string) int {
	n := 0
	for _, c := range r.calls {
		if len(c) >= len(prefix) && slices.Equal(c[:len(prefix)], prefix) {
			n++
		}
	}
	return n
}

// runScript runs a script of this directory against the stub aws CLI holding w.
func runScript(t *testing.T, w *world, env []string, script string, args ...string) result {
	t.Helper()
	// What the scripts use besides aws (all on GitHub's ubuntu-24.04 runners).
	for _, tool := range []string{"bash", "jq", "openssl", "psql", "setsid"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Missing(t, tool, "install it (Debian: jq, openssl, postgresql-client, util-linux)")
		}
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	writeExec(t, filepath.Join(bin, "aws"), "#!/bin/sh\nexec '"+exe+"' \"$@\"\n")
	// The real plugin is only ever run by the real aws CLI; the script just checks it is there.
	writeExec(t, filepath.Join(bin, "session-manager-plugin"), "#!/bin/sh\nexit 0\n")
	worldPath := filepath.Join(dir, "world.json")
	if err := saveWorld(worldPath, w); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{script}, args...)...)
	cmd.Env = append(os.Environ(),
		"PATH="+bin+":"+os.Getenv("PATH"), stubEnv+"="+worldPath, "GITHUB_STEP_SUMMARY=", "BASE_URL=",
		"ENVIRONMENT=dev", "IMAGE_TAG=newsha", "ECR_REPOSITORY=weupload", "POLL_SECONDS=0.05")
	cmd.Env = append(cmd.Env, env...)
	out, runErr := cmd.CombinedOutput()
	r := result{out: string(out), err: runErr}
	if r.world, err = loadWorld(worldPath); err != nil {
		t.Fatal(err)
	}
	calls, err := os.ReadFile(worldPath + ".calls")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(calls)), "\n") {
		var c []string
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatal(err)
		}
		r.calls = append(r.calls, c)
	}
	return r
}

func writeExec(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
}

func mustSucceed(t *testing.T, r result) {
	t.Helper()
	if r.err != nil {
		t.Fatalf("script failed: %v\n%s", r.err, r.out)
	}
}

// mustRefuse: the script failed with want in its output and rolled nothing out.
func mustRefuse(t *testing.T, r result, want string) {
	t.Helper()
	if r.err == nil {
		t.Fatalf("script succeeded, want a failure with %q\n%s", want, r.out)
	}
	if !strings.Contains(r.out, want) {
		t.Errorf("output lacks %q:\n%s", want, r.out)
	}
	if i := r.called("ssm", "send-command"); i >= 0 {
		t.Errorf("migrations ran: %v", r.calls[i])
	}
	if got := r.world.Params[tagParam]; got != "oldsha" {
		t.Errorf("image-tag parameter = %q, want oldsha", got)
	}
}

func TestDeployFirstDeployWaitsForInstance(t *testing.T) {
	w := newWorld()
	w.Params[tagParam] = "none"
	w.InServiceAfter = 3 // the group is still launching its first instance
	r := runScript(t, w, nil, "deploy.sh")
	mustSucceed(t, r)
	migrate := r.called("ssm", "send-command")
	if migrate < 0 {
		t.Fatalf("no migrations:\n%s", r.out)
	}
	if n := r.count("autoscaling", "describe-auto-scaling-groups"); n < 4 {
		t.Errorf("%d describe-auto-scaling-groups calls, want at least 4 (waited)", n)
	}
	if !slices.Contains(r.calls[migrate], "i-0123456789abcdef0") {
		t.Errorf("migrations not on the in-service instance: %v", r.calls[migrate])
	}
	if want := []string{"set -e", "weupload-admin migrate newsha"}; !slices.Equal(r.world.Commands[0], want) {
		t.Errorf("instance commands = %q, want %q (db-bootstrap no longer runs on the instance)", r.world.Commands[0], want)
	}
	if got := r.world.Params[tagParam]; got != "newsha" {
		t.Errorf("image-tag parameter = %q, want newsha", got)
	}
}

func TestDeployNoInstanceFails(t *testing.T) {
	w := newWorld()
	w.InServiceAfter = -1
	r := runScript(t, w, []string{"INSTANCE_WAIT_TIMEOUT=1"}, "deploy.sh")
	mustRefuse(t, r, "no in-service instance in weupload-dev after 1s")
	if n := r.count("autoscaling", "describe-auto-scaling-groups"); n < 2 {
		t.Errorf("%d describe-auto-scaling-groups calls, want a bounded wait (several)", n)
	}
}

func TestDeployScanGate(t *testing.T) {
	refused := []struct {
		name, status string
		severities   map[string]int
		want         string
	}{
		{"no scan", "", nil, "no scan result for newsha"},
		{"scan failed", "FAILED", nil, "scan of newsha is FAILED"},
		{"unsupported image", "UNSUPPORTED_IMAGE", nil, "scan of newsha is UNSUPPORTED_IMAGE"},
		{"critical finding", "COMPLETE", map[string]int{"CRITICAL": 1, "LOW": 2}, "has 1 CRITICAL vulnerabilities"},
		{"high finding", "COMPLETE", map[string]int{"HIGH": 2}, "has 2 HIGH vulnerabilities"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld()
			w.ScanStatus, w.Severities = tc.status, tc.severities
			mustRefuse(t, runScript(t, w, nil, "deploy.sh"), tc.want)
		})
	}
	t.Run("scan still running is waited for", func(t *testing.T) {
		w := newWorld()
		w.ScanPolls = 2
		r := runScript(t, w, nil, "deploy.sh")
		mustSucceed(t, r)
		if n := r.count("ecr", "describe-image-scan-findings"); n != 3 {
			t.Errorf("%d scan polls, want 3", n)
		}
	})
}

func TestDeployTagsDeployedImageBeforeRefresh(t *testing.T) {
	for _, tagged := range []bool{false, true} {
		t.Run("tag exists "+strconv.FormatBool(tagged), func(t *testing.T) {
			w := newWorld()
			if tagged { // a redeploy of the same image
				w.Images[0].Tags = append(w.Images[0].Tags, "deployed-dev-newsha")
			}
			r := runScript(t, w, nil, "deploy.sh")
			mustSucceed(t, r)
			put, refresh := r.called("ecr", "put-image"), r.called("autoscaling", "start-instance-refresh")
			if put < 0 || refresh < 0 || put > refresh {
				t.Fatalf("put-image at call %d, refresh at %d: the tag must come first\n%s", put, refresh, r.out)
			}
			if len(r.world.Images) != 1 || !slices.Contains(r.world.Images[0].Tags, "deployed-dev-newsha") {
				t.Errorf("images after the deploy: %+v", r.world.Images)
			}
		})
	}
}

func TestDeployRollsBackFailedRefresh(t *testing.T) {
	w := newWorld()
	w.RefreshResults = []string{"Failed"}
	r := runScript(t, w, nil, "deploy.sh")
	if r.err == nil || !strings.Contains(r.out, "rolled back to oldsha") {
		t.Fatalf("want a failure that rolled back (err %v):\n%s", r.err, r.out)
	}
	if got := r.world.Params[tagParam]; got != "oldsha" {
		t.Errorf("image-tag parameter = %q, want oldsha", got)
	}
	want := []stubRefresh{{"refresh-1", "Failed", "newsha"}, {"refresh-2", "Successful", "oldsha"}}
	if !slices.Equal(r.world.Refreshes, want) {
		t.Errorf("refreshes = %+v, want %+v", r.world.Refreshes, want)
	}
}

// bootstrapWorld adds a database to w: RDS is the test PostgreSQL (a fresh database) behind
// the stub's TLS relay, and the app role gets a name of its own (roles are per cluster).
func bootstrapWorld(t *testing.T, w *world) (env []string, db *pgx.Conn, role string) {
	t.Helper()
	u, err := url.Parse(dbtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	dbName := strings.TrimPrefix(u.Path, "/")
	pw, _ := u.User.Password()
	role = "weupload_t" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	dir := t.TempDir()
	w.DBHost, w.DBPort, w.DBName = "weupload-dev.c0ffee.eu-central-1.rds.amazonaws.com", 5432, dbName
	w.PostgresAddr = u.Host
	w.CertFile, w.KeyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	caFile := filepath.Join(dir, "ca.pem")
	writeTLS(t, w.DBHost, caFile, w.CertFile, w.KeyFile)
	w.MasterSecretARN = "arn:aws:secretsmanager:eu-central-1:111122223333:secret:rds!db-0123"
	master, _ := json.Marshal(map[string]string{"username": u.User.Username(), "password": pw})
	w.Secrets[w.MasterSecretARN] = []*stubVersion{{ID: "m1", String: string(master), Stages: []string{"AWSCURRENT"}}}

	ctx := context.Background()
	db, err = pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = db.Close(ctx)
		admin := *u
		admin.Path = "/postgres"
		c, err := pgx.Connect(ctx, admin.String())
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close(ctx)
		for _, q := range []string{"DROP DATABASE IF EXISTS " + dbName + " WITH (FORCE)", "DROP ROLE IF EXISTS " + role} {
			if _, err := c.Exec(ctx, q); err != nil {
				t.Errorf("%s: %v", q, err)
			}
		}
	})
	return []string{"RDS_CA_BUNDLE=" + caFile, "DB_APP_USER=" + role}, db, role
}

// writeTLS writes a CA and a server certificate for host signed by it.
func writeTLS(t *testing.T, host, caFile, certFile, keyFile string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test RDS CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	ca, _ := x509.ParseCertificate(caDER)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	for file, block := range map[string]*pem.Block{
		caFile: {Type: "CERTIFICATE", Bytes: caDER}, certFile: {Type: "CERTIFICATE", Bytes: der},
		keyFile: {Type: "EC PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// checkAppRole: role can log in with the password of the secret's AWSCURRENT version, owns
// the database and its public schema, and no version is left AWSPENDING.
func checkAppRole(t *testing.T, db *pgx.Conn, role string, w *world) {
	t.Helper()
	cur := w.secretVersion(appSecret, "AWSCURRENT")
	if cur == nil {
		t.Fatalf("the app secret has no AWSCURRENT version: %+v", w.Secrets[appSecret])
	}
	if p := w.secretVersion(appSecret, "AWSPENDING"); p != nil {
		t.Errorf("version %s is still AWSPENDING", p.ID)
	}
	var s struct{ Username, Password string }
	if err := json.Unmarshal([]byte(cur.String), &s); err != nil || s.Username != role || len(s.Password) != 64 {
		t.Fatalf("app secret %q (%v): want username %s and a 64-hex password", cur.String, err, role)
	}
	var login bool
	var verifier, dbOwner, schemaOwner string
	err := db.QueryRow(context.Background(), `SELECT r.rolcanlogin, r.rolpassword,
		  (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()),
		  (SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'public')
		FROM pg_authid r WHERE r.rolname = $1`, role).Scan(&login, &verifier, &dbOwner, &schemaOwner)
	if err != nil {
		t.Fatalf("role %s: %v", role, err)
	}
	if !login || dbOwner != role || schemaOwner != role {
		t.Errorf("login %v, database owner %s, schema owner %s; want true, %s, %s", login, dbOwner, schemaOwner, role, role)
	}
	if !scramMatches(t, verifier, s.Password) {
		t.Errorf("the role's password is not the secret's AWSCURRENT password")
	}
}

// scramMatches checks password against a PostgreSQL SCRAM-SHA-256 verifier
// (SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>, RFC 5802).
func scramMatches(t *testing.T, verifier, password string) bool {
	t.Helper()
	var iter int
	var salt, stored []byte
	parts := strings.FieldsFunc(strings.TrimPrefix(verifier, "SCRAM-SHA-256$"), func(r rune) bool { return r == '$' || r == ':' })
	if len(parts) != 4 {
		t.Fatalf("not a SCRAM verifier: %q", verifier)
	}
	iter, err := strconv.Atoi(parts[0])
	if err == nil {
		salt, err = base64.StdEncoding.DecodeString(parts[1])
	}
	if err == nil {
		stored, err = base64.StdEncoding.DecodeString(parts[2])
	}
	if err != nil {
		t.Fatalf("verifier %q: %v", verifier, err)
	}
	salted, err := pbkdf2.Key(sha256.New, password, salt, iter, sha256.Size)
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, salted)
	mac.Write([]byte("Client Key"))
	sum := sha256.Sum256(mac.Sum(nil))
	return hmac.Equal(sum[:], stored)
}

func TestDeployBootstrapsDatabaseOnFirstDeploy(t *testing.T) {
	w := newWorld()
	w.Params[tagParam] = "none"
	w.Secrets[appSecret] = nil // created empty by Terraform
	env, db, role := bootstrapWorld(t, w)
	r := runScript(t, w, env, "deploy.sh")
	mustSucceed(t, r)
	session, migrate := r.called("ssm", "start-session"), r.called("ssm", "send-command")
	if session < 0 || migrate < 0 || session > migrate {
		t.Fatalf("port-forwarding session at call %d, migrations at %d: bootstrap must come first\n%s", session, migrate, r.out)
	}
	if !slices.Contains(r.calls[session], "i-0123456789abcdef0") {
		t.Errorf("session not through the in-service instance: %v", r.calls[session])
	}
	if end := r.called("ssm", "terminate-session", "--session-id", "deploy-dev-0123456789abcdef0"); end < session {
		t.Errorf("the port-forwarding session was not terminated")
	}
	checkAppRole(t, db, role, r.world)
}

// A first bootstrap that stopped after storing the password (AWSPENDING; being the first
// version, also AWSCURRENT) is finished by the next deploy with that password.
func TestDeployFinishesInterruptedBootstrap(t *testing.T) {
	w := newWorld()
	env, db, role := bootstrapWorld(t, w)
	stored := `{"username":"` + role + `","password":"` + strings.Repeat("ab", 32) + `"}`
	w.Secrets[appSecret] = []*stubVersion{{ID: "v1", String: stored, Stages: []string{"AWSPENDING", "AWSCURRENT"}}}
	r := runScript(t, w, env, "deploy.sh")
	mustSucceed(t, r)
	checkAppRole(t, db, role, r.world)
	if v := r.world.secretVersion(appSecret, "AWSCURRENT"); v.ID != "v1" || len(r.world.Secrets[appSecret]) != 1 {
		t.Errorf("secret versions %+v: want v1 finished, no new version", r.world.Secrets[appSecret])
	}
}

func TestDeployRotatesDatabasePassword(t *testing.T) {
	w := newWorld()
	w.Secrets[appSecret] = nil
	env, db, role := bootstrapWorld(t, w)
	first := runScript(t, w, env, "db-bootstrap.sh")
	mustSucceed(t, first)
	checkAppRole(t, db, role, first.world)
	before := first.world.secretVersion(appSecret, "AWSCURRENT")

	t.Run("a deploy without rotation keeps the password", func(t *testing.T) {
		r := runScript(t, first.world, env, "deploy.sh")
		mustSucceed(t, r)
		if r.called("ssm", "start-session") >= 0 || r.called("secretsmanager", "put-secret-value") >= 0 {
			t.Errorf("bootstrap ran although the secret has a value:\n%s", r.out)
		}
	})
	r := runScript(t, first.world, append(env, "ROTATE_DB_PASSWORD=1"), "deploy.sh")
	mustSucceed(t, r)
	checkAppRole(t, db, role, r.world)
	after := r.world.secretVersion(appSecret, "AWSCURRENT")
	if after.ID == before.ID || after.String == before.String {
		t.Errorf("AWSCURRENT did not move: before %+v, after %+v", before, after)
	}
	if prev := r.world.secretVersion(appSecret, "AWSPREVIOUS"); prev == nil || prev.ID != before.ID {
		t.Errorf("AWSPREVIOUS = %+v, want version %s", prev, before.ID)
	}
}
