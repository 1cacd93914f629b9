package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ciFixture writes a modules/github-oidc module made of header + body and runs the check.
func ciFixture(t *testing.T, body string) []string {
	t.Helper()
	dir := t.TempDir()
	mod := filepath.Join(dir, "modules", "github-oidc")
	if err := os.MkdirAll(mod, 0o755); err != nil {
		t.Fatal(err)
	}
	header := `
variable "environments" {
  default = ["dev", "prod"]
}
variable "state_bucket" {}
data "aws_iam_policy_document" "trust" {
  for_each = merge({ plan = ["repo:owner/repo:pull_request"] }, { for e in var.environments : "env-${e}" => ["repo:owner/repo:environment:${e}"] })
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    condition {
      test     = "StringLike"
      variable = "token.actions.githubusercontent.com:sub"
      values   = each.value
    }
  }
}
resource "aws_iam_role" "apply" {
  for_each           = toset(var.environments)
  name               = "weupload-github-apply-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.trust["env-${each.key}"].json
}
`
	if err := os.WriteFile(filepath.Join(mod, "main.tf"), []byte(header+body), 0o644); err != nil {
		t.Fatal(err)
	}
	findings, err := checkCIRoles(dir)
	if err != nil {
		t.Fatal(err)
	}
	return findings
}

// denyOthers is the statement every apply role needs while dev and prod share the account.
const denyOthers = `
data "aws_iam_policy_document" "deny" {
  for_each = toset(var.environments)
  dynamic "statement" {
    for_each = [for o in var.environments : o if o != each.key]
    content {
      effect    = "Deny"
      actions   = ["s3:*", "secretsmanager:*", "ssm:*", "logs:*"]
      resources = ["arn:aws:s3:::weupload-${statement.value}-*", "arn:aws:secretsmanager:*:*:secret:weupload-${statement.value}/*", "arn:aws:ssm:*:*:parameter/weupload-${statement.value}/*", "arn:aws:logs:*:*:log-group:/weupload-${statement.value}/*"]
    }
  }
}
resource "aws_iam_role_policy" "deny" {
  for_each = toset(var.environments)
  role     = aws_iam_role.apply[each.key].id
  policy   = data.aws_iam_policy_document.deny[each.key].json
}
`

// planRole is a PR-trusted plan role with the given statements.
func planRole(statements string) string {
	return `
resource "aws_iam_role" "plan" {
  name               = "weupload-github-plan"
  assume_role_policy = data.aws_iam_policy_document.trust["plan"].json
}
data "aws_iam_policy_document" "plan" {
` + statements + `
}
resource "aws_iam_role_policy" "plan" {
  role   = aws_iam_role.plan.id
  policy = data.aws_iam_policy_document.plan.json
}
`
}

const planGuards = `
  statement {
    effect        = "Deny"
    actions       = ["s3:GetObject"]
    not_resources = ["arn:aws:s3:::${var.state_bucket}/*"]
  }
  statement {
    effect    = "Deny"
    actions   = ["logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartQuery", "logs:GetQueryResults", "logs:GetLogRecord", "logs:Unmask"]
    resources = ["*"]
  }
  statement {
    effect    = "Deny"
    actions   = ["s3:PutObject", "s3:DeleteObject"]
    resources = ["arn:aws:s3:::${var.state_bucket}/*"]
  }
`

