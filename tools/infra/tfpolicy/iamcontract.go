package main

// tfpolicy iamcontract MODULE_DIR CONTRACT
//
// Proves that the instance role of a Terraform module (the role of its aws_iam_instance_profile)
// allows every AWS call listed in the contract file (deploy/aws/iam-contract.json), and that it
// allows nothing the contract does not need: each Allow statement, and each action, resource and
// condition value of a statement that lists several, is removed in turn and at least one call
// must then be denied. A statement nothing needs is reported as unused.
//
// The policies are read from the module's HCL without Terraform or the AWS provider: variables
// come from the contract's "inputs", data sources from its "data", locals and resource
// attributes are evaluated from the module itself, and resource ARNs are built the way AWS
// builds them (ssm parameter, secret with its random suffix, log group, Auto Scaling group, IAM
// role). Anything a policy depends on that is not known makes the check fail, never pass.
//
// The contract's "scripts" (relative to the contract file) are parsed as shell: each `aws` CLI
// call they make must be listed, and each listed "admin-script" call must still be made
// (iamscripts.go).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// contract is the parsed contract file; see deploy/aws/iam-contract.json.
type contract struct {
	Values     map[string]string            `json:"values"`
	Inputs     map[string]any               `json:"inputs"`
	Data       map[string]map[string]string `json:"data"`
	NotCovered map[string]string            `json:"not_covered"`
	Scripts    []string                     `json:"scripts"`
	Calls      []contractCall               `json:"calls"`
}

// contractCall is one AWS request made with the role, as IAM authorises it.
type contractCall struct {
	Source   string            `json:"source"`
	Caller   string            `json:"caller"`
	API      string            `json:"api"`
	Action   string            `json:"action"`
	Resource string            `json:"resource"`
	Context  map[string]string `json:"context"`
}

func (c contractCall) String() string {
	s := fmt.Sprintf("%s %s (%s) on %s", c.Source, c.API, c.Action, c.Resource)
	keys := make([]string, 0, len(c.Context))
	for k := range c.Context {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s += fmt.Sprintf(" %s=%s", k, c.Context[k])
	}
	return s
}

// runIAMContract is the iamcontract subcommand; it returns the exit status.
func runIAMContract(dir, contractPath string) int {
	findings, summary, err := checkIAMContract(dir, contractPath)
	if err != nil {
		fmt.Println("tfpolicy iamcontract:", err)
		return 2
	}
	for _, f := range findings {
		fmt.Println(f)
	}
	if len(findings) > 0 {
		return 1
	}
	fmt.Println(summary)
	return 0
}

// checkIAMContract returns one finding per denied call and per unneeded policy element.
func checkIAMContract(dir, contractPath string) (findings []string, summary string, err error) {
	c, err := loadContract(contractPath)
	if err != nil {
		return nil, "", err
	}
	m, err := loadModule(dir, c)
	if err != nil {
		return nil, "", err
	}
	policies, notCovered, err := instanceRolePolicies(m, c)
	if err != nil {
		return nil, "", err
	}
	var stmts []statement
	for _, p := range policies {
		stmts = append(stmts, p...)
	}
	findings = evaluateContract(stmts, c.Calls)
	scriptFindings, err := checkScripts(filepath.Dir(contractPath), c.Scripts, c.Calls)
	if err != nil {
		return nil, "", err
	}
	findings = append(findings, scriptFindings...)
	summary = fmt.Sprintf("tfpolicy iamcontract: %d calls allowed by %d statements in %d policies of the instance role; each statement, action, resource and condition value is needed; the AWS CLI calls of %s are listed",
		len(c.Calls), len(stmts), len(policies), strings.Join(c.Scripts, ", "))
	if len(notCovered) > 0 {
		summary += "; not covered: " + strings.Join(notCovered, ", ")
	}
	return findings, summary, nil
}

// evaluateContract checks every call against stmts, then that every element of every Allow
// statement is needed by some call.
func evaluateContract(stmts []statement, calls []contractCall) []string {
	var findings []string
	for _, call := range calls {
		if !allowed(stmts, call) {
			findings = append(findings, "DENIED: "+call.String()+" ["+call.Caller+"]")
		}
	}
	if len(findings) > 0 {
		return findings // narrowing tests mean nothing until the contract holds
	}
	anyDenied := func(s []statement) bool {
		for _, call := range calls {
			if !allowed(s, call) {
				return true
			}
		}
		return false
	}
	for i, st := range stmts {
		if st.Effect != "Allow" {
			continue
		}
		without := slices.Concat(stmts[:i], stmts[i+1:])
		if !anyDenied(without) {
			findings = append(findings, fmt.Sprintf("UNUSED: %s: no contract call needs this statement (remove it, or list the call that needs it)", st.Where))
			continue
		}
		for _, v := range st.narrowings() {
			if !anyDenied(slices.Concat(stmts[:i], []statement{v.stmt}, stmts[i+1:])) {
				findings = append(findings, fmt.Sprintf("UNUSED: %s: %s is not needed by any contract call", st.Where, v.what))
			}
		}
	}
	return findings
}

