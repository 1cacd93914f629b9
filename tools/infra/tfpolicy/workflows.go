package main

// tfpolicy workflows REPO_ROOT: the release path's own rules, read from the workflows (YAML),
// the Terraform roots and their lock files (HCL), the Dockerfiles and the compose file.
//
//   - every remote action is pinned to a commit SHA with the release in a comment
//     (`uses: owner/repo@<40 hex> # v1.2.3`); docker:// actions and job containers by digest;
//   - release.yml runs for main and v* tags, serialised per commit (a concurrency group keyed on
//     github.sha, never cancelled), pushes only when an earlier lookup found no image of the
//     commit, and runs govulncheck before the step that pushes the image;
//   - ci.yml runs govulncheck;
//   - deploy.yml deploys main to dev and v* tags to prod, and prod only after a job that checks
//     the commit is on main;
//   - deploys and Terraform applies have separate concurrency groups per environment (GitHub
//     keeps one pending job per group and cancels the older one), never cancel-in-progress, and
//     the apply waits for running instance refreshes first;
//   - every `terraform init` uses -lockfile=readonly, and each Terraform root (a directory with
//     a backend block) has a lock file that covers exactly the providers it and its local
//     modules require, at a version every constraint allows, with checksums;
//   - every Dockerfile FROM (and `# syntax=`) and every compose image not built locally carries
//     an @sha256 digest;
//   - .github/dependabot.yml proposes updates for all of these (actions, docker, gomod, npm, and
//     terraform in every root).

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	version "github.com/hashicorp/go-version"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"gopkg.in/yaml.v3"
)

var (
	shaRef      = regexp.MustCompile(`^[0-9a-f]{40}$`)
	versionNote = regexp.MustCompile(`^#\s*v\d+(\.\d+)*`)
	digestRef   = regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)
)

// wf is one parsed workflow file.
type wf struct {
	path string // relative to the repository root
	root *yaml.Node
	doc  workflowDoc
}

type workflowDoc struct {
	On          yaml.Node      `yaml:"on"`
	Concurrency yaml.Node      `yaml:"concurrency"`
	Jobs        map[string]job `yaml:"jobs"`
}

type job struct {
	If              string               `yaml:"if"`
	Needs           yaml.Node            `yaml:"needs"`
	Uses            string               `yaml:"uses"`
	With            map[string]any       `yaml:"with"`
	Environment     yaml.Node            `yaml:"environment"`
	Concurrency     yaml.Node            `yaml:"concurrency"`
	Container       yaml.Node            `yaml:"container"`
	Services        map[string]yaml.Node `yaml:"services"`
	ContinueOnError any                  `yaml:"continue-on-error"`
	Steps           []step               `yaml:"steps"`
}

type step struct {
	Name            string         `yaml:"name"`
	If              string         `yaml:"if"`
	Uses            string         `yaml:"uses"`
	Run             string         `yaml:"run"`
	With            map[string]any `yaml:"with"`
	ContinueOnError any            `yaml:"continue-on-error"`
}

func checkWorkflows(root string) ([]string, error) {
	wfs, err := loadWorkflows(root)
	if err != nil {
		return nil, err
	}
	var findings []string
	add := func(f ...string) { findings = append(findings, f...) }
	for _, w := range wfs {
		add(checkPins(w)...)
		add(checkTerraformInit(w)...)
		add(checkJobImages(w)...)
	}
	byName := map[string]*wf{}
	for _, w := range wfs {
		byName[filepath.Base(w.path)] = w
	}
	add(checkRelease(byName["release.yml"])...)
	add(checkCI(byName["ci.yml"])...)
	add(checkDeployRouting(byName["deploy.yml"])...)
	add(checkConcurrency(wfs, byName["deploy-environment.yml"], byName["terraform-apply.yml"])...)
	lf, err := checkLockFiles(root)
	if err != nil {
		return nil, err
	}
	add(lf...)
	img, err := checkImageDigests(root)
	if err != nil {
		return nil, err
	}
	add(img...)
	dep, err := checkDependabot(root)
	if err != nil {
		return nil, err
	}
	add(dep...)
	return findings, nil
}

