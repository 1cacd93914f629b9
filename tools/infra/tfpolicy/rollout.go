package main

// tfpolicy rollout DIR: ordering and health rules of the release path, checked on every root
// module under DIR (a directory with .tf files outside any "modules" directory) with its local
// module calls expanded, the way Terraform builds its graph:
//
//   - alb-access-logs: an aws_lb with an enabled access_logs block is ordered after an
//     aws_s3_bucket_policy that grants ELB log delivery (the regional ELB account or the
//     logdelivery.elasticloadbalancing.amazonaws.com principal); ELB writes a test object when
//     access logs are switched on and refuses the setting if the policy is not there yet.
//   - trail-bucket-policy: likewise an aws_cloudtrail after a bucket policy granting
//     cloudtrail.amazonaws.com (CloudTrail checks the policy when the trail is created).
//   - asg-capacity: an aws_autoscaling_group waits for capacity (wait_for_capacity_timeout is
//     not "0"), and when it has a launch lifecycle hook, an IAM policy granting
//     autoscaling:CompleteLifecycleAction is ordered before it (else the first instances
//     cannot complete their hook while the apply waits for them).
//   - cycle: no resource depends on itself (Terraform refuses to plan a cycle, and only plan,
//     which cannot run offline, would say so; e.g. the lifecycle permission naming the group's
//     ARN while the group depends on the permission).
//   - asg-health: an aws_autoscaling_group with target groups uses health_check_type "ELB"
//     (evaluated with a non-empty target group list), has an instance_refresh with
//     auto_rollback = true; every aws_lb_target_group checks /readyz.
//
// "Ordered after" means reachable through references or depends_on: from a resource to what
// its arguments name, from var.X to the module call's argument X, from module.M.OUT to the
// output's value and depends_on, from local.X to its expression. That is the dependency
// relation Terraform orders creation by.

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

const (
	elbLogDeliveryPrincipal = "logdelivery.elasticloadbalancing.amazonaws.com"
	cloudTrailPrincipal     = "cloudtrail.amazonaws.com"
	completeLifecycleAction = "autoscaling:CompleteLifecycleAction"
	readinessPath           = "/readyz"
)

type node struct {
	in  *instance
	key string // block address or local.N
}

func checkRollout(root string) ([]string, error) {
	tops, err := moduleTrees(root)
	if err != nil {
		return nil, err
	}
	var findings []string
	for _, top := range tops {
		findings = append(findings, rolloutRules(top)...)
	}
	return dedupe(findings), nil
}

// deps lists the nodes n refers to directly.
func deps(n node) []node {
	in, m := n.in, n.in.mod
	var travs []hcl.Traversal
	switch {
	case strings.HasPrefix(n.key, "local."):
		if a := m.locals[strings.TrimPrefix(n.key, "local.")]; a != nil {
			travs = a.Expr.Variables()
		}
	case strings.HasPrefix(n.key, "variable."):
		if in.call == nil {
			return nil
		}
		var out []node
		if a := in.call.Body.Attributes[strings.TrimPrefix(n.key, "variable.")]; a != nil {
			out = resolve(in.parent, a.Expr.Variables())
		}
		return out
	default:
		b := m.blocks[n.key]
		if b == nil {
			return nil
		}
		travs = bodyTraversals(b.Body)
		// A module call's depends_on orders everything inside the module.
		if in.call != nil && (b.Type == "resource" || b.Type == "data") {
			if a := in.call.Body.Attributes["depends_on"]; a != nil {
				return append(resolve(in, travs), resolve(in.parent, a.Expr.Variables())...)
			}
		}
	}
	return resolve(in, travs)
}

func bodyTraversals(body *hclsyntax.Body) []hcl.Traversal {
	var out []hcl.Traversal
	for _, a := range body.Attributes {
		out = append(out, a.Expr.Variables()...)
	}
	for _, b := range body.Blocks {
		out = append(out, bodyTraversals(b.Body)...)
	}
	return out
}

