package main

// tfpolicy iampolicy MODULE_DIR CONTRACT
//
// Prints the instance role's inline policies as one IAM policy document (JSON), evaluated from
// the module's HCL with the contract's sample values exactly as `tfpolicy iamcontract` evaluates
// them. deploy/aws/instance-policy.json is this output, committed so that internal/blob/s3 can
// run the S3 store under the policy Terraform writes (on versitygw's IAM-enforcing gateway)
// without building this module; scripts/infra-check.sh iampolicy proves the file is fresh.
//
// Statements, actions and resources keep the module's order and spelling (the AWS provider may
// order a statement's action and resource sets differently, which IAM ignores); like the
// provider's aws_iam_policy_document, a list of one becomes a plain string. The role's inline
// policies are concatenated: IAM allows what any of a principal's policies allows, so the union
// means the same. Attached managed policies (the contract's not_covered) are not part of it.

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// policyStatementJSON is one statement in IAM's JSON grammar, fields in the order the AWS
// provider renders them.
type policyStatementJSON struct {
	Sid         string                    `json:"Sid,omitempty"`
	Effect      string                    `json:"Effect"`
	Action      any                       `json:"Action,omitempty"`
	NotAction   any                       `json:"NotAction,omitempty"`
	Resource    any                       `json:"Resource,omitempty"`
	NotResource any                       `json:"NotResource,omitempty"`
	Condition   map[string]map[string]any `json:"Condition,omitempty"`
}

// runIAMPolicy is the iampolicy subcommand; it returns the exit status.
func runIAMPolicy(dir, contractPath string) int {
	doc, err := renderIAMPolicy(dir, contractPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tfpolicy iampolicy:", err)
		return 2
	}
	os.Stdout.Write(doc)
	return 0
}