// checkDependabot: pins only stay safe while something proposes their updates; every pinned
// ecosystem, and the lock file of every Terraform root, is in .github/dependabot.yml.
func checkDependabot(repo string) ([]string, error) {
	const path = ".github/dependabot.yml"
	src, err := os.ReadFile(filepath.Join(repo, path))
	if os.IsNotExist(err) {
		return []string{path + ": missing: nothing proposes updates of the pinned actions, images and providers"}, nil
	} else if err != nil {
		return nil, err
	}
	var cfg struct {
		Updates []struct {
			Ecosystem   string   `yaml:"package-ecosystem"`
			Directory   string   `yaml:"directory"`
			Directories []string `yaml:"directories"`
		} `yaml:"updates"`
	}
	if err := yaml.Unmarshal(src, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	dirs := map[string]map[string]bool{}
	for _, u := range cfg.Updates {
		if dirs[u.Ecosystem] == nil {
			dirs[u.Ecosystem] = map[string]bool{}
		}
		for _, d := range append(u.Directories, u.Directory) {
			dirs[u.Ecosystem][strings.TrimSuffix(d, "/")] = true
		}
	}
	var findings []string
	for _, eco := range []string{"github-actions", "docker", "gomod", "npm", "terraform"} {
		if dirs[eco] == nil {
			findings = append(findings, fmt.Sprintf("%s: no %s updates", path, eco))
		}
	}
	roots, err := terraformRoots(filepath.Join(repo, "terraform"))
	if err != nil {
		return nil, err
	}
	for _, r := range roots {
		d := "/" + rel(repo, r)
		if dirs["terraform"] != nil && !dirs["terraform"][d] {
			findings = append(findings, fmt.Sprintf("%s: terraform updates do not cover %s (its lock file would never be bumped)", path, d))
		}
	}
	return findings, nil
}

func loadWorkflows(root string) ([]*wf, error) {
	var paths []string
	for _, pat := range []string{"*.yml", "*.yaml"} {
		m, err := filepath.Glob(filepath.Join(root, ".github", "workflows", pat))
		if err != nil {
			return nil, err
		}
		paths = append(paths, m...)
	}
	sort.Strings(paths)
	if len(paths) == 0 {
		return nil, fmt.Errorf("no workflows under %s/.github/workflows", root)
	}
	var out []*wf
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		w := &wf{path: rel(root, p), root: &yaml.Node{}}
		if err := yaml.Unmarshal(src, w.root); err != nil {
			return nil, fmt.Errorf("%s: %w", w.path, err)
		}
		if err := w.root.Decode(&w.doc); err != nil {
			return nil, fmt.Errorf("%s: %w", w.path, err)
		}
		out = append(out, w)
	}
	return out, nil
}

func rel(root, p string) string {
	r, err := filepath.Rel(root, p)
	if err != nil {
		return p
	}
	return filepath.ToSlash(r)
}

// checkPins: every `uses:` of a remote action or reusable workflow names a commit SHA and, in a
// comment, the release it is (so reviewers and Dependabot see which version it is).
func checkPins(w *wf) []string {
	var findings []string
	walkMappings(w.root, func(key, val *yaml.Node) {
		if key.Value != "uses" || val.Kind != yaml.ScalarNode {
			return
		}
		at := fmt.Sprintf("%s:%d: uses: %s", w.path, val.Line, val.Value)
		u := val.Value
		switch {
		case strings.HasPrefix(u, "./"):
			// A file of this repository, reviewed with it.
		case strings.HasPrefix(u, "docker://"):
			if !digestRef.MatchString(u) {
				findings = append(findings, at+" is not pinned to an @sha256 digest")
			}
		default:
			_, ref, ok := strings.Cut(u, "@")
			if !ok || !shaRef.MatchString(ref) {
				findings = append(findings, at+" is not pinned to a full commit SHA (tags and branches can be moved)")
			} else if !versionNote.MatchString(strings.TrimSpace(val.LineComment)) {
				findings = append(findings, at+" has no `# vX.Y.Z` comment naming the release it pins")
			}
		}
	})
	return findings
}

