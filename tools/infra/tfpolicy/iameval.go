package main

// A small IAM evaluator for identity policies: what AWS decides for one request given the
// statements of the caller's policies (no resource policies, permission boundaries or SCPs).
// It follows the IAM policy evaluation logic: an explicit Deny wins, otherwise any Allow
// allows, otherwise the request is implicitly denied.

import (
	"fmt"
	"slices"
	"strings"
)

// statement is one IAM policy statement.
type statement struct {
	Where                   string // for messages: which policy, which statement
	Sid                     string
	Effect                  string // Allow or Deny
	Actions, NotActions     []string
	Resources, NotResources []string
	Conditions              []condition // all must match
}

// condition is one operator/key pair of a Condition block: any value may match.
type condition struct {
	Operator string // e.g. StringEquals, ForAnyValue:StringLike, ArnLikeIfExists, Null
	Key      string
	Values   []string
}

// baseOperators are the condition operators this evaluator knows (without the ForAnyValue: /
// ForAllValues: prefix and the IfExists suffix). Anything else is refused, not guessed.
var baseOperators = map[string]bool{
	"StringEquals": true, "StringNotEquals": true,
	"StringEqualsIgnoreCase": true, "StringNotEqualsIgnoreCase": true,
	"StringLike": true, "StringNotLike": true,
	"ArnEquals": true, "ArnNotEquals": true, "ArnLike": true, "ArnNotLike": true,
	"Bool": true, "Null": true,
}

// splitOperator returns the set qualifier ("", "ForAnyValue", "ForAllValues"), the base
// operator and whether IfExists was given.
func splitOperator(op string) (set, base string, ifExists bool) {
	if q, rest, ok := strings.Cut(op, ":"); ok {
		set, op = q, rest
	}
	base, ifExists = strings.CutSuffix(op, "IfExists")
	return set, base, ifExists
}

// negated reports whether base is a "Not" operator, which matches when the key is absent.
func negated(base string) bool { return strings.Contains(base, "Not") }

func (s statement) validate() error {
	if (len(s.Actions) == 0) == (len(s.NotActions) == 0) {
		return fmt.Errorf("%s: exactly one of actions and not_actions must be given", s.Where)
	}
	if (len(s.Resources) == 0) == (len(s.NotResources) == 0) {
		return fmt.Errorf("%s: exactly one of resources and not_resources must be given", s.Where)
	}
	for _, r := range slices.Concat(s.Resources, s.NotResources) {
		if strings.Contains(r, "${") {
			return fmt.Errorf("%s: resource %s uses a policy variable, which this check does not evaluate", s.Where, r)
		}
	}
	for _, c := range s.Conditions {
		set, base, ifExists := splitOperator(c.Operator)
		if !baseOperators[base] || (set != "" && set != "ForAnyValue" && set != "ForAllValues") || (base == "Null" && (set != "" || ifExists)) {
			return fmt.Errorf("%s: condition operator %s is not supported by this check", s.Where, c.Operator)
		}
		if len(c.Values) == 0 {
			return fmt.Errorf("%s: condition %s %s has no values", s.Where, c.Operator, c.Key)
		}
		for _, v := range c.Values {
			if strings.Contains(v, "${") {
				return fmt.Errorf("%s: condition value %s uses a policy variable, which this check does not evaluate", s.Where, v)
			}
		}
	}
	return nil
}

// allowed reports whether stmts allow call.
func allowed(stmts []statement, call contractCall) bool {
	allow := false
	for _, s := range stmts {
		if !s.applies(call) {
			continue
		}
		if s.Effect == "Deny" {
			return false
		}
		allow = true
	}
	return allow
}

// applies reports whether the statement covers the call's action, resource and context.
func (s statement) applies(call contractCall) bool {
	if !s.coversAction(call.Action) || !s.coversResource(call.Resource) {
		return false
	}
	ctx := make(map[string]string, len(call.Context))
	for k, v := range call.Context {
		ctx[strings.ToLower(k)] = v // condition key names are case-insensitive
	}
	for _, c := range s.Conditions {
		if !c.matches(ctx) {
			return false
		}
	}
	return true
}

// coversAction reports whether the statement's Action (or NotAction) covers action, whatever
// the resource and conditions.
func (s statement) coversAction(action string) bool {
	match := func(p string) bool { return globMatch(strings.ToLower(p), strings.ToLower(action)) }
	if len(s.Actions) > 0 && !slices.ContainsFunc(s.Actions, match) {
		return false
	}
	return len(s.NotActions) == 0 || !slices.ContainsFunc(s.NotActions, match)
}

