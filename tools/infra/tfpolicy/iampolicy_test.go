package main

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestIAMPolicyRoundTrip checks that the rendered document says what the evaluator read from
// the module: parsed back, every statement equals the evaluated one, so tests run under
// deploy/aws/instance-policy.json run under the policy iamcontract proves.
func TestIAMPolicyRoundTrip(t *testing.T) {
	const dir, contractPath = "../../../terraform/modules/compute", "../../../deploy/aws/iam-contract.json"
	doc, err := renderIAMPolicy(dir, contractPath)
	if err != nil {
		t.Fatal(err)
	}
	got, err := parsePolicyJSON(string(doc), "rendered")
	if err != nil {
		t.Fatal(err)
	}
	c, err := loadContract(contractPath)
	if err != nil {
		t.Fatal(err)
	}
	m, err := loadModule(dir, c)
	if err != nil {
		t.Fatal(err)
	}
	policies, _, err := instanceRolePolicies(m, c)
	if err != nil {
		t.Fatal(err)
	}
	var want []statement
	for _, p := range policies {
		want = append(want, p...)
	}
	if len(got) != len(want) {
		t.Fatalf("%d statements rendered, %d evaluated", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		g.Where, w.Where = "", ""
		// JSON keeps conditions in a map: compare them in the order parsePolicyJSON sorts them.
		w.Conditions = slices.Clone(w.Conditions)
		slices.SortFunc(w.Conditions, func(a, b condition) int { return strings.Compare(a.Operator+a.Key, b.Operator+b.Key) })
		if !reflect.DeepEqual(g, w) {
			t.Errorf("statement %d:\nrendered  %+v\nevaluated %+v", i+1, g, w)
		}
	}
}
