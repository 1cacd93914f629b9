package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTree writes files (path relative to the returned directory -> content).
func writeTree(tb testing.TB, files map[string]string) string {
	tb.Helper()
	dir := tb.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

const elbLogsPolicy = `
data "aws_iam_policy_document" "logs" {
  statement {
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/*"]
    principals {
      type        = "Service"
      identifiers = ["logdelivery.elasticloadbalancing.amazonaws.com"]
    }
  }
}
resource "aws_s3_bucket" "logs" {
  bucket = "logs"
}
resource "aws_s3_bucket_policy" "logs" {
  bucket = aws_s3_bucket.logs.id
  policy = data.aws_iam_policy_document.logs.json
}
`

const hookPolicy = `
data "aws_iam_policy_document" "lifecycle" {
  statement {
    actions   = ["autoscaling:CompleteLifecycleAction"]
    resources = [%s]
  }
}
resource "aws_iam_role_policy" "lifecycle" {
  role   = "app"
  policy = data.aws_iam_policy_document.lifecycle.json
}
`

// asg renders an Auto Scaling group; extra is added inside the block.
func asg(extra string) string {
	return `
resource "aws_autoscaling_group" "app" {
  name     = "app"
  min_size = 1
  max_size = 2
  initial_lifecycle_hook {
    name                 = "gate"
    lifecycle_transition = "autoscaling:EC2_INSTANCE_LAUNCHING"
    default_result       = "ABANDON"
  }
` + extra + `
}
`
}

const refresh = `
  instance_refresh {
    strategy = "Rolling"
    preferences {
      auto_rollback = true
    }
  }
`

func TestCheckRollout(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // substrings, one per expected finding; none means no findings
	}{
		{
			name: "alb logs ordered by depends_on",
			files: map[string]string{"main.tf": elbLogsPolicy + `
resource "aws_lb" "this" {
  access_logs {
    bucket  = aws_s3_bucket.logs.id
    enabled = true
  }
  depends_on = [aws_s3_bucket_policy.logs]
}`},
		},
		{
			name: "alb logs not ordered",
			files: map[string]string{"main.tf": elbLogsPolicy + `
resource "aws_lb" "this" {
  access_logs {
    bucket  = aws_s3_bucket.logs.id
    enabled = true
  }
}`},
			want: []string{"alb-access-logs"},
		},
		{
			name: "alb logs disabled",
			files: map[string]string{"main.tf": `
resource "aws_lb" "this" {
  access_logs {
    bucket  = "x"
    enabled = false
  }
}`},
		},
		{
			name: "alb logs through a module output that reads the policy",
			files: map[string]string{
				"env/main.tf": `
module "storage" {
  source = "../modules/storage"
}
module "alb" {
  source = "../modules/alb"
  bucket = module.storage.logs_bucket
}`,
				"modules/storage/main.tf": elbLogsPolicy + `
output "logs_bucket" {
  value = aws_s3_bucket_policy.logs.bucket
}`,
				"modules/alb/main.tf": `
variable "bucket" {
  type = string
}
resource "aws_lb" "this" {
  dynamic "access_logs" {
    for_each = var.bucket == null ? [] : [var.bucket]
    content {
      bucket  = access_logs.value
      enabled = true
    }
  }
}`,
			},
		},
		{
			name: "alb logs through a module output that reads only the bucket",
			files: map[string]string{
				"env/main.tf": `
module "storage" {
  source = "../modules/storage"
}
module "alb" {
  source = "../modules/alb"
  bucket = module.storage.logs_bucket
}`,
				"modules/storage/main.tf": elbLogsPolicy + `
output "logs_bucket" {
  value = aws_s3_bucket.logs.id
}`,
				"modules/alb/main.tf": `
variable "bucket" {
  type = string
}
resource "aws_lb" "this" {
  access_logs {
    bucket  = var.bucket
    enabled = true
  }
}`,
			},
			want: []string{"alb-access-logs"},
		},
		{
			name: "alb logs after a policy that does not grant ELB",
			files: map[string]string{"main.tf": strings.ReplaceAll(elbLogsPolicy, "logdelivery.elasticloadbalancing.amazonaws.com", "logging.s3.amazonaws.com") + `
resource "aws_lb" "this" {
  access_logs {
    bucket  = aws_s3_policy.logs.bucket
    enabled = true
  }
  depends_on = [aws_s3_bucket_policy.logs]
}`},
			want: []string{"alb-access-logs"},
		},
		{
			name: "trail after its bucket policy, through the bucket name it reads",
			files: map[string]string{"main.tf": strings.ReplaceAll(elbLogsPolicy, "logdelivery.elasticloadbalancing.amazonaws.com", "cloudtrail.amazonaws.com") + `
resource "aws_cloudtrail" "this" {
  s3_bucket_name = aws_s3_bucket_policy.logs.bucket
}`},
		},
		{
			name: "trail reading the bucket only",
			files: map[string]string{"main.tf": strings.ReplaceAll(elbLogsPolicy, "logdelivery.elasticloadbalancing.amazonaws.com", "cloudtrail.amazonaws.com") + `
resource "aws_cloudtrail" "this" {
  s3_bucket_name = aws_s3_bucket.logs.id
}`},
			want: []string{"trail-bucket-policy"},
		},
		{
			name: "asg waits, permission from a built ARN ordered first",
			files: map[string]string{"main.tf": strings.Replace(hookPolicy, "%s", `"arn:aws:autoscaling:r:1:autoScalingGroup:*:autoScalingGroupName/app"`, 1) +
				asg(`  depends_on = [aws_iam_role_policy.lifecycle]`)},
		},
		{
			name: "asg does not wait and its permission names the group",
			files: map[string]string{"main.tf": strings.Replace(hookPolicy, "%s", "aws_autoscaling_group.app.arn", 1) +
				asg(`  wait_for_capacity_timeout = "0"`)},
			want: []string{`asg-capacity: wait_for_capacity_timeout = "0"`, "asg-capacity: launch lifecycle hook"},
		},
		{
			name: "permission names the group's ARN and the group depends on it: a cycle",
			files: map[string]string{"main.tf": strings.Replace(hookPolicy, "%s", "aws_autoscaling_group.app.arn", 1) +
				asg(`  depends_on = [aws_iam_role_policy.lifecycle]`)},
			want: []string{"aws_iam_role_policy.lifecycle: cycle", "aws_autoscaling_group.app: cycle"},
		},
		{
			name: "asg with target groups: ELB through a local, readyz default, rollback",
			files: map[string]string{
				"env/main.tf": `
module "compute" {
  source            = "../modules/compute"
  target_group_arns = [aws_lb_target_group.app.arn]
}
variable "health_check_path" {
  type    = string
  default = "/readyz"
}
resource "aws_lb_target_group" "app" {
  health_check {
    path = var.health_check_path
  }
}`,
				"modules/compute/main.tf": `
variable "target_group_arns" {
  type    = list(string)
  default = []
}
locals {
  with_alb = length(var.target_group_arns) > 0
}
` + strings.Replace(hookPolicy, "%s", `"arn:aws:autoscaling:r:1:autoScalingGroup:*:autoScalingGroupName/app"`, 1) + asg(`
  target_group_arns = var.target_group_arns
  health_check_type = local.with_alb ? "ELB" : "EC2"
  depends_on        = [aws_iam_role_policy.lifecycle]
`+refresh),
			},
		},
		{
			name: "asg with target groups on EC2 health checks without rollback; target group on healthz",
			files: map[string]string{"main.tf": strings.Replace(hookPolicy, "%s", `"*"`, 1) + `
resource "aws_lb_target_group" "app" {
  health_check {
    path = "/healthz"
  }
}` + asg(`
  target_group_arns = [aws_lb_target_group.app.arn]
  health_check_type = "EC2"
  depends_on        = [aws_iam_role_policy.lifecycle]
  instance_refresh {
    strategy = "Rolling"
  }
`)},
			want: []string{`must be "ELB" (got "EC2")`, "auto_rollback", `path is "/healthz"`},
		},
		{
			name: "caller overrides the target group path",
			files: map[string]string{
				"env/main.tf": `
module "alb" {
  source            = "../modules/alb"
  health_check_path = "/healthz"
}`,
				"modules/alb/main.tf": `
variable "health_check_path" {
  type    = string
  default = "/readyz"
}
resource "aws_lb_target_group" "app" {
  health_check {
    path = var.health_check_path
  }
}`,
			},
			want: []string{`path is "/healthz"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, tt.files)
			got, err := checkRollout(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d findings, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			for _, w := range tt.want {
				found := false
				for _, g := range got {
					if strings.Contains(g, w) {
						found = true
					}
				}
				if !found {
					t.Errorf("no finding contains %q:\n%s", w, strings.Join(got, "\n"))
				}
			}
		})
	}
}