// walkMappings calls fn for every key/value pair of every mapping under n.
func walkMappings(n *yaml.Node, fn func(key, val *yaml.Node)) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			fn(n.Content[i], n.Content[i+1])
		}
	}
	for _, c := range n.Content {
		walkMappings(c, fn)
	}
}

// shellLines: the script's commands, continuation lines joined, comments dropped.
func shellLines(script string) []string {
	var out []string
	cur := ""
	for _, l := range strings.Split(script, "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "#") {
			continue
		}
		if strings.HasSuffix(t, "\\") {
			cur += strings.TrimSuffix(t, "\\") + " "
			continue
		}
		if line := strings.TrimSpace(cur + t); line != "" {
			out = append(out, line)
		}
		cur = ""
	}
	return out
}

var (
	terraformInit  = regexp.MustCompile(`(^|[\s;&|(])terraform\s+(-chdir=\S+\s+)?init(\s|$)`)
	terraformApply = regexp.MustCompile(`(^|\s)terraform\s+(-chdir=\S+\s+)?apply(\s|$)`)
)

// checkTerraformInit: without -lockfile=readonly, init picks provider versions itself when the
// lock file is missing or stale, and the run would silently use what the lock file never pinned.
func checkTerraformInit(w *wf) []string {
	var findings []string
	for _, name := range sortedJobs(w) {
		for i, s := range w.doc.Jobs[name].Steps {
			for _, line := range shellLines(s.Run) {
				if terraformInit.MatchString(line) && !strings.Contains(line, "-lockfile=readonly") {
					findings = append(findings, fmt.Sprintf("%s: job %s step %d: `%s` without -lockfile=readonly", w.path, name, i+1, line))
				}
			}
		}
	}
	return findings
}

func sortedJobs(w *wf) []string {
	names := make([]string, 0, len(w.doc.Jobs))
	for n := range w.doc.Jobs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// checkJobImages: job containers and service containers are images too.
func checkJobImages(w *wf) []string {
	var findings []string
	for _, name := range sortedJobs(w) {
		j := w.doc.Jobs[name]
		nodes := []*yaml.Node{&j.Container}
		for _, s := range sortedKeys(j.Services) {
			n := j.Services[s]
			nodes = append(nodes, &n)
		}
		for _, n := range nodes {
			img := imageOf(n)
			if img != "" && !digestRef.MatchString(img) {
				findings = append(findings, fmt.Sprintf("%s:%d: job %s: container image %s has no @sha256 digest", w.path, n.Line, name, img))
			}
		}
	}
	return findings
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// imageOf: `container: IMAGE` or `container: {image: IMAGE}`.
func imageOf(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Value
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "image" {
				return n.Content[i+1].Value
			}
		}
	}
	return ""
}

// trigger returns the node of on.<event>, or nil.
func trigger(w *wf, event string) *yaml.Node {
	on := &w.doc.On
	switch on.Kind {
	case yaml.ScalarNode:
		if on.Value == event {
			return &yaml.Node{Kind: yaml.MappingNode}
		}
	case yaml.SequenceNode:
		for _, c := range on.Content {
			if c.Value == event {
				return &yaml.Node{Kind: yaml.MappingNode}
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(on.Content); i += 2 {
			if on.Content[i].Value == event {
				if on.Content[i+1].Kind != yaml.MappingNode {
					return &yaml.Node{Kind: yaml.MappingNode}
				}
				return on.Content[i+1]
			}
		}
	}
	return nil
}

// list returns the strings of key in mapping n (a scalar counts as a one-item list); present
// tells whether the key exists.
func list(n *yaml.Node, key string) (items []string, present bool) {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != key {
			continue
		}
		v := n.Content[i+1]
		if v.Kind == yaml.ScalarNode {
			return []string{v.Value}, true
		}
		for _, c := range v.Content {
			items = append(items, c.Value)
		}
		return items, true
	}
	return nil, false
}

// hasVTagPattern: a filter pattern that matches v1.2.3 (v*, v[0-9]*, ...), and nothing wider.
func hasVTagPattern(items []string) bool {
	for _, s := range items {
		if strings.HasPrefix(s, "v") && strings.ContainsAny(s, "*[") {
			return true
		}
	}
	return false
}

// concurrencyOf returns the group and whether cancel-in-progress may be true (true, or an
// expression).
func concurrencyOf(n *yaml.Node) (group string, cancels bool) {
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Value, false
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			switch n.Content[i].Value {
			case "group":
				group = n.Content[i+1].Value
			case "cancel-in-progress":
				cancels = n.Content[i+1].Value != "false"
			}
		}
	}
	return group, cancels
}

