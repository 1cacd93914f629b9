package main

// tfpolicy ciroles DIR: the CI roles of modules/github-oidc (DIR is the terraform directory),
// evaluated rather than grepped. The module is evaluated like Terraform does (tfmodule.go:
// variable defaults, locals, for_each, dynamic statements, the functions the module uses),
// with sample values for the account and the variables that have no default, so every role
// ends up with the statements of its inline and attached policies, which the IAM evaluator
// (iameval.go) then probes. Then:
//   - no apply, deploy or release role gets an admin-ish AWS managed policy (PowerUserAccess,
//     AdministratorAccess, *FullAccess);
//   - an environment's roles Allow data reads (object contents, secret values, parameters,
//     log events, decryption) only on that environment's resources: ARNs named for it, or a
//     condition on its Environment tag;
//   - an environment's roles may not Allow changes on "*" without a condition, except the few
//     actions that have no resource-level permissions (unscopedOK);
//   - when several environments share the account, each apply role explicitly denies the
//     others' data;
//   - roles reachable from pull requests are plan roles, deny log contents and every object
//     outside the state bucket (files, access logs, CloudTrail), and can neither delete nor
//     write state lock files;
//   - environment roles trust exactly their GitHub environment, create or empower roles only
//     with the permissions boundary, and deny removing it;
//   - policies fit the IAM size quotas.

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Sample values: the checks compare ARNs the module builds, so any well-formed values do.
const (
	ciAccount     = "123456789012"
	ciStateBucket = "weupload-tfstate-123456789012"
)

var ciSampleVars = map[string]cty.Value{
	"github_repository":        cty.StringVal("owner/repo"),
	"state_bucket":             cty.StringVal(ciStateBucket),
	"ecr_repository_arn":       cty.StringVal("arn:aws:ecr:eu-central-1:" + ciAccount + ":repository/weupload"),
	"permissions_boundary_arn": cty.StringVal("arn:aws:iam::" + ciAccount + ":policy/weupload/weupload-workload-boundary"),
}

// ciDataActions read contents rather than configuration.
var ciDataActions = []string{
	"s3:GetObject", "s3:GetObjectVersion",
	"secretsmanager:GetSecretValue",
	"ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:GetParameterHistory",
	"logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartQuery", "logs:GetQueryResults",
	"logs:GetLogRecord", "logs:Unmask",
	"kms:Decrypt",
}

// ciLogReads must be denied to plan roles: log events hold IP and e-mail addresses.
var ciLogReads = []string{
	"logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartQuery", "logs:GetQueryResults",
	"logs:GetLogRecord", "logs:Unmask",
}

// unscopedOK: actions without resource-level permissions.
var unscopedOK = map[string]bool{
	"ecr:GetAuthorizationToken": true,
	"logs:CreateLogDelivery":    true,
	"logs:DeleteLogDelivery":    true,
	"logs:UpdateLogDelivery":    true,
	"logs:PutResourcePolicy":    true,
	"sts:GetCallerIdentity":     true,
	// The deploy role reads its own commands' output; invocations have no resource ARN.
	"ssm:GetCommandInvocation": true,
}

type ciRole struct {
	label, key string // resource label and for_each key (the environment)
	name       string
	trustSubs  []string
	statements []statement
	managed    []string // AWS managed policy ARNs
	inline     int      // characters of the inline policies, as IAM counts them
	attached   []int    // characters of each attached customer managed policy
}

// IAM quotas (characters without whitespace): a customer managed policy, and all inline
// policies of one role together.
const (
	ciManagedPolicyMax  = 6144
	ciInlinePoliciesMax = 10240
)

// ciPolicySize is the length of the policy as aws_iam_policy_document renders it, without
// whitespace (how IAM counts against its quotas).
func ciPolicySize(stmts []statement) int {
	type cond map[string]map[string][]string
	type stmt struct {
		Sid         string `json:",omitempty"`
		Effect      string
		Action      []string `json:",omitempty"`
		NotAction   []string `json:",omitempty"`
		Resource    []string `json:",omitempty"`
		NotResource []string `json:",omitempty"`
		Condition   cond     `json:",omitempty"`
	}
	doc := struct {
		Version   string
		Statement []stmt
	}{Version: "2012-10-17"}
	for _, s := range stmts {
		c := cond{}
		for _, k := range s.Conditions {
			if c[k.Operator] == nil {
				c[k.Operator] = map[string][]string{}
			}
			c[k.Operator][k.Key] = k.Values
		}
		if len(c) == 0 {
			c = nil
		}
		doc.Statement = append(doc.Statement, stmt{s.Sid, s.Effect, s.Actions, s.NotActions, s.Resources, s.NotResources, c})
	}
	b, _ := json.Marshal(doc)
	return len(b)
}