func loadContract(path string) (*contract, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c contract
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&struct {
		Comment any `json:"comment"`
		*contract
	}{contract: &c}); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, k := range []string{"partition", "region", "account", "secret_suffix", "asg_uuid"} {
		if c.Values[k] == "" {
			return nil, fmt.Errorf("%s: values.%s is required (resource ARNs are built with it)", path, k)
		}
	}
	if len(c.Calls) == 0 {
		return nil, fmt.Errorf("%s: no calls", path)
	}
	for i := range c.Calls {
		call := &c.Calls[i]
		if call.Source == "" || call.API == "" || call.Action == "" || call.Resource == "" {
			return nil, fmt.Errorf("%s: call %d: source, api, action and resource are required", path, i+1)
		}
		if call.Resource, err = c.expand(call.Resource); err != nil {
			return nil, fmt.Errorf("%s: call %d: %w", path, i+1, err)
		}
		for k, v := range call.Context {
			if call.Context[k], err = c.expand(v); err != nil {
				return nil, fmt.Errorf("%s: call %d: %w", path, i+1, err)
			}
		}
	}
	return &c, nil
}

var placeholder = regexp.MustCompile(`\$\{([a-z_]+)\}`)

// expand replaces ${name} by the contract's sample value of name.
func (c *contract) expand(s string) (string, error) {
	var missing []string
	out := placeholder.ReplaceAllStringFunc(s, func(m string) string {
		k := m[2 : len(m)-1]
		v, ok := c.Values[k]
		if !ok {
			missing = append(missing, k)
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("%q: no value for %s", s, strings.Join(missing, ", "))
	}
	return out, nil
}

// toCty converts a JSON input (strings, numbers, bools, objects, arrays) to a cty value,
// expanding placeholders in strings.
func (c *contract) toCty(v any) (cty.Value, error) {
	switch v := v.(type) {
	case string:
		s, err := c.expand(v)
		return cty.StringVal(s), err
	case float64:
		return cty.NumberFloatVal(v), nil
	case bool:
		return cty.BoolVal(v), nil
	case map[string]any:
		attrs := map[string]cty.Value{}
		for k, e := range v {
			cv, err := c.toCty(e)
			if err != nil {
				return cty.NilVal, err
			}
			attrs[k] = cv
		}
		return cty.ObjectVal(attrs), nil
	case []any:
		var elems []cty.Value
		for _, e := range v {
			cv, err := c.toCty(e)
			if err != nil {
				return cty.NilVal, err
			}
			elems = append(elems, cv)
		}
		return cty.TupleVal(elems), nil
	}
	return cty.NilVal, fmt.Errorf("unsupported input value %v", v)
}

// ---------------------------------------------------------------------------------------------
// The module, evaluated symbolically.

// loadModule evaluates the module in dir with the contract's sample values: its inputs as the
// variables, its data as the data sources, its values for the ARNs.
func loadModule(dir string, c *contract) (*evaluated, error) {
	m, err := loadTFModule(nil, dir)
	if err != nil {
		return nil, err
	}
	in := evalInputs{
		vars: map[string]cty.Value{},
		data: map[string]cty.Value{},
		aws: awsSample{
			partition: c.Values["partition"], region: c.Values["region"], account: c.Values["account"],
			secretSuffix: c.Values["secret_suffix"], asgUUID: c.Values["asg_uuid"],
		},
		unknownWhy: "the contract does not define (add them to its inputs or data)",
	}
	for name, input := range c.Inputs {
		if m.blocks["variable."+name] == nil {
			return nil, fmt.Errorf("inputs.%s: the module has no variable %s", name, name)
		}
		if in.vars[name], err = c.toCty(input); err != nil {
			return nil, fmt.Errorf("inputs.%s: %w", name, err)
		}
	}
	for key, attrs := range c.Data {
		obj := map[string]cty.Value{}
		for k, s := range attrs {
			e, err := c.expand(s)
			if err != nil {
				return nil, fmt.Errorf("data.%s: %w", key, err)
			}
			obj[k] = cty.StringVal(e)
		}
		in.data[key] = cty.ObjectVal(obj)
	}
	return evaluate(m, in)
}

// refersTo reports whether expr is (or contains) a reference to TYPE.NAME.
func refersTo(expr hcl.Expression, typ, name string) bool {
	for _, t := range expr.Variables() {
		if t.RootName() != typ || len(t) < 2 {
			continue
		}
		if a, ok := t[1].(hcl.TraverseAttr); ok && a.Name == name {
			return true
		}
	}
	return false
}

// instanceRolePolicies returns the statements of every policy attached to the role of the
// module's instance profile (one slice per policy), and the attached policies the contract
// says are not covered.
func instanceRolePolicies(m *evaluated, c *contract) ([][]statement, []string, error) {
	role := ""
	for _, b := range m.mod.blocksOf("resource", "aws_iam_instance_profile") {
		for _, t := range b.Body.Attributes["role"].Expr.Variables() {
			if t.RootName() == "aws_iam_role" && len(t) >= 2 {
				if a, ok := t[1].(hcl.TraverseAttr); ok {
					if role != "" && role != a.Name {
						return nil, nil, fmt.Errorf("more than one instance profile role (%s, %s)", role, a.Name)
					}
					role = a.Name
				}
			}
		}
	}
	if role == "" {
		return nil, nil, fmt.Errorf("no aws_iam_instance_profile with role = aws_iam_role.<name> in the module")
	}
	rb := m.mod.blocks["resource.aws_iam_role."+role]
	if rb == nil {
		return nil, nil, fmt.Errorf("aws_iam_role.%s not found", role)
	}
	if _, ok := rb.Body.Attributes["managed_policy_arns"]; ok {
		return nil, nil, fmt.Errorf("aws_iam_role.%s: managed_policy_arns is not evaluated; use aws_iam_role_policy", role)
	}
	for _, nb := range rb.Body.Blocks {
		if nb.Type == "inline_policy" {
			return nil, nil, fmt.Errorf("aws_iam_role.%s: inline_policy blocks are not evaluated; use aws_iam_role_policy", role)
		}
	}
	var policies [][]statement
	var notCovered []string
	for _, b := range m.mod.blocksOf("resource", "") {
		roleAttr := b.Body.Attributes["role"]
		if roleAttr == nil || !refersTo(roleAttr.Expr, "aws_iam_role", role) {
			continue
		}
		where := b.Labels[0] + "." + b.Labels[1]
		if b.Body.Attributes["count"] != nil || b.Body.Attributes["for_each"] != nil {
			return nil, nil, fmt.Errorf("%s: count and for_each on the role's policies are not evaluated by this check", where)
		}
		switch b.Labels[0] {
		case "aws_iam_role_policy":
			stmts, err := policyStatements(m, b.Body.Attributes["policy"], where)
			if err != nil {
				return nil, nil, err
			}
			policies = append(policies, stmts)
		case "aws_iam_role_policy_attachment":
			v, diags := b.Body.Attributes["policy_arn"].Expr.Value(m.ctx)
			if diags.HasErrors() || !v.IsWhollyKnown() {
				return nil, nil, fmt.Errorf("%s: policy_arn cannot be evaluated: attach only policies the contract lists under not_covered", where)
			}
			covered := false
			for k, why := range c.NotCovered {
				if e, err := c.expand(k); err == nil && e == v.AsString() {
					covered = true
					notCovered = append(notCovered, fmt.Sprintf("%s (%s)", v.AsString(), why))
				}
			}
			if !covered {
				return nil, nil, fmt.Errorf("%s: %s is attached but neither evaluated nor listed in the contract's not_covered", where, v.AsString())
			}
		case "aws_iam_instance_profile":
		default:
			return nil, nil, fmt.Errorf("%s refers to the instance role and is not understood by this check", where)
		}
	}
	if len(policies) == 0 {
		return nil, nil, fmt.Errorf("aws_iam_role.%s has no aws_iam_role_policy", role)
	}
	sort.Strings(notCovered)
	return policies, notCovered, nil
}

// policyStatements reads an aws_iam_role_policy's policy: a reference to an
// aws_iam_policy_document data source, or an expression giving the JSON (jsonencode).
func policyStatements(m *evaluated, a *hclsyntax.Attribute, where string) (stmts []statement, err error) {
	if a == nil {
		return nil, fmt.Errorf("%s: no policy", where)
	}
	if t, ok := a.Expr.(*hclsyntax.ScopeTraversalExpr); ok && t.Traversal.RootName() == "data" {
		var names []string
		for _, step := range t.Traversal[1:] {
			if s, ok := step.(hcl.TraverseAttr); ok {
				names = append(names, s.Name)
			}
		}
		if len(names) != 3 || names[0] != "aws_iam_policy_document" || names[2] != "json" {
			return nil, fmt.Errorf("%s: policy must be data.aws_iam_policy_document.<name>.json or jsonencode(...)", where)
		}
		b := m.mod.blocks["data.aws_iam_policy_document."+names[1]]
		if b == nil {
			return nil, fmt.Errorf("%s: data.aws_iam_policy_document.%s not found", where, names[1])
		}
		if stmts, err = identityDocument(m, b); err != nil {
			return nil, err
		}
	} else {
		v, diags := a.Expr.Value(m.ctx)
		if diags.HasErrors() {
			return nil, fmt.Errorf("%s: policy: %s", where, diags.Error())
		}
		if !v.IsWhollyKnown() || !v.Type().Equals(cty.String) {
			return nil, fmt.Errorf("%s: policy depends on values the contract does not define", where)
		}
		if stmts, err = parsePolicyJSON(v.AsString(), where); err != nil {
			return nil, err
		}
	}
	for _, st := range stmts {
		if err := st.validate(); err != nil {
			return nil, err
		}
	}
	return stmts, nil
}

// identityDocument evaluates an identity policy document written out statement by statement,
// so that each finding names a statement of the source: no dynamic blocks, no principals.
func identityDocument(m *evaluated, b *hclsyntax.Block) ([]statement, error) {
	doc := "data.aws_iam_policy_document." + b.Labels[1]
	for _, sb := range b.Body.Blocks {
		if sb.Type != "statement" {
			return nil, fmt.Errorf("%s: %s blocks are not evaluated by this check", doc, sb.Type)
		}
		for _, cb := range sb.Body.Blocks {
			if cb.Type != "condition" {
				return nil, fmt.Errorf("%s: %s blocks are not evaluated by this check (an identity policy has no principals)", doc, cb.Type)
			}
		}
	}
	if _, ok := b.Body.Attributes["for_each"]; ok {
		return nil, fmt.Errorf("%s: attribute for_each is not evaluated by this check", doc)
	}
	return policyDocument(b, m.ctx, m.in.unknownWhy)
}

// parsePolicyJSON reads an IAM policy document in JSON.
func parsePolicyJSON(doc, where string) ([]statement, error) {
	var p struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return nil, fmt.Errorf("%s: policy JSON: %w", where, err)
	}
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal(p.Statement, &raw); err != nil {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(p.Statement, &one); err != nil {
			return nil, fmt.Errorf("%s: Statement must be an object or a list of objects", where)
		}
		raw = []map[string]json.RawMessage{one}
	}
	var out []statement
	for i, r := range raw {
		st := statement{Where: fmt.Sprintf("%s statement %d", where, i+1)}
		for k, v := range r {
			var err error
			switch k {
			case "Sid":
				err = json.Unmarshal(v, &st.Sid)
				st.Where = fmt.Sprintf("%s statement %q", where, st.Sid)
			case "Effect":
				err = json.Unmarshal(v, &st.Effect)
			case "Action":
				st.Actions, err = stringOrList(v)
			case "NotAction":
				st.NotActions, err = stringOrList(v)
			case "Resource":
				st.Resources, err = stringOrList(v)
			case "NotResource":
				st.NotResources, err = stringOrList(v)
			case "Condition":
				var conds map[string]map[string]json.RawMessage
				if err = json.Unmarshal(v, &conds); err == nil {
					for op, keys := range conds {
						for key, vals := range keys {
							var values []string
							if values, err = stringOrList(vals); err != nil {
								break
							}
							st.Conditions = append(st.Conditions, condition{Operator: op, Key: key, Values: values})
						}
					}
				}
			default:
				err = fmt.Errorf("%s is not evaluated by this check", k)
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", st.Where, k, err)
			}
		}
		if st.Effect != "Allow" && st.Effect != "Deny" {
			return nil, fmt.Errorf("%s: Effect must be Allow or Deny", st.Where)
		}
		sort.Slice(st.Conditions, func(i, j int) bool {
			return st.Conditions[i].Operator+st.Conditions[i].Key < st.Conditions[j].Operator+st.Conditions[j].Key
		})
		out = append(out, st)
	}
	return out, nil
}

// stringOrList decodes an IAM "string or list of strings" value (booleans and numbers, as
// JSON allows them in conditions, become their text).
func stringOrList(raw json.RawMessage) ([]string, error) {
	var one any
	if err := json.Unmarshal(raw, &one); err != nil {
		return nil, err
	}
	list, ok := one.([]any)
	if !ok {
		list = []any{one}
	}
	var out []string
	for _, e := range list {
		switch e := e.(type) {
		case string:
			out = append(out, e)
		case bool, float64:
			out = append(out, fmt.Sprint(e))
		default:
			return nil, fmt.Errorf("not a string or a list of strings")
		}
	}
	return out, nil
}