func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != "false" && x != ""
	}
	return true
}

var govulncheckCmd = regexp.MustCompile(`(^|[\s/])govulncheck(\.sh)?(\s|@|$)`)

// runsGovulncheck: the step runs govulncheck (directly or through scripts/govulncheck.sh) and a
// failure fails the job (no continue-on-error, no condition that could skip it).
func runsGovulncheck(s step) bool {
	if truthy(s.ContinueOnError) || s.If != "" {
		return false
	}
	for _, line := range shellLines(s.Run) {
		if govulncheckCmd.MatchString(line) && !strings.HasPrefix(line, "echo") {
			return true
		}
	}
	return false
}

// pushesImage: docker/build-push-action with push enabled, or a docker push command.
func pushesImage(s step) bool {
	if strings.HasPrefix(s.Uses, "docker/build-push-action@") {
		return truthy(s.With["push"])
	}
	for _, line := range shellLines(s.Run) {
		if strings.Contains(line, "docker push") || strings.Contains(line, "buildx build") && strings.Contains(line, "--push") {
			return true
		}
	}
	return false
}

func checkRelease(w *wf) []string {
	if w == nil {
		return []string{".github/workflows/release.yml: missing"}
	}
	var findings []string
	add := func(msg string) { findings = append(findings, w.path+": "+msg) }
	push := trigger(w, "push")
	tags, _ := list(push, "tags")
	branches, _ := list(push, "branches")
	if push == nil || !hasVTagPattern(tags) {
		add(`does not run for pushed v* tags (on.push.tags: ["v*"]), so a release tag never builds or deploys`)
	}
	if push == nil || !slices.Contains(branches, "main") {
		add("does not run for pushes to main (on.push.branches: [main])")
	}
	// Serialised per commit: the workflow's group, or that of every job that pushes.
	group, cancels := concurrencyOf(&w.doc.Concurrency)
	pushed := false
	for _, name := range sortedJobs(w) {
		j := w.doc.Jobs[name]
		vuln, lookup := -1, -1
		for i, s := range j.Steps {
			if runsGovulncheck(s) && vuln < 0 {
				vuln = i
			}
			if strings.Contains(strings.Join(shellLines(s.Run), "\n"), "ecr describe-images") && lookup < 0 {
				lookup = i
			}
			if !pushesImage(s) {
				continue
			}
			pushed = true
			if vuln < 0 || truthy(j.ContinueOnError) {
				add(fmt.Sprintf("job %s pushes the image (step %d) without a govulncheck step before it that fails the job", name, i+1))
			}
			// One image per commit: the second run of a commit reuses the image, it does not
			// rebuild (the immutable tag would refuse the push anyway, failing the run).
			if lookup < 0 || !strings.Contains(s.If, "steps.") {
				add(fmt.Sprintf("job %s pushes the image (step %d) unconditionally: look it up first (aws ecr describe-images) and build only when it is missing", name, i+1))
			}
			g, c := group, cancels
			if j.Concurrency.Kind != 0 {
				g, c = concurrencyOf(&j.Concurrency)
			}
			if !strings.Contains(g, "github.sha") || strings.Contains(g, "github.ref") {
				add(fmt.Sprintf("job %s: concurrency group %q is not keyed on the commit (github.sha) alone: a main run and a tag run of one commit race to push the same immutable tag", name, g))
			}
			if c {
				add(fmt.Sprintf("job %s: concurrency cancel-in-progress may cancel a release", name))
			}
		}
	}
	if !pushed {
		add("no step pushes the image (docker/build-push-action with push: true): the govulncheck and concurrency rules cannot be checked")
	}
	return findings
}