// coversResource reports whether the statement's Resource (or NotResource) covers resource.
func (s statement) coversResource(resource string) bool {
	match := func(p string) bool { return arnMatch(p, resource) }
	if len(s.Resources) > 0 && !slices.ContainsFunc(s.Resources, match) {
		return false
	}
	return len(s.NotResources) == 0 || !slices.ContainsFunc(s.NotResources, match)
}

// deniedOutright reports whether a Deny statement without conditions covers action on
// resource: denied whatever the request's context.
func deniedOutright(stmts []statement, action, resource string) bool {
	return slices.ContainsFunc(stmts, func(s statement) bool {
		return s.Effect == "Deny" && len(s.Conditions) == 0 && s.coversAction(action) && s.coversResource(resource)
	})
}

// grantsAction reports whether some Allow statement covers action (on some resource).
func grantsAction(stmts []statement, action string) bool {
	return slices.ContainsFunc(stmts, func(s statement) bool { return s.Effect == "Allow" && s.coversAction(action) })
}

// matches evaluates the condition against the request context (keys lower-cased; one value
// per key).
func (c condition) matches(ctx map[string]string) bool {
	set, base, ifExists := splitOperator(c.Operator)
	value, present := ctx[strings.ToLower(c.Key)]
	if base == "Null" {
		// "true": the key must be absent; "false": present.
		return slices.ContainsFunc(c.Values, func(v string) bool { return strings.EqualFold(v, "true") != present })
	}
	if !present {
		// A key the request does not send matches nothing: a positive operator is false, a
		// negated one true. IfExists, and ForAllValues over an empty set, are true.
		return ifExists || set == "ForAllValues" || negated(base)
	}
	hit := slices.ContainsFunc(c.Values, func(p string) bool { return valueMatch(base, p, value) })
	if negated(base) {
		return !hit
	}
	return hit
}

// valueMatch compares one request value with one policy value under base (for a negated
// operator: its positive form).
func valueMatch(base, policy, value string) bool {
	switch strings.Replace(base, "Not", "", 1) {
	case "StringEquals":
		return policy == value
	case "StringEqualsIgnoreCase":
		return strings.EqualFold(policy, value)
	case "StringLike":
		return globMatch(policy, value)
	case "ArnEquals", "ArnLike":
		return arnMatch(policy, value)
	case "Bool":
		return strings.EqualFold(policy, value)
	}
	return false
}

// arnMatch matches an ARN against a pattern the way IAM does for Resource and ArnLike: each of
// the six colon-separated parts separately (the last, the resource, may contain colons), with
// * and ? wildcards, case-sensitively. "*" alone matches everything.
func arnMatch(pattern, arn string) bool {
	if pattern == "*" {
		return true
	}
	pp, ap := strings.SplitN(pattern, ":", 6), strings.SplitN(arn, ":", 6)
	if len(pp) != 6 || len(ap) != 6 {
		return globMatch(pattern, arn)
	}
	for i := range pp {
		if !globMatch(pp[i], ap[i]) {
			return false
		}
	}
	return true
}

// globMatch reports whether s matches pattern, where * matches any run of characters
// (including none) and ? exactly one.
func globMatch(pattern, s string) bool {
	// Iterative matcher with backtracking to the last star: linear in practice.
	p, i, star, mark := 0, 0, -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p, mark = star+1, mark+1
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// narrowing is a statement with one element removed.
type narrowing struct {
	what string
	stmt statement
}

// narrowings returns the statement with each of its actions, resources and (positive)
// condition values removed in turn, where a list has more than one: each must be needed.
// Removing a NotAction, NotResource or a value of a negated condition would widen the
// statement instead, so those are not tried.
func (s statement) narrowings() []narrowing {
	var out []narrowing
	without := func(list []string, i int) []string { return slices.Concat(list[:i], list[i+1:]) }
	if len(s.Actions) > 1 {
		for i, a := range s.Actions {
			v := s
			v.Actions = without(s.Actions, i)
			out = append(out, narrowing{"action " + a, v})
		}
	}
	if len(s.Resources) > 1 {
		for i, r := range s.Resources {
			v := s
			v.Resources = without(s.Resources, i)
			out = append(out, narrowing{"resource " + r, v})
		}
	}
	for ci, c := range s.Conditions {
		_, base, _ := splitOperator(c.Operator)
		if len(c.Values) < 2 || negated(base) || base == "Null" || base == "Bool" {
			continue
		}
		for i, val := range c.Values {
			v := s
			v.Conditions = slices.Clone(s.Conditions)
			v.Conditions[ci].Values = without(c.Values, i)
			out = append(out, narrowing{fmt.Sprintf("condition %s %s value %s", c.Operator, c.Key, val), v})
		}
	}
	return out
}