func checkCIRoles(tfDir string) ([]string, error) {
	roles, env, err := evalCIRoles(filepath.Join(tfDir, "modules", "github-oidc"))
	if err != nil {
		return nil, err
	}
	if len(roles) == 0 {
		return nil, fmt.Errorf("ciroles: no aws_iam_role in %s", tfDir)
	}
	return ciFindings(roles, env), nil
}

// ciEnv is what the findings need from the module's variables.
type ciEnv struct {
	prefix string
	envs   []string
}

func ciFindings(roles []*ciRole, env ciEnv) []string {
	var out []string
	add := func(r *ciRole, format string, a ...any) {
		out = append(out, fmt.Sprintf("role %s (%s): %s", r.name, r.label, fmt.Sprintf(format, a...)))
	}
	for _, r := range roles {
		isPlan := strings.HasPrefix(r.label, "plan")
		if r.inline > ciInlinePoliciesMax {
			add(r, "inline policies have %d characters together, IAM allows %d per role", r.inline, ciInlinePoliciesMax)
		}
		for _, n := range r.attached {
			if n > ciManagedPolicyMax {
				add(r, "an attached policy has %d characters, IAM allows %d", n, ciManagedPolicyMax)
			}
		}
		for _, arn := range r.managed {
			name := arn[strings.LastIndex(arn, "/")+1:]
			if !isPlan && (name == "PowerUserAccess" || name == "AdministratorAccess" || strings.HasSuffix(name, "FullAccess")) {
				add(r, "AWS managed policy %s: grants far more than the role's resources", name)
			}
		}
		fromPR := false
		for _, s := range r.trustSubs {
			fromPR = fromPR || strings.HasSuffix(s, ":pull_request")
		}
		if fromPR {
			if !isPlan {
				add(r, "trusted for pull_request: only a plan role may run pull-request code")
			}
			for _, a := range ciLogReads {
				probe := "arn:aws:logs:eu-central-1:" + ciAccount + ":log-group:/" + env.prefix + "-prod/app:log-stream:i-0"
				if !deniedOutright(r.statements, a, probe) {
					add(r, "runs pull-request code but does not deny %s on log groups", a)
				}
			}
			for _, probe := range []string{
				"arn:aws:s3:::" + env.prefix + "-prod-files-" + ciAccount + "-logs/alb/AWSLogs/x.log.gz",
				"arn:aws:s3:::" + env.prefix + "-prod-files-" + ciAccount + "/u/1/object",
			} {
				if !deniedOutright(r.statements, "s3:GetObject", probe) {
					add(r, "runs pull-request code but does not deny s3:GetObject on %s", probe)
				}
			}
			lock := "arn:aws:s3:::" + ciStateBucket + "/weupload/prod/terraform.tfstate.tflock"
			for _, a := range []string{"s3:DeleteObject", "s3:PutObject"} {
				if !deniedOutright(r.statements, a, lock) {
					add(r, "runs pull-request code but does not deny %s on state lock files", a)
				}
			}
		}
		if isPlan || r.key == "" {
			if r.label == "release" {
				ciCheckScoped(r, "", env, add)
			}
			continue
		}
		want := "repo:owner/repo:environment:" + r.key
		if len(r.trustSubs) != 1 || r.trustSubs[0] != want {
			add(r, "trusts %v; an environment's role must trust only %s", r.trustSubs, want)
		}
		ciCheckScoped(r, r.key, env, add)
		ciCheckBoundary(r, add)
		if r.label == "apply" {
			for _, o := range env.envs {
				if o == r.key {
					continue
				}
				n := env.prefix + "-" + o
				probes := map[string]string{
					"secretsmanager:GetSecretValue": "arn:aws:secretsmanager:eu-central-1:" + ciAccount + ":secret:" + n + "/db-app-AbCdEf",
					"s3:GetObject":                  "arn:aws:s3:::" + n + "-files-" + ciAccount + "/u/1/object",
					"ssm:GetParameter":              "arn:aws:ssm:eu-central-1:" + ciAccount + ":parameter/" + n + "/app/env",
					"logs:GetLogEvents":             "arn:aws:logs:eu-central-1:" + ciAccount + ":log-group:/" + n + "/app:log-stream:i-0",
					"s3:DeleteBucket":               "arn:aws:s3:::" + n + "-files-" + ciAccount,
				}
				for _, a := range sortedKeys(probes) {
					if !deniedOutright(r.statements, a, probes[a]) {
						add(r, "does not explicitly deny %s on %s (environment %s shares the account)", a, probes[a], o)
					}
				}
			}
		}
	}
	return out
}

