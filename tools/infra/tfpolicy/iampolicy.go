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
	policies, _, err := m.instanceRolePolicies(c)
	if err != nil {
		return nil, err
	}
	var stmts []policyStatementJSON
	for _, p := range policies {
		for _, st := range p {
			stmts = append(stmts, statementJSON(st))
		}
	}
	b, err := json.MarshalIndent(struct {
		Version   string
		Statement []policyStatementJSON
	}{"2012-10-17", stmts}, "", "  ")
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