// renderIAMPolicy returns the role's policy document, indented, with a final newline.
func renderIAMPolicy(dir, contractPath string) ([]byte, error) {
	c, err := loadContract(contractPath)
	if err != nil {
		return nil, err
	}
	m, err := loadModule(dir, c)
	if err != nil {
		return nil, err
	}
	policies, _, err := instanceRolePolicies(m, c)
	if err != nil {
		return nil, err
	}
	var stmts []statement
	for _, p := range policies {
		stmts = append(stmts, p...)
	}
	b, err := policyJSON(stmts, "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// statementJSON converts an evaluated statement back to IAM's JSON grammar.
func statementJSON(st statement) policyStatementJSON {
	out := policyStatementJSON{
		Sid:         st.Sid,
		Effect:      st.Effect,
		Action:      stringOrListJSON(st.Actions),
		NotAction:   stringOrListJSON(st.NotActions),
		Resource:    stringOrListJSON(st.Resources),
		NotResource: stringOrListJSON(st.NotResources),
	}
	for _, c := range st.Conditions {
		if out.Condition == nil {
			out.Condition = map[string]map[string]any{}
		}
		if out.Condition[c.Operator] == nil {
			out.Condition[c.Operator] = map[string]any{}
		}
		out.Condition[c.Operator][c.Key] = stringOrListJSON(c.Values)
	}
	return out
}

// stringOrListJSON is nil for no values, the string for one, the list otherwise.
func stringOrListJSON(v []string) any {
	switch len(v) {
	case 0:
		return nil
	case 1:
		return v[0]
	}
	return v
}

// ---------------------------------------------------------------------------------------------
// Policy documents between HCL, statements and JSON, for every check that reads IAM policies
// (iamcontract, ciroles, and evaluate for a document's json attribute).

// policyJSON renders statements as an IAM policy document, as aws_iam_policy_document's json
// attribute does (principals are not rendered: no check reads them).
func policyJSON(stmts []statement, indent string) ([]byte, error) {
	doc := struct {
		Version   string
		Statement []policyStatementJSON
	}{Version: "2012-10-17"}
	for _, st := range stmts {
		doc.Statement = append(doc.Statement, statementJSON(st))
	}
	return json.MarshalIndent(doc, "", indent)
}

// policyDocument evaluates a data "aws_iam_policy_document" block in ctx: its statement
// blocks and dynamic "statement" blocks. Every value must be known; unknownWhy ends the error
// when one is not. Principals are skipped (identity policies have none; trust policies are
// read for their conditions only).
func policyDocument(b *hclsyntax.Block, ctx *hcl.EvalContext, unknownWhy string) ([]statement, error) {
	doc := "data.aws_iam_policy_document." + b.Labels[1]
	for name := range b.Body.Attributes {
		if name != "version" && name != "policy_id" && name != "for_each" {
			return nil, fmt.Errorf("%s: attribute %s is not evaluated by this check", doc, name)
		}
	}
	var out []statement
	for _, sb := range b.Body.Blocks {
		switch {
		case sb.Type == "statement":
			st, err := policyStatement(sb.Body, ctx, doc, len(out)+1, unknownWhy)
			if err != nil {
				return nil, err
			}
			out = append(out, st)
		case sb.Type == "dynamic" && len(sb.Labels) == 1 && sb.Labels[0] == "statement":
			fe := sb.Body.Attributes["for_each"]
			if fe == nil {
				return nil, fmt.Errorf("%s: dynamic statement without for_each", doc)
			}
			coll, diags := fe.Expr.Value(ctx)
			if diags.HasErrors() {
				return nil, fmt.Errorf("%s: dynamic statement for_each: %s", doc, diags.Error())
			}
			if !coll.IsWhollyKnown() || coll.IsNull() || !coll.CanIterateElements() {
				return nil, fmt.Errorf("%s: dynamic statement for_each is not known", doc)
			}
			for it := coll.ElementIterator(); it.Next(); {
				k, v := it.Element()
				c := ctx.NewChild()
				c.Variables = map[string]cty.Value{"statement": cty.ObjectVal(map[string]cty.Value{"key": k, "value": v})}
				for _, cb := range sb.Body.Blocks {
					if cb.Type != "content" {
						continue
					}
					st, err := policyStatement(cb.Body, c, doc, len(out)+1, unknownWhy)
					if err != nil {
						return nil, err
					}
					out = append(out, st)
				}
			}
		default:
			return nil, fmt.Errorf("%s: %s blocks are not evaluated by this check", doc, sb.Type)
		}
	}
	return out, nil
}

// policyStatement evaluates the body of statement n of doc (a statement block or a dynamic
// statement's content).
func policyStatement(body *hclsyntax.Body, ctx *hcl.EvalContext, doc string, n int, unknownWhy string) (statement, error) {
	st := statement{Effect: "Allow", Where: fmt.Sprintf("%s statement %d", doc, n)}
	if a := body.Attributes["sid"]; a != nil {
		if v, diags := a.Expr.Value(ctx); !diags.HasErrors() && v.IsKnown() && !v.IsNull() && v.Type() == cty.String {
			st.Sid = v.AsString()
			st.Where = fmt.Sprintf("%s statement %q", doc, st.Sid)
		}
	}
	for name, a := range body.Attributes {
		var err error
		switch name {
		case "sid":
		case "effect":
			var e []string
			e, err = evalStrings(a, ctx, st.Where, unknownWhy)
			if err == nil && (len(e) != 1 || (e[0] != "Allow" && e[0] != "Deny")) {
				err = fmt.Errorf("%s: effect must be Allow or Deny", st.Where)
			}
			if err == nil {
				st.Effect = e[0]
			}
		case "actions":
			st.Actions, err = evalStrings(a, ctx, st.Where, unknownWhy)
		case "not_actions":
			st.NotActions, err = evalStrings(a, ctx, st.Where, unknownWhy)
		case "resources":
			st.Resources, err = evalStrings(a, ctx, st.Where, unknownWhy)
		case "not_resources":
			st.NotResources, err = evalStrings(a, ctx, st.Where, unknownWhy)
		default:
			err = fmt.Errorf("%s: attribute %s is not evaluated by this check", st.Where, name)
		}
		if err != nil {
			return statement{}, err
		}
	}
	for _, cb := range body.Blocks {
		switch cb.Type {
		case "principals", "not_principals":
			continue
		case "condition":
		default:
			return statement{}, fmt.Errorf("%s: %s blocks are not evaluated by this check", st.Where, cb.Type)
		}
		var parts [3][]string // test, variable, values
		for i, name := range []string{"test", "variable", "values"} {
			a := cb.Body.Attributes[name]
			if a == nil {
				return statement{}, fmt.Errorf("%s: condition without %s", st.Where, name)
			}
			vals, err := evalStrings(a, ctx, st.Where, unknownWhy)
			if err != nil {
				return statement{}, err
			}
			parts[i] = vals
		}
		if len(parts[0]) != 1 || len(parts[1]) != 1 {
			return statement{}, fmt.Errorf("%s: condition test and variable must be single strings", st.Where)
		}
		st.Conditions = append(st.Conditions, condition{Operator: parts[0][0], Key: parts[1][0], Values: parts[2]})
	}
	return st, nil
}

// evalStrings evaluates a, which must be wholly known: a string or a list/set/tuple of strings.
func evalStrings(a *hclsyntax.Attribute, ctx *hcl.EvalContext, where, unknownWhy string) ([]string, error) {
	v, diags := a.Expr.Value(ctx)
	if diags.HasErrors() {
		return nil, fmt.Errorf("%s: %s: %s", where, a.Name, diags.Error())
	}
	if !v.IsWhollyKnown() {
		return nil, fmt.Errorf("%s: %s depends on values %s", where, a.Name, unknownWhy)
	}
	if v.IsNull() {
		return nil, fmt.Errorf("%s: %s is null", where, a.Name)
	}
	if v.Type().Equals(cty.String) {
		return []string{v.AsString()}, nil
	}
	if !v.CanIterateElements() {
		return nil, fmt.Errorf("%s: %s is not a string or a list of strings", where, a.Name)
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() || !e.Type().Equals(cty.String) {
			return nil, fmt.Errorf("%s: %s has a non-string element", where, a.Name)
		}
		out = append(out, e.AsString())
	}
	return out, nil
}
