package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testModule is a small instance-role module in the shape of modules/compute: a policy
// document, an inline jsonencode policy, a lifecycle statement on the group's ARN and a
// managed policy attachment.
const testModule = `
data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

variable "name" { type = string }
variable "bucket_arn" { type = string }
variable "unused" {
  type    = string
  default = null
}

locals {
  partition     = data.aws_partition.current.partition
  region        = data.aws_region.current.region
  object_prefix = "u/"
}

resource "aws_cloudwatch_log_group" "app" {
  name = "/${var.name}/app"
}

resource "aws_iam_role" "app" {
  name = "${var.name}-app"
  path = "/weupload/"
}

resource "aws_iam_instance_profile" "app" {
  name = "${var.name}-app"
  role = aws_iam_role.app.name
}

resource "aws_iam_role_policy_attachment" "ssm" {
  role       = aws_iam_role.app.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

data "aws_iam_policy_document" "app" {
  statement {
    sid       = "Objects"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${var.bucket_arn}/${local.object_prefix}*"]
  }
  statement {
    sid       = "List"
    actions   = ["s3:ListBucket"]
    resources = [var.bucket_arn]
    condition {
      test     = "StringEquals"
      variable = "s3:prefix"
      values   = [local.object_prefix]
    }
  }
  statement {
    sid       = "Logs"
    actions   = ["logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.app.arn}:*"]
  }
}

resource "aws_iam_role_policy" "app" {
  role   = aws_iam_role.app.id
  policy = data.aws_iam_policy_document.app.json
}

resource "aws_iam_role_policy" "metrics" {
  role = aws_iam_role.app.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "Metrics"
      Effect    = "Allow"
      Action    = "cloudwatch:PutMetricData"
      Resource  = "*"
      Condition = { StringEquals = { "cloudwatch:namespace" = "WeUpload/${var.name}" } }
    }]
  })
}

resource "aws_autoscaling_group" "app" {
  name = var.name
}

data "aws_iam_policy_document" "lifecycle" {
  statement {
    actions   = ["autoscaling:CompleteLifecycleAction"]
    resources = [aws_autoscaling_group.app.arn]
  }
}

resource "aws_iam_role_policy" "lifecycle" {
  role   = aws_iam_role.app.id
  policy = data.aws_iam_policy_document.lifecycle.json
}
`

const testContract = `{
  "comment": "test",
  "values": {"partition": "aws", "region": "eu-central-1", "account": "111122223333", "name": "t",
    "bucket": "tb", "secret_suffix": "AbCdEf", "asg_uuid": "6d4f1a2b", "instance_id": "i-1"},
  "inputs": {"name": "${name}", "bucket_arn": "arn:${partition}:s3:::${bucket}"},
  "data": {
    "aws_partition.current": {"partition": "${partition}"},
    "aws_region.current": {"region": "${region}"},
    "aws_caller_identity.current": {"account_id": "${account}"}
  },
  "not_covered": {"arn:${partition}:iam::aws:policy/AmazonSSMManagedInstanceCore": "managed"},
  "calls": [
    {"source": "app", "api": "s3:GetObject", "action": "s3:GetObject", "resource": "arn:${partition}:s3:::${bucket}/u/x"},
    {"source": "app", "api": "s3:PutObject", "action": "s3:PutObject", "resource": "arn:${partition}:s3:::${bucket}/u/x"},
    {"source": "app", "api": "s3:ListObjectsV2", "action": "s3:ListBucket", "resource": "arn:${partition}:s3:::${bucket}", "context": {"s3:prefix": "u/"}},
    {"source": "docker", "api": "logs:PutLogEvents", "action": "logs:PutLogEvents", "resource": "arn:${partition}:logs:${region}:${account}:log-group:/${name}/app:log-stream:${instance_id}"},
    {"source": "agent", "api": "cloudwatch:PutMetricData", "action": "cloudwatch:PutMetricData", "resource": "*", "context": {"cloudwatch:namespace": "WeUpload/${name}"}},
    {"source": "script", "api": "autoscaling:CompleteLifecycleAction", "action": "autoscaling:CompleteLifecycleAction",
     "resource": "arn:${partition}:autoscaling:${region}:${account}:autoScalingGroup:${asg_uuid}:autoScalingGroupName/${name}"}
  ]
}`

// runContract writes module (with each edit old => new applied) and contract to a temp dir
// and runs the check.
func runContract(t *testing.T, module, contract string, edits ...string) ([]string, error) {
	t.Helper()
	for i := 0; i+1 < len(edits); i += 2 {
		if !strings.Contains(module, edits[i]) {
			t.Fatalf("edit %q: not in the module", edits[i])
		}
		module = strings.Replace(module, edits[i], edits[i+1], 1)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(module), 0o644); err != nil {
		t.Fatal(err)
	}
	cpath := filepath.Join(dir, "contract.json")
	if err := os.WriteFile(cpath, []byte(contract), 0o644); err != nil {
		t.Fatal(err)
	}
	findings, _, err := checkIAMContract(dir, cpath)
	return findings, err
}

func TestIAMContractHolds(t *testing.T) {
	tests := []struct {
		name  string
		edits []string
	}{
		{"as written", nil},
		// The lifecycle statement may name the group by an ARN built from its name (no
		// dependency on the group resource): the group's id part is then a wildcard.
		{"lifecycle ARN built from the name", []string{
			"resources = [aws_autoscaling_group.app.arn]",
			`resources = ["arn:${local.partition}:autoscaling:${local.region}:${data.aws_caller_identity.current.account_id}:autoScalingGroup:*:autoScalingGroupName/${var.name}"]`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			findings, err := runContract(t, testModule, testContract, tt.edits...)
			if err != nil || len(findings) > 0 {
				t.Errorf("findings %q, error %v; want none", findings, err)
			}
		})
	}
}

