package main

// tfpolicy ecr DIR: the ECR lifecycle policy of DIR/modules/ecr, evaluated from its HCL (the
// variables' defaults; tfmodule.go) and replayed the way ECR applies it: rules in rulePriority
// order, and an image whose tags a rule selects is never expired by a lower-priority rule.
//   - an image deploy/aws/deploy.sh has deployed (tags <sha> and deployed-<env>-<sha>) must
//     first be selected by a rule that keeps it (a count rule of at least ecrKeepForever), so
//     an environment that lags never loses the image it runs or rolls back to;
//   - an image built but never deployed must be expirable (the repository stays bounded);
//   - ECR's own constraints: unique priorities, a tagStatus "any" rule last.

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// ecrKeepForever: a count rule keeping this many images counts as "keep". ECR counts by push
// time, so a deployed image would go only after 10000 newer images had been deployed: years of
// daily deploys, far beyond how far an environment lags or rolls back.
const ecrKeepForever = 10000

type ecrRule struct {
	RulePriority int    `json:"rulePriority"`
	Description  string `json:"description"`
	Selection    struct {
		TagStatus      string   `json:"tagStatus"`
		TagPrefixList  []string `json:"tagPrefixList"`
		TagPatternList []string `json:"tagPatternList"`
		CountType      string   `json:"countType"`
		CountNumber    int      `json:"countNumber"`
	} `json:"selection"`
	Action struct {
		Type string `json:"type"`
	} `json:"action"`
}

func checkECRLifecycle(tfDir string) ([]string, error) {
	dir := filepath.Join(tfDir, "modules", "ecr")
	policies, err := ecrPolicies(dir)
	if err != nil {
		return nil, err
	}
	if len(policies) == 0 {
		return nil, fmt.Errorf("ecr: no aws_ecr_lifecycle_policy in %s", dir)
	}
	var findings []string
	for name, rules := range policies {
		for _, f := range ecrFindings(rules) {
			findings = append(findings, fmt.Sprintf("%s: aws_ecr_lifecycle_policy.%s: %s", dir, name, f))
		}
	}
	sort.Strings(findings)
	return findings, nil
}

// ecrFindings replays rules for a deployed and a never-deployed image.
func ecrFindings(rules []ecrRule) []string {
	var findings []string
	sort.Slice(rules, func(i, j int) bool { return rules[i].RulePriority < rules[j].RulePriority })
	for i, r := range rules {
		if i > 0 && r.RulePriority == rules[i-1].RulePriority {
			findings = append(findings, fmt.Sprintf("rulePriority %d is used twice", r.RulePriority))
		}
		if r.Selection.TagStatus == "any" && i != len(rules)-1 {
			findings = append(findings, fmt.Sprintf("rule %d selects tagStatus any but is not the last rule (ECR refuses that)", r.RulePriority))
		}
	}
	const sha = "0123456789abcdef0123456789abcdef01234567"
	for _, env := range []string{"dev", "prod"} {
		tags := []string{sha, "deployed-" + env + "-" + sha}
		r := ecrFirstMatch(rules, tags)
		if r != nil && r.Action.Type == "expire" &&
			!(r.Selection.CountType == "imageCountMoreThan" && r.Selection.CountNumber >= ecrKeepForever) {
			findings = append(findings, fmt.Sprintf("rule %d (%q) can expire an image deployed to %s (tags %s)",
				r.RulePriority, r.Description, env, strings.Join(tags, ", ")))
		}
	}
	if r := ecrFirstMatch(rules, []string{sha}); r == nil || r.Action.Type != "expire" ||
		r.Selection.CountType == "imageCountMoreThan" && r.Selection.CountNumber >= ecrKeepForever {
		findings = append(findings, "no rule expires images that were never deployed: the repository grows without bound")
	}
	return findings
}

// ecrFirstMatch: the rule that decides about an image with tags (rules sorted by priority).
func ecrFirstMatch(rules []ecrRule, tags []string) *ecrRule {
	for i := range rules {
		if ecrSelects(rules[i], tags) {
			return &rules[i]
		}
	}
	return nil
}

// ecrSelects: tagged rules need, for each prefix (or wildcard pattern), some tag matching it.
func ecrSelects(r ecrRule, tags []string) bool {
	s := r.Selection
	switch s.TagStatus {
	case "any":
		return true
	case "untagged":
		return len(tags) == 0
	case "tagged":
		if len(tags) == 0 || len(s.TagPrefixList)+len(s.TagPatternList) == 0 {
			return false
		}
		for _, p := range s.TagPrefixList {
			if !slices.ContainsFunc(tags, func(t string) bool { return strings.HasPrefix(t, p) }) {
				return false
			}
		}
		for _, p := range s.TagPatternList {
			re := regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(p), `\*`, ".*") + "$")
			if !slices.ContainsFunc(tags, re.MatchString) {
				return false
			}
		}
		return true
	}
	return false
}

// ecrPolicies evaluates the policy attribute of every aws_ecr_lifecycle_policy in dir (with
// the variables' defaults).
func ecrPolicies(dir string) (map[string][]ecrRule, error) {
	m, err := loadTFModule(nil, dir)
	if err != nil {
		return nil, err
	}
	e, err := evaluate(m, evalInputs{})
	if err != nil {
		return nil, err
	}
	out := map[string][]ecrRule{}
	for _, b := range m.blocksOf("resource", "aws_ecr_lifecycle_policy") {
		a, ok := b.Body.Attributes["policy"]
		if !ok {
			return nil, fmt.Errorf("ecr: aws_ecr_lifecycle_policy.%s has no policy", b.Labels[1])
		}
		v, diags := a.Expr.Value(e.ctx)
		if diags.HasErrors() {
			return nil, diags
		}
		var p struct{ Rules []ecrRule }
		if !v.IsKnown() || v.Type() != cty.String {
			return nil, fmt.Errorf("ecr: aws_ecr_lifecycle_policy.%s: policy is not a known string", b.Labels[1])
		}
		if err := json.Unmarshal([]byte(v.AsString()), &p); err != nil {
			return nil, fmt.Errorf("ecr: aws_ecr_lifecycle_policy.%s: %w", b.Labels[1], err)
		}
		out[b.Labels[1]] = p.Rules
	}
	return out, nil
}