func checkCI(w *wf) []string {
	if w == nil {
		return []string{".github/workflows/ci.yml: missing"}
	}
	if trigger(w, "pull_request") == nil {
		return []string{w.path + ": does not run on pull requests"}
	}
	for _, name := range sortedJobs(w) {
		j := w.doc.Jobs[name]
		if truthy(j.ContinueOnError) || j.If != "" {
			continue
		}
		for _, s := range j.Steps {
			if runsGovulncheck(s) {
				return nil
			}
		}
	}
	return []string{w.path + ": no job runs govulncheck unconditionally (ECR's scan sees OS packages, not Go modules)"}
}

// normExpr: an `if:` expression without spaces, with one kind of quote, for comparisons.
func normExpr(s string) string {
	s = strings.NewReplacer(" ", "", "\n", "", "\t", "", `"`, "'", "${{", "", "}}", "").Replace(s)
	return s
}

func checkDeployRouting(w *wf) []string {
	if w == nil {
		return []string{".github/workflows/deploy.yml: missing"}
	}
	var findings []string
	add := func(msg string) { findings = append(findings, w.path+": "+msg) }
	run := trigger(w, "workflow_run")
	workflows, _ := list(run, "workflows")
	if run == nil || !slices.Contains(workflows, "release") {
		add("is not triggered by the release workflow (on.workflow_run.workflows: [release])")
	}
	// head_branch is the tag's name for a tag push, so the filter must let v* through.
	if branches, present := list(run, "branches"); present && (!slices.Contains(branches, "main") || !hasVTagPattern(branches)) {
		add(fmt.Sprintf("on.workflow_run.branches %v must include main and v* (a tag run's head_branch is the tag)", branches))
	}
	if _, present := list(run, "branches-ignore"); present {
		add("on.workflow_run.branches-ignore: list what deploys in branches instead")
	}
	const mainRoute = "github.event.workflow_run.head_branch=='main'"
	const tagRoute = "startsWith(github.event.workflow_run.head_branch,'v')"
	seen := map[string]bool{}
	for _, name := range sortedJobs(w) {
		j := w.doc.Jobs[name]
		if !strings.HasSuffix(j.Uses, "/deploy-environment.yml") {
			continue
		}
		env, _ := j.With["environment"].(string)
		seen[env] = true
		cond := normExpr(j.If)
		switch env {
		case "dev":
			if !strings.Contains(cond, mainRoute) || strings.Contains(cond, tagRoute) {
				add(fmt.Sprintf("job %s deploys dev; its if must route main there (%s) and not tags: %q", name, mainRoute, j.If))
			}
		case "prod":
			if !strings.Contains(cond, tagRoute) || strings.Contains(cond, mainRoute) {
				add(fmt.Sprintf("job %s deploys prod; its if must route v* tags there (%s) and not main: %q", name, tagRoute, j.If))
			}
			if !needsAncestorCheck(w, j) {
				add(fmt.Sprintf("job %s deploys prod without needing a job that checks the commit is on main (git merge-base --is-ancestor SHA origin/main)", name))
			}
		}
	}
	for _, env := range []string{"dev", "prod"} {
		if !seen[env] {
			add("no job deploys " + env + " through deploy-environment.yml")
		}
	}
	return findings
}

func needsList(j job) []string {
	switch j.Needs.Kind {
	case yaml.ScalarNode:
		return []string{j.Needs.Value}
	case yaml.SequenceNode:
		var out []string
		for _, c := range j.Needs.Content {
			out = append(out, c.Value)
		}
		return out
	}
	return nil
}

func needsAncestorCheck(w *wf, j job) bool {
	for _, n := range needsList(j) {
		for _, s := range w.doc.Jobs[n].Steps {
			if s.If != "" || truthy(s.ContinueOnError) {
				continue
			}
			for _, line := range shellLines(s.Run) {
				if strings.Contains(line, "merge-base --is-ancestor") && strings.Contains(line, "origin/main") {
					return true
				}
			}
		}
	}
	return false
}