// resolve maps references made inside in to the nodes they name.
func resolve(in *instance, travs []hcl.Traversal) []node {
	var out []node
	for _, t := range travs {
		parts := traversalNames(t)
		if len(parts) < 2 {
			continue
		}
		switch parts[0] {
		case "var":
			out = append(out, node{in, "variable." + parts[1]})
		case "local":
			out = append(out, node{in, "local." + parts[1]})
		case "module":
			child := in.children[parts[1]]
			if child == nil {
				continue
			}
			if len(parts) >= 3 {
				out = append(out, node{child, "output." + parts[2]})
				continue
			}
			for key := range child.mod.blocks {
				if strings.HasPrefix(key, "output.") {
					out = append(out, node{child, key})
				}
			}
		case "data":
			if len(parts) >= 3 {
				out = append(out, node{in, "data." + parts[1] + "." + parts[2]})
			}
		default:
			key := "resource." + parts[0] + "." + parts[1]
			if in.mod.blocks[key] != nil {
				out = append(out, node{in, key})
			}
		}
	}
	return out
}

// traversalNames returns the leading names of a traversal (root and attribute steps, skipping
// index steps): aws_s3_bucket_policy.logs[0].bucket gives [aws_s3_bucket_policy logs bucket].
func traversalNames(t hcl.Traversal) []string {
	var out []string
	for _, step := range t {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			out = append(out, s.Name)
		case hcl.TraverseAttr:
			out = append(out, s.Name)
		}
	}
	return out
}

// reach returns every node n depends on, directly or not.
func reach(n node) map[node]bool {
	seen := map[node]bool{}
	queue := deps(n)
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		if seen[d] {
			continue
		}
		seen[d] = true
		queue = append(queue, deps(d)...)
	}
	return seen
}

// grants reports whether a policy resource p grants what want names: a policy document it
// reaches contains the string literal want, or (extra) a data source of type extraData.
func grants(p node, want, extraData string) bool {
	for d := range reach(p) {
		b := d.in.mod.blocks[d.key]
		if b == nil || b.Type != "data" {
			continue
		}
		if extraData != "" && b.Labels[0] == extraData {
			return true
		}
		if b.Labels[0] == "aws_iam_policy_document" && hasLiteral(b.Body, want) {
			return true
		}
	}
	return false
}

func hasLiteral(body *hclsyntax.Body, want string) bool {
	found := false
	hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
		if lit, ok := n.(*hclsyntax.LiteralValueExpr); ok && lit.Val.Type() == cty.String && lit.Val.AsString() == want {
			found = true
		}
		return nil
	})
	return found
}

// orderedAfter reports whether n reaches a resource of type kind satisfying ok.
func orderedAfter(n node, kinds []string, ok func(node) bool) bool {
	for d := range reach(n) {
		b := d.in.mod.blocks[d.key]
		if b == nil || b.Type != "resource" {
			continue
		}
		for _, k := range kinds {
			if b.Labels[0] == k && ok(d) {
				return true
			}
		}
	}
	return false
}

func rolloutRules(top *instance) []string {
	var findings []string
	walkInstances(top, func(in *instance) {
		for _, key := range in.mod.order {
			b := in.mod.blocks[key]
			if b.Type != "resource" {
				continue
			}
			at := fmt.Sprintf("%s:%d %s", b.DefRange().Filename, b.DefRange().Start.Line, strings.TrimPrefix(key, "resource."))
			if in.name != "" {
				at += " (" + in.name + ")"
			}
			n := node{in, key}
			var msgs []string
			if reach(n)[n] {
				msgs = append(msgs, "cycle: depends on itself through its references and depends_on")
			}
			switch b.Labels[0] {
			case "aws_lb":
				msgs = append(msgs, checkALBLogs(n, b)...)
			case "aws_cloudtrail":
				isTrailPolicy := func(p node) bool { return grants(p, cloudTrailPrincipal, "") }
				if !orderedAfter(n, []string{"aws_s3_bucket_policy"}, isTrailPolicy) {
					msgs = append(msgs, "trail-bucket-policy: no bucket policy granting "+cloudTrailPrincipal+" is ordered before the trail")
				}
			case "aws_autoscaling_group":
				msgs = append(msgs, checkASG(n, b)...)
			case "aws_lb_target_group":
				msgs = append(msgs, checkTargetGroup(in, b)...)
			}
			for _, msg := range msgs {
				findings = append(findings, at+": "+msg)
			}
		}
	})
	return findings
}