// TestIAMContractCatchesNarrowing: any statement removed or narrowed denies a call.
func TestIAMContractCatchesNarrowing(t *testing.T) {
	tests := []struct {
		name  string
		edits []string
		want  string // in a finding
	}{
		{"s3:prefix condition added to the object statement", []string{
			`resources = ["${var.bucket_arn}/${local.object_prefix}*"]`,
			`resources = ["${var.bucket_arn}/${local.object_prefix}*"]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["u/*"]
    }`,
		}, "DENIED: app s3:GetObject"},
		{"object resource narrowed", []string{`"${var.bucket_arn}/${local.object_prefix}*"`, `"${var.bucket_arn}/${local.object_prefix}x/*"`}, "DENIED: app s3:GetObject"},
		{"action removed", []string{`["s3:GetObject", "s3:PutObject"]`, `["s3:GetObject"]`}, "DENIED: app s3:PutObject"},
		{"list prefix changed", []string{`values   = [local.object_prefix]`, `values   = ["v/"]`}, "DENIED: app s3:ListObjectsV2"},
		{"list condition key the request does not send", []string{`variable = "s3:prefix"`, `variable = "s3:delimiter"`}, "DENIED: app s3:ListObjectsV2"},
		{"log stream wildcard dropped", []string{`"${aws_cloudwatch_log_group.app.arn}:*"`, `aws_cloudwatch_log_group.app.arn`}, "DENIED: docker logs:PutLogEvents"},
		{"inline policy namespace changed", []string{`"WeUpload/${var.name}"`, `"Other/${var.name}"`}, "DENIED: agent cloudwatch:PutMetricData"},
		{"inline policy statement removed", []string{`Statement = [{`, `Statement = [{
      Effect = "Deny", Action = "cloudwatch:PutMetricData", Resource = "*"
      }, {`}, "DENIED: agent cloudwatch:PutMetricData"},
		{"explicit deny", []string{`data "aws_iam_policy_document" "lifecycle" {`, `data "aws_iam_policy_document" "lifecycle" {
  statement {
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = ["${var.bucket_arn}/*"]
  }`}, "DENIED: app s3:GetObject"},
		{"lifecycle on another group", []string{"resources = [aws_autoscaling_group.app.arn]", `resources = ["arn:aws:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/other"]`}, "DENIED: script autoscaling:CompleteLifecycleAction"},
		{"unused statement", []string{`data "aws_iam_policy_document" "app" {`, `data "aws_iam_policy_document" "app" {
  statement {
    sid       = "Extra"
    actions   = ["s3:DeleteObject"]
    resources = ["${var.bucket_arn}/*"]
  }`}, `statement "Extra": no contract call needs this statement`},
		{"unused action", []string{`["s3:GetObject", "s3:PutObject"]`, `["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]`}, "action s3:DeleteObject is not needed"},
		{"unused resource", []string{`resources = [var.bucket_arn]`, `resources = [var.bucket_arn, "arn:aws:s3:::other"]`}, "resource arn:aws:s3:::other is not needed"},
		{"unused condition value", []string{`values   = [local.object_prefix]`, `values   = [local.object_prefix, "v/"]`}, "value v/ is not needed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			findings, err := runContract(t, testModule, testContract, tt.edits...)
			if err != nil {
				t.Fatal(err)
			}
			joined := strings.Join(findings, "\n")
			if !strings.Contains(joined, tt.want) {
				t.Errorf("findings:\n%s\nwant one containing %q", joined, tt.want)
			}
		})
	}
}

// TestIAMContractRefusesWhatItCannotEvaluate: unknowns fail the check, never pass it.
func TestIAMContractRefusesWhatItCannotEvaluate(t *testing.T) {
	tests := []struct {
		name  string
		edits []string
		want  string
	}{
		{"variable without input", []string{`resources = [var.bucket_arn]`, `resources = [var.unused]`}, "non-string element"},
		{"undeclared variable", []string{`resources = [var.bucket_arn]`, `resources = [var.nope]`}, "List"},
		{"attached policy not listed", []string{"AmazonSSMManagedInstanceCore", "AdministratorAccess"}, "not_covered"},
		{"dynamic statement", []string{`data "aws_iam_policy_document" "lifecycle" {`, `data "aws_iam_policy_document" "lifecycle" {
  dynamic "statement" {
    for_each = []
    content {}
  }`}, "dynamic blocks are not evaluated"},
		{"counted policy", []string{`resource "aws_iam_role_policy" "lifecycle" {`, `resource "aws_iam_role_policy" "lifecycle" {
  count  = 1`}, "count and for_each"},
		{"source_policy_documents", []string{`data "aws_iam_policy_document" "lifecycle" {`, `data "aws_iam_policy_document" "lifecycle" {
  source_policy_documents = []`}, "source_policy_documents is not evaluated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			findings, err := runContract(t, testModule, testContract, tt.edits...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("findings %q, error %v; want an error containing %q", findings, err, tt.want)
			}
		})
	}
}

// TestRepoContract runs the check on the real module and contract.
func TestRepoContract(t *testing.T) {
	findings, summary, err := checkIAMContract("../../../terraform/modules/compute", "../../../deploy/aws/iam-contract.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(findings) > 0 {
		t.Errorf("findings:\n%s", strings.Join(findings, "\n"))
	}
	t.Log(summary)
}