// ciCheckScoped: Allow statements of an environment's role (env "" for roles of no
// environment) read data only of that environment and change nothing account-wide.
func ciCheckScoped(r *ciRole, env string, e ciEnv, add func(*ciRole, string, ...any)) {
	for _, s := range r.statements {
		if s.Effect != "Allow" {
			continue
		}
		tagged := env != "" && ciTagCondition(s.Conditions, env, e.prefix)
		for _, a := range ciDataActions {
			if !s.coversAction(a) {
				continue
			}
			if len(s.NotResources) > 0 {
				add(r, "statement %q allows %s with NotResource", s.Sid, a)
				continue
			}
			for _, res := range s.Resources {
				if !tagged && !ciOwned(res, env, e.prefix) {
					add(r, "statement %q allows %s on %s, not %s's", s.Sid, a, res, cmp.Or(env, "an environment"))
				}
			}
		}
		if len(s.Conditions) > 0 || (len(s.NotResources) == 0 && !slices.Contains(s.Resources, "*")) {
			continue
		}
		for _, a := range append(append([]string{}, s.Actions...), s.NotActions...) {
			if !ciReadOnly(a) && !unscopedOK[a] {
				add(r, "statement %q allows %s on every resource, without a condition", s.Sid, a)
			}
		}
	}
}

// ciBoundActions change a role's permissions: allowed only with the permissions boundary.
var ciBoundActions = []string{"iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePermissionsBoundary"}

// ciCheckBoundary: an environment's role creates or empowers roles only with the boundary
// (an iam:PermissionsBoundary condition), and may never remove a boundary.
func ciCheckBoundary(r *ciRole, add func(*ciRole, string, ...any)) {
	for _, s := range r.statements {
		if s.Effect != "Allow" {
			continue
		}
		bound := false
		for _, c := range s.Conditions {
			bound = bound || c.Operator == "StringEquals" && c.Key == "iam:PermissionsBoundary" && len(c.Values) == 1
		}
		for _, a := range ciBoundActions {
			if s.coversAction(a) && !bound {
				add(r, "statement %q allows %s without an iam:PermissionsBoundary condition", s.Sid, a)
			}
		}
	}
	const lift = "iam:DeleteRolePermissionsBoundary"
	if grantsAction(r.statements, lift) && !deniedOutright(r.statements, lift, "arn:aws:iam::"+ciAccount+":role/weupload/x") {
		add(r, "may %s: deny it, so no role it manages loses the boundary", lift)
	}
}

// ciReadOnly: configuration reads (Describe*, List*, Get*), not reads of contents.
func ciReadOnly(action string) bool {
	_, verb, _ := strings.Cut(action, ":")
	if ciSensitiveReads[action] || strings.Contains(verb, "*") && strings.HasPrefix(verb, "Get") {
		return false
	}
	for _, a := range ciDataActions {
		if globMatch(strings.ToLower(action), strings.ToLower(a)) {
			return false
		}
	}
	return strings.HasPrefix(verb, "Describe") || strings.HasPrefix(verb, "List") || strings.HasPrefix(verb, "Get")
}

// ciSensitiveReads: Get* actions that return contents (console output may carry user data).
var ciSensitiveReads = map[string]bool{
	"ec2:GetConsoleOutput":     true,
	"ec2:GetConsoleScreenshot": true,
	"ec2:GetPasswordData":      true,
}