// checkConcurrency: the deploy job and the apply job of an environment are in different groups,
// per environment, never cancelled; nor do the workflows calling them cancel runs; and the
// apply waits for running instance refreshes before applying.
func checkConcurrency(all []*wf, deploy, apply *wf) []string {
	if deploy == nil || apply == nil {
		return []string{".github/workflows: deploy-environment.yml and terraform-apply.yml are both required"}
	}
	var findings []string
	groupsOf := func(w *wf) map[string]bool {
		groups := map[string]bool{}
		for _, name := range sortedJobs(w) {
			j := w.doc.Jobs[name]
			g, cancels := concurrencyOf(&j.Concurrency)
			if g == "" {
				findings = append(findings, fmt.Sprintf("%s: job %s has no concurrency group: two runs could act on one environment at once", w.path, name))
				continue
			}
			if cancels {
				findings = append(findings, fmt.Sprintf("%s: job %s: cancel-in-progress may cancel a running rollout or apply midway", w.path, name))
			}
			if !strings.Contains(g, "inputs.environment") {
				findings = append(findings, fmt.Sprintf("%s: job %s: concurrency group %q is not per environment", w.path, name, g))
			}
			groups[g] = true
		}
		return groups
	}
	applyGroups := groupsOf(apply)
	for _, g := range sortedKeys(groupsOf(deploy)) {
		if applyGroups[g] {
			findings = append(findings, fmt.Sprintf("%s and %s share the concurrency group %q: GitHub keeps one pending job per group and cancels the older one, so a queued deploy silently drops a queued apply", deploy.path, apply.path, g))
		}
	}
	for _, w := range all {
		calls := false
		for _, j := range w.doc.Jobs {
			if strings.HasSuffix(j.Uses, "/"+filepath.Base(deploy.path)) || strings.HasSuffix(j.Uses, "/"+filepath.Base(apply.path)) {
				calls = true
			}
		}
		if _, cancels := concurrencyOf(&w.doc.Concurrency); calls && cancels {
			findings = append(findings, fmt.Sprintf("%s: workflow concurrency may cancel a run that is deploying or applying", w.path))
		}
	}
	for _, name := range sortedJobs(apply) {
		waited := false
		for i, s := range apply.doc.Jobs[name].Steps {
			lines := strings.Join(shellLines(s.Run), "\n")
			if strings.Contains(lines, "describe-instance-refreshes") && !truthy(s.ContinueOnError) {
				waited = true
			}
			if terraformApply.MatchString(lines) && !waited {
				findings = append(findings, fmt.Sprintf("%s: job %s step %d applies without first waiting for running instance refreshes (the provider cancels a deploy's refresh)", apply.path, name, i+1))
			}
		}
	}
	return findings
}

// --- Terraform lock files --------------------------------------------------------------------

// providerReq: the version constraints declared for one provider, and where (same index).
type providerReq struct {
	constraints []string
	where       []string
}