func TestCIRoles(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string // substrings, one per expected finding; none means clean
	}{
		{
			name: "scoped by name and tag",
			body: denyOthers + planRole(planGuards) + `
data "aws_iam_policy_document" "apply" {
  for_each = toset(var.environments)
  statement {
    actions   = ["s3:GetObject", "secretsmanager:DescribeSecret"]
    resources = ["arn:aws:s3:::weupload-${each.key}-files/*", "arn:aws:secretsmanager:*:*:secret:weupload-${each.key}/*"]
  }
  statement {
    actions   = ["kms:Decrypt"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Environment"
      values   = [each.key]
    }
  }
  statement {
    actions   = ["secretsmanager:GetSecretValue"]
    resources = ["arn:aws:secretsmanager:*:*:secret:rds!db-*"]
    condition {
      test     = "StringLike"
      variable = "secretsmanager:ResourceTag/aws:rds:primaryDBInstanceArn"
      values   = ["arn:aws:rds:*:123456789012:db:weupload-${each.key}"]
    }
  }
  statement {
    actions   = ["ec2:Describe*"]
    resources = ["*"]
  }
  statement {
    actions   = ["ssm:GetParameter"]
    resources = ["arn:aws:ssm:*::parameter/aws/service/ami"]
  }
}
resource "aws_iam_policy" "apply" {
  for_each = toset(var.environments)
  name     = "apply-${each.key}"
  path     = "/github/"
  policy   = data.aws_iam_policy_document.apply[each.key].json
}
resource "aws_iam_role_policy_attachment" "apply" {
  for_each   = toset(var.environments)
  role       = aws_iam_role.apply[each.key].name
  policy_arn = aws_iam_policy.apply[each.key].arn
}
`,
		},
		{
			name: "PowerUserAccess",
			body: denyOthers + `
resource "aws_iam_role_policy_attachment" "apply" {
  for_each   = toset(var.environments)
  role       = aws_iam_role.apply[each.key].name
  policy_arn = "arn:aws:iam::aws:policy/PowerUserAccess"
}
`,
			want: []string{"apply-dev (apply): AWS managed policy PowerUserAccess", "apply-prod (apply): AWS managed policy PowerUserAccess"},
		},
		{
			name: "secret of every environment (by name or by tag) and unconditioned writes",
			body: denyOthers + `
data "aws_iam_policy_document" "apply" {
  for_each = toset(var.environments)
  statement {
    actions   = ["secretsmanager:GetSecretValue"]
    resources = ["arn:aws:secretsmanager:*:*:secret:weupload-*"]
  }
  statement {
    actions   = ["secretsmanager:GetSecretValue"]
    resources = ["arn:aws:secretsmanager:*:*:secret:rds!db-*"]
    condition {
      test     = "StringLike"
      variable = "secretsmanager:ResourceTag/aws:rds:primaryDBInstanceArn"
      values   = ["arn:aws:rds:*:123456789012:db:weupload-*"]
    }
  }
  statement {
    actions   = ["ec2:CreateVpc"]
    resources = ["*"]
  }
}
resource "aws_iam_role_policy" "apply" {
  for_each = toset(var.environments)
  role     = aws_iam_role.apply[each.key].id
  policy   = data.aws_iam_policy_document.apply[each.key].json
}
`,
			want: []string{
				"apply-dev (apply): statement \"\" allows secretsmanager:GetSecretValue on arn:aws:secretsmanager:*:*:secret:weupload-*, not dev's",
				"apply-dev (apply): statement \"\" allows secretsmanager:GetSecretValue on arn:aws:secretsmanager:*:*:secret:rds!db-*, not dev's",
				"apply-dev (apply): statement \"\" allows ec2:CreateVpc on every resource",
				"apply-prod (apply): statement \"\" allows secretsmanager:GetSecretValue on arn:aws:secretsmanager:*:*:secret:weupload-*",
				"apply-prod (apply): statement \"\" allows secretsmanager:GetSecretValue on arn:aws:secretsmanager:*:*:secret:rds!db-*",
				"apply-prod (apply): statement \"\" allows ec2:CreateVpc on every resource",
			},
		},
		{
			name: "shared account without denies",
			body: ``,
			want: []string{
				"apply-dev (apply): does not explicitly deny logs:GetLogEvents", "apply-dev (apply): does not explicitly deny s3:DeleteBucket",
				"apply-dev (apply): does not explicitly deny s3:GetObject", "apply-dev (apply): does not explicitly deny secretsmanager:GetSecretValue",
				"apply-dev (apply): does not explicitly deny ssm:GetParameter",
				"apply-prod (apply): does not explicitly deny logs:GetLogEvents", "apply-prod (apply): does not explicitly deny s3:DeleteBucket",
				"apply-prod (apply): does not explicitly deny s3:GetObject", "apply-prod (apply): does not explicitly deny secretsmanager:GetSecretValue",
				"apply-prod (apply): does not explicitly deny ssm:GetParameter",
			},
		},
		{
			name: "PR plan role may delete locks and read logs",
			body: denyOthers + planRole(`
  statement {
    effect        = "Deny"
    actions       = ["s3:GetObject"]
    not_resources = ["arn:aws:s3:::${var.state_bucket}/*"]
  }
  statement {
    effect    = "Deny"
    actions   = ["logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartQuery", "logs:GetQueryResults", "logs:GetLogRecord"]
    resources = ["*"]
  }
  statement {
    actions   = ["s3:PutObject", "s3:DeleteObject"]
    resources = ["arn:aws:s3:::${var.state_bucket}/*.tflock"]
  }
`),
			want: []string{
				"github-plan (plan): runs pull-request code but does not deny logs:Unmask",
				"github-plan (plan): runs pull-request code but does not deny s3:DeleteObject on state lock files",
				"github-plan (plan): runs pull-request code but does not deny s3:PutObject on state lock files",
			},
		},
	}
	tests = append(tests, struct {
		name string
		body string
		want []string
	}{
		name: "roles created without the boundary",
		body: denyOthers + `
data "aws_iam_policy_document" "apply" {
  for_each = toset(var.environments)
  statement {
    actions   = ["iam:CreateRole", "iam:DeleteRolePermissionsBoundary"]
    resources = ["arn:aws:iam::*:role/weupload/weupload-${each.key}-*"]
  }
}
resource "aws_iam_role_policy" "apply" {
  for_each = toset(var.environments)
  role     = aws_iam_role.apply[each.key].id
  policy   = data.aws_iam_policy_document.apply[each.key].json
}
`,
		want: []string{
			"apply-dev (apply): statement \"\" allows iam:CreateRole without an iam:PermissionsBoundary condition",
			"apply-dev (apply): may iam:DeleteRolePermissionsBoundary",
			"apply-prod (apply): statement \"\" allows iam:CreateRole without",
			"apply-prod (apply): may iam:DeleteRolePermissionsBoundary",
		},
	})
	// 500 reads of 30 characters: over the 10,240 characters of a role's inline policies.
	many := strings.TrimSuffix(strings.Repeat(`"ec2:DescribeSomethingLongEnough",`, 500), ",")
	tests = append(tests, struct {
		name string
		body string
		want []string
	}{
		name: "inline policies over the IAM quota",
		body: denyOthers + `
data "aws_iam_policy_document" "big" {
  statement {
    actions   = [` + many + `]
    resources = ["*"]
  }
}
resource "aws_iam_role_policy" "big" {
  for_each = toset(var.environments)
  role     = aws_iam_role.apply[each.key].id
  policy   = data.aws_iam_policy_document.big.json
}
`,
		want: []string{"apply-dev (apply): inline policies have", "apply-prod (apply): inline policies have"},
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ciFixture(t, tt.body)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d findings, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("finding %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}

func TestCIOwned(t *testing.T) {
	tests := []struct {
		arn  string
		want bool
	}{
		{"arn:aws:s3:::weupload-dev-files/*", true},
		{"arn:aws:s3:::weupload-dev*", false},
		{"arn:aws:s3:::weupload-devx-files", false},
		{"arn:aws:s3:::weupload-*", false},
		{"arn:aws:ssm:*:1:parameter/weupload-dev/app/env", true},
		{"arn:aws:ssm:*:1:parameter/*/weupload-dev/x", false},
		{"arn:aws:logs:*:1:log-group:aws-waf-logs-weupload-dev", true},
		{"arn:aws:s3:::" + ciStateBucket + "/weupload/dev/terraform.tfstate", true},
		{"arn:aws:s3:::" + ciStateBucket + "/weupload/prod/terraform.tfstate", false},
		{"*", false},
	}
	for _, tt := range tests {
		if got := ciOwned(tt.arn, "dev", "weupload"); got != tt.want {
			t.Errorf("ciOwned(%q) = %v, want %v", tt.arn, got, tt.want)
		}
	}
}
