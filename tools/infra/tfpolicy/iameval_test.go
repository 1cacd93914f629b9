package main

import "testing"

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"u/*", "u/", true},
		{"u/*", "u/a/b", true},
		{"u/*", "v/a", false},
		{"u/", "u/a", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"*b*b", "abxbb", true},
		{"*b*b", "abxba", false},
	}
	for _, tt := range tests {
		if got := globMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestEvaluate(t *testing.T) {
	const obj = "arn:aws:s3:::b/u/x"
	allow := func(actions []string, resources []string, conds ...condition) statement {
		return statement{Effect: "Allow", Actions: actions, Resources: resources, Conditions: conds}
	}
	call := func(action, resource string, ctx map[string]string) contractCall {
		return contractCall{Action: action, Resource: resource, Context: ctx}
	}
	list := func(ctx map[string]string) contractCall { return call("s3:ListBucket", "arn:aws:s3:::b", ctx) }
	tests := []struct {
		name  string
		stmts []statement
		call  contractCall
		want  bool
	}{
		{"nothing allows: implicit deny", nil, call("s3:GetObject", obj, nil), false},
		{"exact", []statement{allow([]string{"s3:GetObject"}, []string{obj})}, call("s3:GetObject", obj, nil), true},
		{"action wildcard, any case", []statement{allow([]string{"S3:get*"}, []string{obj})}, call("s3:GetObject", obj, nil), true},
		{"other action", []statement{allow([]string{"s3:GetObject"}, []string{obj})}, call("s3:PutObject", obj, nil), false},
		{"resource glob", []statement{allow([]string{"s3:GetObject"}, []string{"arn:aws:s3:::b/u/*"})}, call("s3:GetObject", obj, nil), true},
		{"resource outside the glob", []statement{allow([]string{"s3:GetObject"}, []string{"arn:aws:s3:::b/v/*"})}, call("s3:GetObject", obj, nil), false},
		{"resource is case-sensitive", []statement{allow([]string{"s3:GetObject"}, []string{"arn:aws:s3:::B/u/*"})}, call("s3:GetObject", obj, nil), false},
		{"object glob does not cover the bucket", []statement{allow([]string{"s3:ListBucket"}, []string{"arn:aws:s3:::b/*"})}, list(nil), false},
		{"wildcard within an ARN part", []statement{allow([]string{"autoscaling:CompleteLifecycleAction"}, []string{"arn:aws:autoscaling:eu-central-1:1:autoScalingGroup:*:autoScalingGroupName/app"})},
			call("autoscaling:CompleteLifecycleAction", "arn:aws:autoscaling:eu-central-1:1:autoScalingGroup:6d4f:autoScalingGroupName/app", nil), true},
		{"wildcard does not cross into another ARN part", []statement{allow([]string{"logs:PutLogEvents"}, []string{"arn:aws:logs:*:log-group:x:*"})},
			call("logs:PutLogEvents", "arn:aws:logs:eu-central-1:1:log-group:x:log-stream:i", nil), false},
		{"deny wins", []statement{
			allow([]string{"s3:*"}, []string{"*"}),
			{Effect: "Deny", Actions: []string{"s3:GetObject"}, Resources: []string{obj}},
		}, call("s3:GetObject", obj, nil), false},
		{"deny elsewhere", []statement{
			allow([]string{"s3:*"}, []string{"*"}),
			{Effect: "Deny", Actions: []string{"s3:DeleteObject"}, Resources: []string{obj}},
		}, call("s3:GetObject", obj, nil), true},
		{"not_actions", []statement{{Effect: "Allow", NotActions: []string{"iam:*"}, Resources: []string{"*"}}}, call("iam:PassRole", "*", nil), false},
		{"not_actions other", []statement{{Effect: "Allow", NotActions: []string{"iam:*"}, Resources: []string{"*"}}}, call("s3:GetObject", obj, nil), true},
		{"not_resources", []statement{{Effect: "Allow", Actions: []string{"s3:GetObject"}, NotResources: []string{"arn:aws:s3:::b/u/*"}}}, call("s3:GetObject", obj, nil), false},

		{"StringEquals sent", []statement{allow([]string{"s3:ListBucket"}, []string{"arn:aws:s3:::b"}, condition{"StringEquals", "s3:prefix", []string{"u/"}})}, list(map[string]string{"s3:prefix": "u/"}), true},
		{"StringEquals other value", []statement{allow([]string{"s3:ListBucket"}, []string{"arn:aws:s3:::b"}, condition{"StringEquals", "s3:prefix", []string{"u/"}})}, list(map[string]string{"s3:prefix": "u/x"}), false},
		{"StringEquals key not sent (HeadBucket)", []statement{allow([]string{"s3:ListBucket"}, []string{"arn:aws:s3:::b"}, condition{"StringEquals", "s3:prefix", []string{"u/"}})}, list(nil), false},
		{"condition key name any case", []statement{allow([]string{"s3:ListBucket"}, []string{"arn:aws:s3:::b"}, condition{"StringEquals", "S3:Prefix", []string{"u/"}})}, list(map[string]string{"s3:prefix": "u/"}), true},
		{"StringLike", []statement{allow([]string{"s3:ListBucket"}, []string{"arn:aws:s3:::b"}, condition{"StringLike", "s3:prefix", []string{"v/", "u/*"}})}, list(map[string]string{"s3:prefix": "u/a"}), true},
		{"StringLike key not sent", []statement{allow([]string{"s3:ListBucket"}, []string{"arn:aws:s3:::b"}, condition{"StringLike", "s3:prefix", []string{"*"}})}, list(nil), false},
		{"StringEqualsIgnoreCase", []statement{allow([]string{"s3:ListBucket"}, []string{"arn:aws:s3:::b"}, condition{"StringEqualsIgnoreCase", "s3:prefix", []string{"U/"}})}, list(map[string]string{"s3:prefix": "u/"}), true},
		{"StringNotEquals key not sent", []statement{allow([]string{"s3:ListBucket"}, []string{"arn:aws:s3:::b"}, condition{"StringNotEquals", "s3:prefix", []string{"u/"}})}, list(nil), true},
		{"StringNotEquals equal", []statement{allow([]string{"s3:ListBucket"}, []string{"arn:aws:s3:::b"}, condition{"StringNotEquals", "s3:prefix", []string{"u/"}})}, list(map[string]string{"s3:prefix": "u/"}), false},
		{"StringNotLike other", []statement{allow([]string{"s3:ListBucket"}, []string{"arn:aws:s3:::b"}, condition{"StringNotLike", "s3:prefix", []string{"v/*"}})}, list(map[string]string{"s3:prefix": "u/"}), true},
		{"IfExists key not sent", []statement{allow([]string{"s3:ListBucket"}, []string{"arn:aws:s3:::b"}, condition{"StringEqualsIfExists", "s3:prefix", []string{"u/"}})}, list(nil), true},
		{"IfExists other value", []statement{allow([]string{"s3:ListBucket"}, []string{"arn:aws:s3:::b"}, condition{"StringEqualsIfExists", "s3:prefix", []string{"u/"}})}, list(map[string]string{"s3:prefix": "v/"}), false},
		{"ForAllValues key not sent", []statement{allow([]string{"s3:ListBucket"}, []string{"arn:aws:s3:::b"}, condition{"ForAllValues:StringEquals", "aws:TagKeys", []string{"a"}})}, list(nil), true},
		{"ForAnyValue key not sent", []statement{allow([]string{"s3:ListBucket"}, []string{"arn:aws:s3:::b"}, condition{"ForAnyValue:StringEquals", "aws:TagKeys", []string{"a"}})}, list(nil), false},
		{"Null true, key absent", []statement{allow([]string{"s3:ListBucket"}, []string{"arn:aws:s3:::b"}, condition{"Null", "s3:prefix", []string{"true"}})}, list(nil), true},
		{"Null true, key present", []statement{allow([]string{"s3:ListBucket"}, []string{"arn:aws:s3:::b"}, condition{"Null", "s3:prefix", []string{"true"}})}, list(map[string]string{"s3:prefix": "u/"}), false},
		{"Null false, key present", []statement{allow([]string{"s3:ListBucket"}, []string{"arn:aws:s3:::b"}, condition{"Null", "s3:prefix", []string{"false"}})}, list(map[string]string{"s3:prefix": "u/"}), true},
		{"ArnLike", []statement{allow([]string{"kms:Decrypt"}, []string{"*"}, condition{"ArnLike", "aws:SourceArn", []string{"arn:aws:s3:::b*"}})},
			call("kms:Decrypt", "arn:aws:kms:r:1:key/k", map[string]string{"aws:SourceArn": "arn:aws:s3:::bucket"}), true},
		{"ArnLike not sent", []statement{allow([]string{"kms:Decrypt"}, []string{"*"}, condition{"ArnLike", "aws:SourceArn", []string{"*"}})},
			call("kms:Decrypt", "arn:aws:kms:r:1:key/k", nil), false},
		{"Bool", []statement{allow([]string{"s3:GetObject"}, []string{"*"}, condition{"Bool", "aws:SecureTransport", []string{"true"}})},
			call("s3:GetObject", obj, map[string]string{"aws:SecureTransport": "TRUE"}), true},
		{"conditions AND", []statement{allow([]string{"kms:Decrypt"}, []string{"*"},
			condition{"StringEquals", "kms:ViaService", []string{"s3.r.amazonaws.com"}},
			condition{"StringEquals", "kms:CallerAccount", []string{"1"}})},
			call("kms:Decrypt", "arn:aws:kms:r:1:key/k", map[string]string{"kms:ViaService": "s3.r.amazonaws.com"}), false},
		{"condition values OR", []statement{allow([]string{"kms:Decrypt"}, []string{"*"},
			condition{"StringEquals", "kms:ViaService", []string{"secretsmanager.r.amazonaws.com", "s3.r.amazonaws.com"}})},
			call("kms:Decrypt", "arn:aws:kms:r:1:key/k", map[string]string{"kms:ViaService": "s3.r.amazonaws.com"}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, s := range tt.stmts {
				if err := s.validate(); err != nil {
					t.Fatal(err)
				}
			}
			if got := allowed(tt.stmts, tt.call); got != tt.want {
				t.Errorf("allowed = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestValidateRefuses(t *testing.T) {
	tests := []struct {
		name string
		s    statement
	}{
		{"no actions", statement{Effect: "Allow", Resources: []string{"*"}}},
		{"actions and not_actions", statement{Effect: "Allow", Actions: []string{"a:b"}, NotActions: []string{"a:c"}, Resources: []string{"*"}}},
		{"no resources", statement{Effect: "Allow", Actions: []string{"a:b"}}},
		{"unknown operator", statement{Effect: "Allow", Actions: []string{"a:b"}, Resources: []string{"*"}, Conditions: []condition{{"NumericLessThan", "s3:max-keys", []string{"10"}}}}},
		{"policy variable", statement{Effect: "Allow", Actions: []string{"a:b"}, Resources: []string{"arn:aws:s3:::b/${aws:username}/*"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.s.validate(); err == nil {
				t.Error("validate = nil, want an error")
			}
		})
	}
}