// ciTagCondition: the statement applies only to resources (or requests) tagged for env: an
// Environment tag equal to env, or a tag whose values are all ARNs of env's resources (RDS tags
// its master secret with aws:rds:primaryDBInstanceArn).
func ciTagCondition(conds []condition, env, prefix string) bool {
	for _, c := range conds {
		v := strings.ToLower(c.Key)
		tag := strings.Contains(v, "resourcetag/") || strings.Contains(v, "requesttag/")
		if !tag || len(c.Values) == 0 {
			continue
		}
		if (c.Operator == "StringEquals" || c.Operator == "StringEqualsIgnoreCase") && strings.HasSuffix(v, "tag/environment") &&
			len(c.Values) == 1 && c.Values[0] == env {
			return true
		}
		if c.Operator == "StringEquals" || c.Operator == "StringLike" || c.Operator == "ArnEquals" || c.Operator == "ArnLike" {
			owned := true
			for _, val := range c.Values {
				owned = owned && strings.HasPrefix(val, "arn:") && ciOwned(val, env, prefix)
			}
			if owned {
				return true
			}
		}
	}
	return false
}

// ciOwned: the ARN pattern names only env's resources: a path or name segment that is
// "<prefix>-<env>" followed by a separator, or env's state under the state bucket, or AWS's
// public SSM parameters.
func ciOwned(arn, env, prefix string) bool {
	if strings.Contains(arn, ":parameter/aws/service/") {
		return true
	}
	if env == "" {
		return false
	}
	if strings.HasPrefix(arn, "arn:aws:s3:::"+ciStateBucket+"/weupload/"+env+"/") {
		return true
	}
	name := prefix + "-" + env
	// The resource part follows the fifth colon; a wildcard there before the name could stand
	// for another environment's path.
	resStart := 0
	for n := 0; n < 5 && resStart >= 0; n++ {
		if j := strings.IndexByte(arn[resStart:], ':'); j >= 0 {
			resStart += j + 1
		} else {
			resStart = -1
		}
	}
	if resStart < 0 {
		return false
	}
	for i := strings.Index(arn, name); i >= 0; {
		rest := arn[i+len(name):]
		startOK := i > 0 && (arn[i-1] == ':' || arn[i-1] == '/') || strings.HasSuffix(arn[:i], "aws-waf-logs-")
		endOK := rest == "" || strings.ContainsRune("-/:", rune(rest[0]))
		if startOK && endOK && i >= resStart && !strings.Contains(arn[resStart:i], "*") {
			return true
		}
		j := strings.Index(arn[i+1:], name)
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

// --- evaluation ---------------------------------------------------------------------------------

// ciIAMTypes are the resources a role's permissions are assembled from.
var ciIAMTypes = map[string]bool{
	"aws_iam_role":                   true,
	"aws_iam_policy":                 true,
	"aws_iam_role_policy":            true,
	"aws_iam_role_policy_attachment": true,
}

// evalCIRoles evaluates the module in dir (variable defaults, with ciSampleVars for the others)
// and assembles its roles with their trust and policies.
func evalCIRoles(dir string) ([]*ciRole, ciEnv, error) {
	m, err := loadTFModule(nil, dir)
	if err != nil {
		return nil, ciEnv{}, err
	}
	e, err := evaluate(m, evalInputs{
		vars: ciSampleVars,
		data: map[string]cty.Value{
			"aws_caller_identity.current": cty.ObjectVal(map[string]cty.Value{"account_id": cty.StringVal(ciAccount)}),
			"aws_partition.current":       cty.ObjectVal(map[string]cty.Value{"partition": cty.StringVal("aws")}),
		},
		aws:        awsSample{partition: "aws", region: "eu-central-1", account: ciAccount},
		unknownWhy: "that have neither a default nor a sample value (ciSampleVars)",
	})
	if err == nil {
		err = errors.Join(e.errs...)
	}
	if err != nil {
		return nil, ciEnv{}, fmt.Errorf("ciroles: evaluating %s: %w", dir, err)
	}
	var blocks []*hclsyntax.Block
	for _, b := range m.blocksOf("resource", "") {
		if ciIAMTypes[b.Labels[0]] {
			blocks = append(blocks, b)
		}
	}
	roles, env, err := ciAssemble(blocks, e)
	env.prefix = "weupload"
	if vars := e.ctx.Variables["var"]; vars.Type().HasAttribute("name_prefix") {
		if p := vars.GetAttr("name_prefix"); p.IsKnown() && !p.IsNull() && p.Type() == cty.String {
			env.prefix = p.AsString()
		}
	}
	return roles, env, err
}

// ciString is v as a string, "(unknown)" when it is not a known string.
func ciString(v cty.Value) string {
	if !v.IsKnown() || v.IsNull() || v.Type() != cty.String {
		return "(unknown)"
	}
	return v.AsString()
}

// ciAssemble joins roles with their trust, inline policies and attachments.
func ciAssemble(blocks []*hclsyntax.Block, e *evaluated) ([]*ciRole, ciEnv, error) {
	var roles []*ciRole
	byName := map[string]*ciRole{}
	docs := map[string]string{} // policy ARN -> JSON of customer managed policies
	instances := func(b *hclsyntax.Block) (map[string]cty.Value, error) {
		v := e.ctx.Variables[b.Labels[0]].GetAttr(b.Labels[1])
		if !v.IsKnown() {
			return nil, fmt.Errorf("%s.%s cannot be evaluated (count, or an unknown for_each)", b.Labels[0], b.Labels[1])
		}
		if _, isMap := b.Body.Attributes["for_each"]; isMap {
			return v.AsValueMap(), nil
		}
		return map[string]cty.Value{"": v}, nil
	}
	for _, b := range blocks {
		all, err := instances(b)
		if err != nil {
			return nil, ciEnv{}, err
		}
		switch b.Labels[0] {
		case "aws_iam_role":
			for k, v := range all {
				r := &ciRole{label: b.Labels[1], key: k, name: ciString(v.GetAttr("name"))}
				trust, err := parsePolicyJSON(ciString(v.GetAttr("assume_role_policy")), "role "+r.name+" trust")
				if err != nil {
					return nil, ciEnv{}, err
				}
				for _, s := range trust {
					for _, c := range s.Conditions {
						if strings.HasSuffix(c.Key, ":sub") {
							r.trustSubs = append(r.trustSubs, c.Values...)
						}
					}
				}
				roles = append(roles, r)
				byName[r.name] = r
			}
		case "aws_iam_policy":
			for _, v := range all {
				docs[ciString(v.GetAttr("arn"))] = ciString(v.GetAttr("policy"))
			}
		}
	}
	add := func(role, doc string, inline bool) error {
		r := byName[role]
		if r == nil {
			return fmt.Errorf("policy for unknown role %q", role)
		}
		stmts, err := parsePolicyJSON(doc, "policy of role "+role)
		if err != nil {
			return err
		}
		r.statements = append(r.statements, stmts...)
		if n := ciPolicySize(stmts); inline {
			r.inline += n
		} else {
			r.attached = append(r.attached, n)
		}
		return nil
	}
	for _, b := range blocks {
		if b.Labels[0] != "aws_iam_role_policy" && b.Labels[0] != "aws_iam_role_policy_attachment" {
			continue
		}
		all, err := instances(b)
		if err != nil {
			return nil, ciEnv{}, err
		}
		for _, v := range all {
			role := ciString(v.GetAttr("role"))
			if b.Labels[0] == "aws_iam_role_policy" {
				if err := add(role, ciString(v.GetAttr("policy")), true); err != nil {
					return nil, ciEnv{}, err
				}
				continue
			}
			arn := ciString(v.GetAttr("policy_arn"))
			if doc, ok := docs[arn]; ok {
				if err := add(role, doc, false); err != nil {
					return nil, ciEnv{}, err
				}
			} else if r := byName[role]; r != nil {
				r.managed = append(r.managed, arn)
			}
		}
	}
	for _, b := range blocks {
		if b.Labels[0] == "aws_iam_role" {
			if a, ok := b.Body.Attributes["managed_policy_arns"]; ok {
				return nil, ciEnv{}, fmt.Errorf("%s: aws_iam_role.%s uses managed_policy_arns; attach with aws_iam_role_policy_attachment (checked here)", a.SrcRange, b.Labels[1])
			}
		}
	}
	sort.Slice(roles, func(i, j int) bool { return roles[i].name < roles[j].name })
	var env ciEnv
	for _, b := range blocks {
		if b.Labels[0] == "aws_iam_role" && b.Labels[1] == "apply" {
			all, _ := instances(b)
			for k := range all {
				env.envs = append(env.envs, k)
			}
		}
	}
	sort.Strings(env.envs)
	return roles, env, nil
}