func checkALBLogs(n node, b *hclsyntax.Block) []string {
	enabled := false
	for _, nb := range b.Body.Blocks {
		switch {
		case nb.Type == "access_logs" && !isFalse(n.in, nb.Body.Attributes["enabled"]):
			enabled = true
		case nb.Type == "dynamic" && len(nb.Labels) == 1 && nb.Labels[0] == "access_logs":
			enabled = true
		}
	}
	if !enabled {
		return nil
	}
	isELBPolicy := func(p node) bool { return grants(p, elbLogDeliveryPrincipal, "aws_elb_service_account") }
	if orderedAfter(n, []string{"aws_s3_bucket_policy"}, isELBPolicy) {
		return nil
	}
	return []string{"alb-access-logs: access logs are enabled but no bucket policy granting ELB log delivery is ordered before the load balancer (depend on it, directly or through a module output that references it)"}
}

// isFalse reports whether a evaluates to false (absent or unknown is not false).
func isFalse(in *instance, a *hclsyntax.Attribute) bool {
	if a == nil {
		return false
	}
	v := exprValue(in, a.Expr, nil)
	return v.IsWhollyKnown() && v.Type() == cty.Bool && v.False()
}

func checkASG(n node, b *hclsyntax.Block) []string {
	var out []string
	attrs := b.Body.Attributes
	if literal(attrs["wait_for_capacity_timeout"]) == "0" {
		out = append(out, `asg-capacity: wait_for_capacity_timeout = "0": the apply does not wait for instances in service`)
	}
	for _, nb := range b.Body.Blocks {
		if nb.Type != "initial_lifecycle_hook" || literal(nb.Body.Attributes["lifecycle_transition"]) != "autoscaling:EC2_INSTANCE_LAUNCHING" {
			continue
		}
		isHookPolicy := func(p node) bool { return grants(p, completeLifecycleAction, "") }
		if !orderedAfter(n, []string{"aws_iam_role_policy", "aws_iam_policy", "aws_iam_role_policy_attachment"}, isHookPolicy) {
			out = append(out, "asg-capacity: launch lifecycle hook, but no policy granting "+completeLifecycleAction+" is ordered before the group")
		}
		break
	}
	tg := attrs["target_group_arns"]
	if tg == nil {
		return out
	}
	// Evaluate health_check_type as if the group had a target group.
	overrides := map[string]cty.Value{}
	for _, t := range tg.Expr.Variables() {
		if parts := traversalNames(t); len(parts) == 2 && parts[0] == "var" {
			overrides[parts[1]] = cty.ListVal([]cty.Value{cty.StringVal("arn:aws:elasticloadbalancing:region:000000000000:targetgroup/t/0")})
		}
	}
	hct := evalString(n.in, attrs["health_check_type"], overrides)
	if hct != "ELB" {
		out = append(out, fmt.Sprintf("asg-health: with target groups health_check_type must be \"ELB\" (got %q): the group must see what the load balancer sees", hct))
	}
	rollback := false
	for _, nb := range b.Body.Blocks {
		if nb.Type != "instance_refresh" {
			continue
		}
		for _, pb := range nb.Body.Blocks {
			if a := pb.Body.Attributes["auto_rollback"]; pb.Type == "preferences" && a != nil {
				v := exprValue(n.in, a.Expr, nil)
				rollback = v.IsWhollyKnown() && v.Type() == cty.Bool && v.True()
			}
		}
	}
	if !rollback {
		out = append(out, "asg-health: instance_refresh must set preferences.auto_rollback = true")
	}
	return out
}

func checkTargetGroup(in *instance, b *hclsyntax.Block) []string {
	for _, nb := range b.Body.Blocks {
		if nb.Type != "health_check" {
			continue
		}
		if p := evalString(in, nb.Body.Attributes["path"], nil); p != readinessPath {
			return []string{fmt.Sprintf("asg-health: target group health check path is %q, must be %s (instances that cannot serve get no traffic and are replaced)", p, readinessPath)}
		}
		return nil
	}
	return []string{"asg-health: target group without a health_check block (must check " + readinessPath + ")"}
}

// evalString evaluates a in its module instance: var.X from overrides, else the caller's
// argument, else the variable's default; locals recursively. "" when unknown.
func evalString(in *instance, a *hclsyntax.Attribute, overrides map[string]cty.Value) string {
	if a == nil {
		return ""
	}
	v := exprValue(in, a.Expr, overrides)
	if !v.IsWhollyKnown() || v.IsNull() || v.Type() != cty.String {
		return ""
	}
	return v.AsString()
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
