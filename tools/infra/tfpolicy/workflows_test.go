package main

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// goodRepo copies testdata/workflows/good (a small repository that follows every rule) into a
// temporary directory, so a test can break one rule in it.
func goodRepo(tb testing.TB) string {
	tb.Helper()
	src := filepath.Join("testdata", "workflows", "good")
	dst := tb.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		r, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, r), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, r), b, 0o644)
	})
	if err != nil {
		tb.Fatal(err)
	}
	return dst
}

// edit replaces old (which must be there) with new in the repository's file.
func edit(tb testing.TB, repo, file, old, new string) {
	tb.Helper()
	p := filepath.Join(repo, file)
	b, err := os.ReadFile(p)
	if err != nil {
		tb.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		tb.Fatalf("%s does not contain %q: the fixture changed", file, old)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		tb.Fatal(err)
	}
}

func TestWorkflowsGood(t *testing.T) {
	findings, err := checkWorkflows(goodRepo(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(findings) != 0 {
		t.Errorf("want no findings on the good fixture, got:\n%s", strings.Join(findings, "\n"))
	}
}

func TestWorkflowsRules(t *testing.T) {
	const (
		ci      = ".github/workflows/ci.yml"
		release = ".github/workflows/release.yml"
		deploy  = ".github/workflows/deploy.yml"
		env     = ".github/workflows/deploy-environment.yml"
		apply   = ".github/workflows/terraform-apply.yml"
		lock    = "terraform/env/.terraform.lock.hcl"
		module  = "terraform/modules/m/versions.tf"
	)
	checkout := "actions/checkout@11d5960a326750d5838078e36cf38b85af677262 # v4.4.0"
	tests := []struct {
		name      string
		file      string
		old, new  string
		remove    bool
		wantFound string
	}{
		{name: "action by tag", file: release, old: checkout, new: "actions/checkout@v4",
			wantFound: "release.yml:13: uses: actions/checkout@v4 is not pinned to a full commit SHA"},
		{name: "action SHA without version comment", file: ci, old: checkout, new: "actions/checkout@11d5960a326750d5838078e36cf38b85af677262",
			wantFound: "has no `# vX.Y.Z` comment"},
		{name: "docker action by tag", file: ci, old: "- run: scripts/govulncheck.sh", new: "- run: scripts/govulncheck.sh\n      - uses: docker://alpine:3.22",
			wantFound: "uses: docker://alpine:3.22 is not pinned to an @sha256 digest"},
		{name: "job container by tag", file: ci, old: "debian:12@sha256:9344f8b8992482f80cba753f323adeaf17690076c095ccff6cc9536be98185dc", new: "debian:12",
			wantFound: "job checks: container image debian:12 has no @sha256 digest"},
		{name: "release not on v* tags", file: release, old: `tags: ["v*"]`, new: `tags: ["release-*"]`,
			wantFound: "does not run for pushed v* tags"},
		{name: "release concurrency per ref", file: release, old: "release-${{ github.sha }}", new: "release-${{ github.ref }}",
			wantFound: "is not keyed on the commit (github.sha) alone"},
		{name: "release cancels in progress", file: release, old: "cancel-in-progress: false", new: "cancel-in-progress: true",
			wantFound: "cancel-in-progress may cancel a release"},
		{name: "release pushes without govulncheck", file: release, old: "- run: scripts/govulncheck.sh", new: "- run: echo scripts/govulncheck.sh",
			wantFound: "job image pushes the image (step 4) without a govulncheck step before it"},
		{name: "release govulncheck may fail silently", file: release, old: "- run: scripts/govulncheck.sh", new: "- run: scripts/govulncheck.sh\n        continue-on-error: true",
			wantFound: "without a govulncheck step before it"},
		{name: "release govulncheck after the push", file: release, old: "      - run: scripts/govulncheck.sh\n", new: "",
			wantFound: "without a govulncheck step before it"},
		{name: "release rebuilds an existing image", file: release, old: "      - if: steps.exists.outputs.found == 'false'\n        uses:", new: "      - uses:",
			wantFound: "job image pushes the image (step 4) unconditionally"},
		{name: "ci without govulncheck", file: ci, old: "- run: scripts/govulncheck.sh", new: "- run: go test ./...",
			wantFound: "ci.yml: no job runs govulncheck"},
		{name: "deploy ignores tags", file: deploy, old: `branches: [main, "v*"]`, new: `branches: [main]`,
			wantFound: "on.workflow_run.branches [main] must include main and v*"},
		{name: "prod deployed from main", file: deploy, old: "startsWith(github.event.workflow_run.head_branch, 'v')", new: "github.event.workflow_run.head_branch == 'main'",
			wantFound: "job prod deploys prod; its if must route v* tags there"},
		{name: "dev deployed from tags", file: deploy, old: "if: github.event.workflow_run.head_branch == 'main'", new: "if: github.event.workflow_run.head_branch == 'main' || startsWith(github.event.workflow_run.head_branch, 'v')",
			wantFound: "job dev deploys dev; its if must route main there"},
		{name: "prod without the on-main check", file: deploy, old: `git merge-base --is-ancestor "$SHA" origin/main`, new: "true",
			wantFound: "job prod deploys prod without needing a job that checks the commit is on main"},
		{name: "deploy and apply share a group", file: apply, old: "terraform-apply-${{ inputs.environment }}", new: "deploy-${{ inputs.environment }}",
			wantFound: "share the concurrency group"},
		{name: "deploy cancels in progress", file: env, old: "cancel-in-progress: false", new: "cancel-in-progress: true",
			wantFound: "deploy-environment.yml: job deploy: cancel-in-progress may cancel"},
		{name: "apply group not per environment", file: apply, old: "terraform-apply-${{ inputs.environment }}", new: "terraform-apply",
			wantFound: `concurrency group "terraform-apply" is not per environment`},
		{name: "apply without waiting for refreshes", file: apply, old: `      - run: aws autoscaling describe-instance-refreshes --auto-scaling-group-name "$ASG"` + "\n", new: "",
			wantFound: "job apply step 2 applies without first waiting for running instance refreshes"},
		{name: "init without readonly lock file", file: ci, old: "            -lockfile=readonly", new: "            -upgrade",
			wantFound: "ci.yml: job validate step 1: `terraform init -backend=false  -upgrade` without -lockfile=readonly"},
		{name: "conditional readonly", file: apply, old: "run: terraform init -lockfile=readonly", new: `run: terraform init "${lock[@]}"`,
			wantFound: "without -lockfile=readonly"},
		{name: "lock file missing", file: lock, remove: true,
			wantFound: "terraform/env/.terraform.lock.hcl: missing"},
		{name: "locked version outside a module's constraint", file: module, old: `">= 6.0.0, < 7.0.0"`, new: `">= 6.50.0, < 7.0.0"`,
			wantFound: `locked version 6.49.0 does not satisfy ">= 6.50.0, < 7.0.0" (`},
		{name: "module provider not locked", file: module, old: "  required_providers {", new: "  required_providers {\n    random = {\n      source  = \"hashicorp/random\"\n      version = \"~> 3.0\"\n    }",
			wantFound: "no entry for registry.terraform.io/hashicorp/random, required at"},
		{name: "stale lock entry", file: lock, old: `provider "registry.terraform.io/hashicorp/aws" {`, new: "provider \"registry.terraform.io/hashicorp/tls\" {\n  version = \"4.0.0\"\n}\n\nprovider \"registry.terraform.io/hashicorp/aws\" {",
			wantFound: "provider registry.terraform.io/hashicorp/tls: not required"},
		{name: "lock without registry checksums", file: lock, old: `    "zh:11a636bb415bf780f0ad300cab83d687aebdc51381112ae7b29862e0bee43017",`, new: "",
			wantFound: "needs h1: and zh: checksums"},
		{name: "FROM by tag", file: "Dockerfile", old: "gcr.io/distroless/static-debian12:nonroot@sha256:d093aa3e30dbadd3efe1310db061a14da60299baff8450a17fe0ccc514a16639", new: "gcr.io/distroless/static-debian12:nonroot",
			wantFound: "Dockerfile:4: FROM gcr.io/distroless/static-debian12:nonroot has no @sha256 digest"},
		{name: "FROM through a variable", file: "Dockerfile", old: "golang:1.26.8-bookworm@sha256:a688600ca24f8a4d3ca77f95b0dd40704a9fc787c826660eb7ba0b641b8b175d", new: "golang:${GO_VERSION}-bookworm",
			wantFound: "Dockerfile:2: FROM golang:${GO_VERSION}-bookworm: a variable hides"},
		{name: "syntax frontend by tag", file: "Dockerfile", old: "docker/dockerfile:1.10@sha256:865e5dd094beca432e8c0a1d5e1c465db5f998dca4e439981029b3b81fb39ed5", new: "docker/dockerfile:1.10",
			wantFound: "Dockerfile:1: syntax frontend docker/dockerfile:1.10 has no @sha256 digest"},
		{name: "dependabot without npm", file: ".github/dependabot.yml", old: "package-ecosystem: npm", new: "package-ecosystem: pip",
			wantFound: ".github/dependabot.yml: no npm updates"},
		{name: "dependabot misses a root", file: ".github/dependabot.yml", old: "[/terraform/env]", new: "[/terraform/other]",
			wantFound: "terraform updates do not cover /terraform/env"},
		{name: "compose image by tag", file: "docker-compose.yml", old: "postgres:18-alpine@sha256:9a8afca54e7861fd90fab5fdf4c42477a6b1cb7d293595148e674e0a3181de15", new: "postgres:18-alpine",
			wantFound: "docker-compose.yml:3: service db: image postgres:18-alpine has no @sha256 digest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := goodRepo(t)
			if tt.remove {
				if err := os.Remove(filepath.Join(repo, tt.file)); err != nil {
					t.Fatal(err)
				}
			} else {
				edit(t, repo, tt.file, tt.old, tt.new)
			}
			findings, err := checkWorkflows(repo)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(findings, "\n")
			if !strings.Contains(got, tt.wantFound) {
				t.Errorf("want a finding containing %q, got:\n%s", tt.wantFound, got)
			}
		})
	}
}

// The gate script: only a scan that read the database and found nothing called passes.
func TestGovulncheckScript(t *testing.T) {
	script, err := filepath.Abs(filepath.Join("..", "..", "..", "scripts", "govulncheck.sh"))
	if err != nil {
		t.Fatal(err)
	}
	const config = `{"config":{"protocol_version":"v1.0.0","db":"https://vuln.go.dev","db_last_modified":"2026-12-01T00:00:00Z","scan_level":"symbol"}}`
	tests := []struct {
		name   string
		stub   string // body of the stub govulncheck (sh)
		wantOK bool
		want   string
	}{
		{name: "database unreachable", stub: "echo 'fetching vulnerabilities: no such host' >&2; exit 1", want: "the scan failed"},
		{name: "no output", stub: "exit 0", want: "no vulnerability database was read"},
		{name: "truncated output", stub: `printf '%s' '{"config":{"db":"https://vuln.go.dev","db_last_mod'`, want: "not valid JSON"},
		{name: "config without database time", stub: `echo '{"config":{"db":"https://vuln.go.dev","scan_level":"symbol"}}'`, want: "no vulnerability database was read"},
		{name: "module level scan", stub: `echo '{"config":{"db":"d","db_last_modified":"2026-12-01T00:00:00Z","scan_level":"module"}}'`, want: "reachability unknown"},
		{name: "called vulnerability", stub: "echo '" + config + `'; echo '{"finding":{"osv":"GO-2026-0001","trace":[{"module":"m","package":"m/p","function":"F"}]}}'`, want: "vulnerable code is called: GO-2026-0001"},
		{name: "imported only", stub: "echo '" + config + `'; echo '{"finding":{"osv":"GO-2026-0002","trace":[{"module":"m","package":"m/p"}]}}'`, wantOK: true, want: "not called (informational): GO-2026-0002"},
		{name: "clean", stub: "echo '" + config + "'", wantOK: true, want: "no called vulnerabilities"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stub := filepath.Join(t.TempDir(), "govulncheck")
			if err := os.WriteFile(stub, []byte("#!/bin/sh\n"+tt.stub+"\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			out, err := runScript(t, script, "GOVULNCHECK="+stub)
			if (err == nil) != tt.wantOK {
				t.Errorf("exit error %v, want ok=%v; output:\n%s", err, tt.wantOK, out)
			}
			if !strings.Contains(out, tt.want) {
				t.Errorf("output does not contain %q:\n%s", tt.want, out)
			}
		})
	}
}

func runScript(tb testing.TB, script string, env ...string) (string, error) {
	tb.Helper()
	cmd := exec.Command("bash", script)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