// checkLockFiles: each root's .terraform.lock.hcl covers exactly the providers the root and its
// local modules require, at a version all constraints allow, with checksums (h1: for the
// package, zh: from the registry's signed SHA256SUMS).
func checkLockFiles(repo string) ([]string, error) {
	tfDir := filepath.Join(repo, "terraform")
	roots, err := terraformRoots(tfDir)
	if err != nil {
		return nil, err
	}
	if len(roots) == 0 {
		return []string{"terraform/: no root (a directory with a backend block) found"}, nil
	}
	var findings []string
	for _, root := range roots {
		reqs := map[string]*providerReq{}
		if err := collectProviders(root, reqs, map[string]bool{}); err != nil {
			return nil, err
		}
		lockPath := filepath.Join(root, ".terraform.lock.hcl")
		at := rel(repo, lockPath)
		lock, err := parseHCL(lockPath)
		if os.IsNotExist(err) {
			findings = append(findings, at+": missing: terraform init -lockfile=readonly fails without it (create it with terraform providers lock)")
			continue
		} else if err != nil {
			return nil, err
		}
		locked := map[string]bool{}
		for _, b := range lock.Blocks {
			if b.Type != "provider" || len(b.Labels) != 1 {
				continue
			}
			addr := b.Labels[0]
			locked[addr] = true
			where := fmt.Sprintf("%s:%d provider %s", at, b.DefRange().Start.Line, addr)
			req, ok := reqs[addr]
			if !ok {
				findings = append(findings, where+": not required by the root or its modules (init -lockfile=readonly fails on a stale entry)")
				continue
			}
			v, err := version.NewVersion(literal(b.Body.Attributes["version"]))
			if err != nil {
				findings = append(findings, where+": no valid version")
				continue
			}
			for i, c := range req.constraints {
				cs, err := version.NewConstraint(c)
				if err != nil {
					findings = append(findings, fmt.Sprintf("%s: constraint %q: %v", req.where[i], c, err))
				} else if !cs.Check(v) {
					findings = append(findings, fmt.Sprintf("%s: locked version %s does not satisfy %q (%s)", where, v, c, req.where[i]))
				}
			}
			var h1, zh int
			if a := b.Body.Attributes["hashes"]; a != nil {
				if tup, ok := a.Expr.(*hclsyntax.TupleConsExpr); ok {
					for _, e := range tup.Exprs {
						s := literalExpr(e)
						h1 += btoi(strings.HasPrefix(s, "h1:"))
						zh += btoi(strings.HasPrefix(s, "zh:"))
					}
				}
			}
			if h1 == 0 || zh == 0 {
				findings = append(findings, where+": needs h1: and zh: checksums (terraform providers lock)")
			}
		}
		for _, addr := range sortedKeys(reqs) {
			if !locked[addr] {
				findings = append(findings, fmt.Sprintf("%s: no entry for %s, required at %s", at, addr, strings.Join(reqs[addr].where, ", ")))
			}
		}
	}
	return findings, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func literalExpr(e hclsyntax.Expression) string {
	v, diags := e.Value(nil)
	if diags.HasErrors() || !v.IsKnown() || v.IsNull() || v.Type() != cty.String {
		return ""
	}
	return v.AsString()
}

// terraformRoots: directories whose terraform block declares a backend.
func terraformRoots(tfDir string) ([]string, error) {
	seen := map[string]bool{}
	err := filepath.WalkDir(tfDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".tf") {
			return nil
		}
		body, err := parseHCL(p)
		if err != nil {
			return err
		}
		for _, b := range body.Blocks {
			if b.Type != "terraform" {
				continue
			}
			for _, nb := range b.Body.Blocks {
				if nb.Type == "backend" || nb.Type == "cloud" {
					seen[filepath.Dir(p)] = true
				}
			}
		}
		return nil
	})
	return sortedKeys(seen), err
}

// collectProviders adds the required_providers of dir and of the local modules it calls.
func collectProviders(dir string, reqs map[string]*providerReq, visited map[string]bool) error {
	dir = filepath.Clean(dir)
	if visited[dir] {
		return nil
	}
	visited[dir] = true
	files, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil {
		return err
	}
	for _, p := range files {
		body, err := parseHCL(p)
		if err != nil {
			return err
		}
		for _, b := range body.Blocks {
			switch b.Type {
			case "terraform":
				for _, rp := range b.Body.Blocks {
					if rp.Type == "required_providers" {
						addRequirements(p, rp.Body, reqs)
					}
				}
			case "module":
				src := literal(b.Body.Attributes["source"])
				if strings.HasPrefix(src, "./") || strings.HasPrefix(src, "../") {
					if err := collectProviders(filepath.Join(dir, src), reqs, visited); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

func addRequirements(path string, body *hclsyntax.Body, reqs map[string]*providerReq) {
	for name, attr := range body.Attributes {
		src, constraint := "hashicorp/"+name, ""
		if obj, ok := attr.Expr.(*hclsyntax.ObjectConsExpr); ok {
			for _, item := range obj.Items {
				key := hcl.ExprAsKeyword(item.KeyExpr) // source = ..., or "source" = ...
				if key == "" {
					key = literalExpr(item.KeyExpr)
				}
				switch key {
				case "source":
					src = literalExpr(item.ValueExpr)
				case "version":
					constraint = literalExpr(item.ValueExpr)
				}
			}
		}
		if strings.Count(src, "/") == 1 {
			src = "registry.terraform.io/" + src
		}
		src = strings.ToLower(src)
		r := reqs[src]
		if r == nil {
			r = &providerReq{}
			reqs[src] = r
		}
		if constraint != "" {
			r.constraints = append(r.constraints, constraint)
			r.where = append(r.where, fmt.Sprintf("%s:%d", filepath.ToSlash(path), attr.SrcRange.Start.Line))
		} else if len(r.where) == 0 {
			r.where = append(r.where, fmt.Sprintf("%s:%d", filepath.ToSlash(path), attr.SrcRange.Start.Line))
		}
	}
}

// --- image digests ---------------------------------------------------------------------------

// checkImageDigests: Dockerfiles (Dockerfile, *.Dockerfile) and the compose file.
func checkImageDigests(repo string) ([]string, error) {
	var findings []string
	err := filepath.WalkDir(repo, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != repo && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !d.IsDir() && (d.Name() == "Dockerfile" || strings.HasSuffix(d.Name(), ".Dockerfile")) {
			src, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			findings = append(findings, dockerfileDigests(rel(repo, p), string(src))...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml"} {
		src, err := os.ReadFile(filepath.Join(repo, name))
		if os.IsNotExist(err) {
			continue
		} else if err != nil {
			return nil, err
		}
		f, err := composeDigests(name, src)
		if err != nil {
			return nil, err
		}
		findings = append(findings, f...)
	}
	return findings, nil
}

var syntaxDirective = regexp.MustCompile(`^#\s*syntax\s*=\s*(\S+)`)

func dockerfileDigests(path, src string) []string {
	var findings []string
	stages := map[string]bool{}
	inHeader := true
	lines := strings.Split(src, "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		n := i + 1
		if inHeader && strings.HasPrefix(line, "#") {
			if m := syntaxDirective.FindStringSubmatch(line); m != nil && !digestRef.MatchString(m[1]) {
				findings = append(findings, fmt.Sprintf("%s:%d: syntax frontend %s has no @sha256 digest (BuildKit pulls it like a base image)", path, n, m[1]))
			}
			continue
		}
		inHeader = false
		for strings.HasSuffix(line, "\\") && i+1 < len(lines) {
			i++
			line = strings.TrimSuffix(line, "\\") + " " + strings.TrimSpace(lines[i])
		}
		fields := strings.Fields(line)
		if len(fields) < 2 || !strings.EqualFold(fields[0], "FROM") {
			continue
		}
		var args []string
		for _, f := range fields[1:] {
			if !strings.HasPrefix(f, "--") {
				args = append(args, f)
			}
		}
		if len(args) == 0 {
			continue
		}
		image := args[0]
		switch {
		case stages[strings.ToLower(image)], image == "scratch":
		case strings.Contains(image, "$"):
			findings = append(findings, fmt.Sprintf("%s:%d: FROM %s: a variable hides which image is built on; write the image with its digest", path, n, image))
		case !digestRef.MatchString(image):
			findings = append(findings, fmt.Sprintf("%s:%d: FROM %s has no @sha256 digest (a tag can be moved)", path, n, image))
		}
		if len(args) >= 3 && strings.EqualFold(args[1], "AS") {
			stages[strings.ToLower(args[2])] = true
		}
	}
	return findings
}

// composeDigests: images of services that compose pulls (those without a build section).
func composeDigests(path string, src []byte) ([]string, error) {
	var doc struct {
		Services map[string]yaml.Node `yaml:"services"`
	}
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := root.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var findings []string
	for _, name := range sortedKeys(doc.Services) {
		svc := doc.Services[name]
		var image *yaml.Node
		built := false
		for i := 0; i+1 < len(svc.Content); i += 2 {
			switch svc.Content[i].Value {
			case "image":
				image = svc.Content[i+1]
			case "build":
				built = true
			}
		}
		if image != nil && !built && !digestRef.MatchString(image.Value) {
			findings = append(findings, fmt.Sprintf("%s:%d: service %s: image %s has no @sha256 digest", path, image.Line, name, image.Value))
		}
	}
	return findings, nil
}
