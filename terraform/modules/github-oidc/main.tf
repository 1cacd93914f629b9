# GitHub Actions -> AWS through OIDC: no long-lived keys anywhere. Each role trusts only this
# repository, and only in a given context (the token's "sub" claim):
#
#   role                          sub claim                                 used by
#   <p>-github-plan               repo:R:ref:refs/heads/main                terraform.yml plan (main)
#   <p>-github-plan-pr            repo:R:pull_request                       terraform.yml plan (PRs)
#   <p>-github-release            repo:R:ref:refs/heads/main, repo:R:ref:refs/tags/v*
#                                                                           release.yml (ECR push)
#   <p>-github-apply-<env>        repo:R:environment:<env>                  terraform.yml apply
#   <p>-github-deploy-<env>       repo:R:environment:<env>                  deploy.yml
#
# Environment-scoped roles are only reachable from jobs that passed the GitHub environment's
# protection rules (required reviewers on prod, deployments from main only).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  repo       = var.github_repository
  issuer     = "token.actions.githubusercontent.com"
  provider_arn = var.create_oidc_provider ? aws_iam_openid_connect_provider.github[0].arn : (
    "arn:${local.partition}:iam::${local.account_id}:oidc-provider/${local.issuer}"
  )
  envs = toset(var.environments)
}

resource "aws_iam_openid_connect_provider" "github" {
  count          = var.create_oidc_provider ? 1 : 0
  url            = "https://${local.issuer}"
  client_id_list = ["sts.amazonaws.com"]
  tags           = var.tags
}

data "aws_iam_policy_document" "trust" {
  for_each = merge(
    {
      plan    = ["repo:${local.repo}:ref:refs/heads/main"]
      plan-pr = ["repo:${local.repo}:pull_request"]
      release = ["repo:${local.repo}:ref:refs/heads/main", "repo:${local.repo}:ref:refs/tags/v*"]
    },
    { for e in var.environments : "env-${e}" => ["repo:${local.repo}:environment:${e}"] },
  )
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [local.provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringLike"
      variable = "${local.issuer}:sub"
      values   = each.value
    }
  }
}

# --- plan (read-only) -------------------------------------------------------------------------
#
# Pull requests run code nobody has reviewed yet: a PR can add a data source or an external
# program that reads whatever the role can read, or calls any API it allows. So they get their
# own role (trusted for pull_request only) that cannot touch state locks: PR plans run with
# -lock=false, they are advisory, and only the plan saved on main is ever applied. The main
# role takes the lock for the plan it saves, and has to release it.

resource "aws_iam_role" "plan" {
  name                 = "${var.name_prefix}-github-plan"
  path                 = "/github/"
  description          = "terraform plan on main (read-only, takes the state lock)"
  assume_role_policy   = data.aws_iam_policy_document.trust["plan"].json
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_role" "plan_pr" {
  name                 = "${var.name_prefix}-github-plan-pr"
  path                 = "/github/"
  description          = "terraform plan of pull requests (read-only, no state lock)"
  assume_role_policy   = data.aws_iam_policy_document.trust["plan-pr"].json
  max_session_duration = 3600
  tags                 = var.tags
}

locals {
  plan_roles = {
    plan    = aws_iam_role.plan.name
    plan-pr = aws_iam_role.plan_pr.name
  }
}

moved {
  from = aws_iam_role_policy_attachment.plan_readonly
  to   = aws_iam_role_policy_attachment.plan_readonly["plan"]
}

resource "aws_iam_role_policy_attachment" "plan_readonly" {
  for_each   = local.plan_roles
  role       = each.value
  policy_arn = "arn:${local.partition}:iam::aws:policy/ReadOnlyAccess"
}

# Both plan roles: ReadOnlyAccess reads infrastructure, never user data, secrets or logs that
# hold personal data (request logs with IP addresses and e-mail addresses, flow logs, database
# logs), whatever the Terraform code asks for. Plans need none of them.
data "aws_iam_policy_document" "plan_guardrails" {
  statement {
    sid       = "StateList"
    actions   = ["s3:ListBucket"]
    resources = ["arn:${local.partition}:s3:::${var.state_bucket}"]
  }
  # Every object outside the state bucket: the files buckets, and the logs buckets (ALB and S3
  # access logs, CloudTrail).
  statement {
    sid    = "NoUserFilesNoSecrets"
    effect = "Deny"
    actions = [
      "s3:GetObject",
      "s3:GetObjectVersion",
      "secretsmanager:GetSecretValue",
      "ssm:GetParameterHistory",
    ]
    not_resources = [
      "arn:${local.partition}:s3:::${var.state_bucket}/*",
    ]
  }
  statement {
    sid       = "NoLogContents"
    effect    = "Deny"
    actions   = local.log_content_actions
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "plan_guardrails" {
  for_each = local.plan_roles
  name     = "no-data-reads"
  role     = each.value
  policy   = data.aws_iam_policy_document.plan_guardrails.json
}

# Plans on main take the state lock (use_lockfile writes <key>.tflock next to the state).
data "aws_iam_policy_document" "plan" {
  statement {
    sid       = "StateLock"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["arn:${local.partition}:s3:::${var.state_bucket}/*.tflock"]
  }
}

resource "aws_iam_role_policy" "plan" {
  name   = "terraform-state-lock"
  role   = aws_iam_role.plan.id
  policy = data.aws_iam_policy_document.plan.json
}

# A pull request must not break (or fake) the lock an apply holds, nor write state.
data "aws_iam_policy_document" "plan_pr" {
  statement {
    sid       = "NoStateWrites"
    effect    = "Deny"
    actions   = ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    resources = ["arn:${local.partition}:s3:::${var.state_bucket}/*", "arn:${local.partition}:dynamodb:*:${local.account_id}:table/*"]
  }
}

resource "aws_iam_role_policy" "plan_pr" {
  name   = "no-state-writes"
  role   = aws_iam_role.plan_pr.id
  policy = data.aws_iam_policy_document.plan_pr.json
}

# --- release (push images) ----------------------------------------------------------------------

# Push only to the one repository. PutImage also adds a tag to an existing image (the repository
# has immutable tags, so a tag can never be moved); the deploy role, not this one, tags what it
# deployed.
data "aws_iam_policy_document" "release" {
  statement {
    sid       = "Login"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # no resource-level permissions
  }
  statement {
    sid = "PushAndScan"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:CompleteLayerUpload",
      "ecr:DescribeImageScanFindings",
      "ecr:DescribeImages",
      "ecr:GetDownloadUrlForLayer",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:UploadLayerPart",
    ]
    resources = [var.ecr_repository_arn]
  }
}

resource "aws_iam_role" "release" {
  name                 = "${var.name_prefix}-github-release"
  path                 = "/github/"
  description          = "release.yml: push images to ECR"
  assume_role_policy   = data.aws_iam_policy_document.trust["release"].json
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_role_policy" "release" {
  name   = "ecr-push"
  role   = aws_iam_role.release.id
  policy = data.aws_iam_policy_document.release.json
}
# --- apply (per environment) --------------------------------------------------------------------
#
# No AWS managed policy: each apply role may change only its own environment's resources, so a
# dev pipeline (applied on every push to main, without review) cannot read or change prod when
# both share an account. Resources are matched by name where the service has names in its ARNs
# (everything is named weupload-<env>..., see modules/stack) and by the Environment tag where it
# has not (every environment's provider sets default_tags Environment = <env>). Derived from the
# resource types the stack uses (modules/*/main.tf):
#   aws_vpc, aws_subnet, aws_internet_gateway, aws_eip, aws_nat_gateway, aws_route_table, aws_route,
#   aws_route_table_association, aws_default_security_group, aws_security_group,
#   aws_vpc_security_group_ingress_rule, aws_vpc_security_group_egress_rule, aws_vpc_endpoint,
#   aws_flow_log, aws_launch_template, aws_autoscaling_group, aws_autoscaling_policy,
#   aws_lb, aws_lb_listener, aws_lb_target_group, aws_wafv2_web_acl, aws_wafv2_web_acl_association,
#   aws_wafv2_web_acl_logging_configuration, aws_acm_certificate, aws_acm_certificate_validation,
#   aws_route53_record, aws_db_instance, aws_db_parameter_group, aws_db_subnet_group,
#   aws_s3_bucket (+ _policy, _versioning, _public_access_block, _ownership_controls,
#   _server_side_encryption_configuration, _lifecycle_configuration, _cors_configuration, _logging),
#   aws_kms_key, aws_kms_alias, aws_secretsmanager_secret, aws_ssm_parameter,
#   aws_cloudwatch_log_group, aws_cloudwatch_metric_alarm, aws_cloudwatch_dashboard, aws_sns_topic,
#   aws_sns_topic_subscription, aws_cloudtrail, aws_guardduty_detector, aws_iam_role,
#   aws_iam_role_policy, aws_iam_instance_profile; data sources read with the account-wide reads.
# Reads that plan/refresh need stay account-wide, except reads of data (object contents, secret
# values, parameters, log events, decryption), which are denied outside the environment.

locals {
  # Reads of contents rather than of configuration: never granted outside an environment, and
  # denied to the plan roles altogether (log events hold IP and e-mail addresses).
  log_content_actions = [
    "logs:FilterLogEvents",
    "logs:GetLogEvents",
    "logs:GetLogRecord",
    "logs:GetQueryResults",
    "logs:StartLiveTail",
    "logs:StartQuery",
    "logs:Unmask",
    "rds:DownloadCompleteDBLogFile",
    "rds:DownloadDBLogFilePortion",
    "ec2:GetConsoleOutput",
    "ssm:GetCommandInvocation",
  ]

  arn = "arn:${local.partition}"
  # Per environment: its resource names and the other environments this account hosts.
  env = {
    for e in var.environments : e => {
      name   = "${var.name_prefix}-${e}"
      others = [for o in var.environments : "${var.name_prefix}-${o}" if o != e]
      domain = lookup(var.environment_domains, e, "")
    }
  }
}

resource "aws_iam_role" "apply" {
  for_each             = local.envs
  name                 = "${var.name_prefix}-github-apply-${each.key}"
  path                 = "/github/"
  description          = "terraform apply for ${each.key} (GitHub environment ${each.key})"
  assume_role_policy   = data.aws_iam_policy_document.trust["env-${each.key}"].json
  max_session_duration = 3600
  tags                 = var.tags
}

# Named resources: S3, state, Secrets Manager, SSM, logs, SNS, alarms, CloudTrail, ASG, ELB,
# RDS, WAF.
#tfsec:ignore:aws-iam-no-policy-wildcards Service wildcards (s3:*, rds:*, ...) only on ARNs that carry this environment's name; ARN wildcards stand for IDs and suffixes unknown in advance.
data "aws_iam_policy_document" "apply_named" {
  for_each = local.envs

  statement {
    sid     = "Buckets"
    actions = ["s3:*"]
    resources = [
      "${local.arn}:s3:::${local.env[each.key].name}-*",
      "${local.arn}:s3:::${local.env[each.key].name}-*/*",
    ]
  }
  # The state of this environment only (backend key weupload/<env>/terraform.tfstate).
  statement {
    sid       = "StateBucket"
    actions   = ["s3:ListBucket"]
    resources = ["${local.arn}:s3:::${var.state_bucket}"]
  }
  statement {
    sid       = "State"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${local.arn}:s3:::${var.state_bucket}/weupload/${each.key}/*"]
  }
  # Secrets are created empty and filled on the instances: no GetSecretValue/PutSecretValue.
  statement {
    sid = "Secrets"
    actions = [
      "secretsmanager:CreateSecret",
      "secretsmanager:DeleteSecret",
      "secretsmanager:DeleteResourcePolicy",
      "secretsmanager:DescribeSecret",
      "secretsmanager:GetResourcePolicy",
      "secretsmanager:PutResourcePolicy",
      "secretsmanager:RestoreSecret",
      "secretsmanager:TagResource",
      "secretsmanager:UntagResource",
      "secretsmanager:UpdateSecret",
    ]
    resources = ["${local.arn}:secretsmanager:*:${local.account_id}:secret:${local.env[each.key].name}/*"]
  }
  # RDS creates the master secret (rds!db-...) with the caller's permissions; only through RDS.
  statement {
    sid       = "RdsManagedMasterSecret"
    actions   = ["secretsmanager:CreateSecret", "secretsmanager:RotateSecret", "secretsmanager:TagResource"]
    resources = ["${local.arn}:secretsmanager:*:${local.account_id}:secret:rds!*"]
    condition {
      test     = "ForAnyValue:StringEquals"
      variable = "aws:CalledVia"
      values   = ["rds.amazonaws.com"]
    }
  }
  statement {
    sid = "Parameters"
    actions = [
      "ssm:AddTagsToResource",
      "ssm:DeleteParameter",
      "ssm:GetParameter",
      "ssm:GetParameters",
      "ssm:ListTagsForResource",
      "ssm:PutParameter",
      "ssm:RemoveTagsFromResource",
    ]
    resources = ["${local.arn}:ssm:*:${local.account_id}:parameter/${local.env[each.key].name}/*"]
  }
  # The AMI ID (modules/compute reads AWS's public parameter).
  statement {
    sid       = "PublicParameters"
    actions   = ["ssm:GetParameter", "ssm:GetParameters"]
    resources = ["${local.arn}:ssm:*::parameter/aws/service/*"]
  }
  statement {
    sid = "LogGroups"
    actions = [
      "logs:AssociateKmsKey",
      "logs:CreateLogGroup",
      "logs:DeleteLogGroup",
      "logs:DeleteRetentionPolicy",
      "logs:DisassociateKmsKey",
      "logs:ListTagsForResource",
      "logs:ListTagsLogGroup",
      "logs:PutRetentionPolicy",
      "logs:TagLogGroup",
      "logs:TagResource",
      "logs:UntagLogGroup",
      "logs:UntagResource",
    ]
    resources = [
      "${local.arn}:logs:*:${local.account_id}:log-group:/${local.env[each.key].name}/*",
      "${local.arn}:logs:*:${local.account_id}:log-group:aws-waf-logs-${local.env[each.key].name}",
      "${local.arn}:logs:*:${local.account_id}:log-group:aws-waf-logs-${local.env[each.key].name}:*",
    ]
  }
  # WAF log delivery: account-level log-delivery configuration without resource ARNs.
  statement {
    sid = "LogDelivery"
    actions = [
      "logs:CreateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:DescribeResourcePolicies",
      "logs:GetLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:UpdateLogDelivery",
    ]
    resources = ["*"]
  }
  statement {
    sid       = "Topics"
    actions   = ["sns:*"]
    resources = ["${local.arn}:sns:*:${local.account_id}:${local.env[each.key].name}-*"]
  }
  statement {
    sid = "AlarmsAndDashboard"
    actions = [
      "cloudwatch:DeleteAlarms",
      "cloudwatch:DeleteDashboards",
      "cloudwatch:GetDashboard",
      "cloudwatch:ListTagsForResource",
      "cloudwatch:PutDashboard",
      "cloudwatch:PutMetricAlarm",
      "cloudwatch:TagResource",
      "cloudwatch:UntagResource",
    ]
    resources = [
      "${local.arn}:cloudwatch:*:${local.account_id}:alarm:${local.env[each.key].name}-*",
      "${local.arn}:cloudwatch::${local.account_id}:dashboard/${local.env[each.key].name}",
    ]
  }
  statement {
    sid       = "Trail"
    actions   = ["cloudtrail:*"]
    resources = ["${local.arn}:cloudtrail:*:${local.account_id}:trail/${local.env[each.key].name}"]
  }
  statement {
    sid       = "AutoScalingGroup"
    actions   = ["autoscaling:*"]
    resources = ["${local.arn}:autoscaling:*:${local.account_id}:autoScalingGroup:*:autoScalingGroupName/${local.env[each.key].name}"]
  }
  statement {
    sid     = "LoadBalancer"
    actions = ["elasticloadbalancing:*"]
    resources = [
      "${local.arn}:elasticloadbalancing:*:${local.account_id}:loadbalancer/app/${local.env[each.key].name}/*",
      "${local.arn}:elasticloadbalancing:*:${local.account_id}:listener/app/${local.env[each.key].name}/*",
      "${local.arn}:elasticloadbalancing:*:${local.account_id}:listener-rule/app/${local.env[each.key].name}/*",
      "${local.arn}:elasticloadbalancing:*:${local.account_id}:targetgroup/${local.env[each.key].name}-*",
    ]
  }
  statement {
    sid     = "Database"
    actions = ["rds:*"]
    resources = [
      "${local.arn}:rds:*:${local.account_id}:db:${local.env[each.key].name}",
      "${local.arn}:rds:*:${local.account_id}:subgrp:${local.env[each.key].name}",
      "${local.arn}:rds:*:${local.account_id}:pg:${local.env[each.key].name}-*",
      "${local.arn}:rds:*:${local.account_id}:snapshot:${local.env[each.key].name}-*",
    ]
  }
  # CreateDBInstance names the default option group.
  statement {
    sid       = "DatabaseDefaultOptionGroup"
    actions   = ["rds:CreateDBInstance", "rds:ModifyDBInstance"]
    resources = ["${local.arn}:rds:*:${local.account_id}:og:default:*"]
  }
  statement {
    sid     = "WebAcl"
    actions = ["wafv2:*"]
    resources = [
      "${local.arn}:wafv2:*:${local.account_id}:regional/webacl/${local.env[each.key].name}/*",
      "${local.arn}:wafv2:*:${local.account_id}:regional/managedruleset/*/*",
    ]
  }
}

# Resources without names in their ARNs, matched by the Environment tag: created only with
# Environment = <env> in the request, changed only while they carry it.
#tfsec:ignore:aws-iam-no-policy-wildcards EC2, ACM, KMS and GuardDuty ARNs carry random IDs: every statement here is conditioned on the Environment tag of the request or of the resource.
data "aws_iam_policy_document" "apply_tagged" {
  for_each = local.envs

  statement {
    sid = "CreateTagged"
    actions = [
      "acm:RequestCertificate",
      "ec2:AllocateAddress",
      "ec2:CreateFlowLogs",
      "ec2:CreateInternetGateway",
      "ec2:CreateLaunchTemplate",
      "ec2:CreateNatGateway",
      "ec2:CreateRouteTable",
      "ec2:CreateSecurityGroup",
      "ec2:CreateSubnet",
      "ec2:CreateVpc",
      "ec2:CreateVpcEndpoint",
      "guardduty:CreateDetector",
      "kms:CreateKey",
    ]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/Environment"
      values   = [each.key]
    }
  }
  statement {
    sid = "ChangeTagged"
    actions = [
      "acm:AddTagsToCertificate",
      "acm:DeleteCertificate",
      "acm:DescribeCertificate",
      "acm:ListTagsForCertificate",
      "acm:RemoveTagsFromCertificate",
      "ec2:AssociateAddress",
      "ec2:AssociateRouteTable",
      "ec2:AssociateSubnetCidrBlock",
      "ec2:AttachInternetGateway",
      "ec2:AuthorizeSecurityGroupEgress",
      "ec2:AuthorizeSecurityGroupIngress",
      "ec2:CreateLaunchTemplateVersion",
      "ec2:CreateRoute",
      "ec2:DeleteFlowLogs",
      "ec2:DeleteInternetGateway",
      "ec2:DeleteLaunchTemplate",
      "ec2:DeleteLaunchTemplateVersions",
      "ec2:DeleteNatGateway",
      "ec2:DeleteRoute",
      "ec2:DeleteRouteTable",
      "ec2:DeleteSecurityGroup",
      "ec2:DeleteSubnet",
      "ec2:DeleteVpc",
      "ec2:DeleteVpcEndpoints",
      "ec2:DetachInternetGateway",
      "ec2:DisassociateAddress",
      "ec2:DisassociateRouteTable",
      "ec2:ModifyLaunchTemplate",
      "ec2:ModifySecurityGroupRules",
      "ec2:ModifySubnetAttribute",
      "ec2:ModifyVpcAttribute",
      "ec2:ModifyVpcEndpoint",
      "ec2:ReleaseAddress",
      "ec2:ReplaceRoute",
      "ec2:ReplaceRouteTableAssociation",
      "ec2:RevokeSecurityGroupEgress",
      "ec2:RevokeSecurityGroupIngress",
      "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
      "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
      "guardduty:DeleteDetector",
      "guardduty:TagResource",
      "guardduty:UntagResource",
      "guardduty:UpdateDetector",
      "kms:CreateAlias",
      "kms:CreateGrant",
      "kms:Decrypt",
      "kms:DeleteAlias",
      "kms:DescribeKey",
      "kms:EnableKeyRotation",
      "kms:GenerateDataKey",
      "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus",
      "kms:ListResourceTags",
      "kms:PutKeyPolicy",
      "kms:ScheduleKeyDeletion",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:UpdateAlias",
      "kms:UpdateKeyDescription",
    ]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Environment"
      values   = [each.key]
    }
  }
  # Tags: set on create, and later only on resources of this environment (or untagged ones such
  # as the VPC's default security group and main route table, which AWS creates). The
  # Environment tag itself can never be removed or set to another environment.
  statement {
    sid       = "Tag"
    actions   = ["ec2:CreateTags"]
    resources = ["*"]
    condition {
      test     = "StringEqualsIfExists"
      variable = "aws:RequestTag/Environment"
      values   = [each.key]
    }
    condition {
      test     = "StringEqualsIfExists"
      variable = "aws:ResourceTag/Environment"
      values   = [each.key]
    }
  }
  statement {
    sid       = "Untag"
    actions   = ["ec2:DeleteTags"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Environment"
      values   = [each.key]
    }
    condition {
      test     = "ForAllValues:StringNotEquals"
      variable = "aws:TagKeys"
      values   = ["Environment"]
    }
  }
  # aws_default_security_group strips the rules of the default group AWS created with the VPC,
  # before the provider tags it.
  statement {
    sid       = "DefaultSecurityGroupOfNewVpc"
    actions   = ["ec2:RevokeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress"]
    resources = ["${local.arn}:ec2:*:${local.account_id}:security-group/*"]
    condition {
      test     = "StringEqualsIfExists"
      variable = "aws:ResourceTag/Environment"
      values   = [each.key]
    }
  }
  # Creating the ASG makes Auto Scaling check that the caller may launch its template: new
  # instances, volumes and interfaces tagged for this environment (the template's tag
  # specifications), in this environment's subnets and security groups, from any public image.
  statement {
    sid     = "LaunchTaggedInstances"
    actions = ["ec2:RunInstances"]
    resources = [
      "${local.arn}:ec2:*:${local.account_id}:instance/*",
      "${local.arn}:ec2:*:${local.account_id}:network-interface/*",
      "${local.arn}:ec2:*:${local.account_id}:volume/*",
    ]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/Environment"
      values   = [each.key]
    }
  }
  statement {
    sid     = "LaunchIntoOwnNetwork"
    actions = ["ec2:RunInstances"]
    resources = [
      "${local.arn}:ec2:*:${local.account_id}:launch-template/*",
      "${local.arn}:ec2:*:${local.account_id}:security-group/*",
      "${local.arn}:ec2:*:${local.account_id}:subnet/*",
    ]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Environment"
      values   = [each.key]
    }
  }
  statement {
    sid       = "LaunchPublicImages"
    actions   = ["ec2:RunInstances"]
    resources = ["${local.arn}:ec2:*::image/*"]
  }
  # Security-group rules are resources of their own (tagged on create) inside a group of this
  # environment (ChangeTagged).
  statement {
    sid       = "NewSecurityGroupRules"
    actions   = ["ec2:AuthorizeSecurityGroupEgress", "ec2:AuthorizeSecurityGroupIngress"]
    resources = ["${local.arn}:ec2:*:${local.account_id}:security-group-rule/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/Environment"
      values   = [each.key]
    }
  }
  # An alias is changed with rights on the alias (here) and on its key (ChangeTagged).
  statement {
    sid = "KeyAlias"
    actions = [
      "kms:CreateAlias",
      "kms:DeleteAlias",
      "kms:UpdateAlias",
    ]
    resources = ["${local.arn}:kms:*:${local.account_id}:alias/${local.env[each.key].name}"]
  }
  statement {
    sid       = "ValidateCertificates"
    actions   = ["route53:ChangeResourceRecordSets"]
    resources = ["${local.arn}:route53:::hostedzone/*"]
    condition {
      test     = "ForAllValues:StringLike"
      variable = "route53:ChangeResourceRecordSetsNormalizedRecordNames"
      # No domain configured: no record may be changed.
      values = local.env[each.key].domain == "" ? ["none.invalid"] : [local.env[each.key].domain, "_*.${local.env[each.key].domain}"]
    }
  }
}

# Configuration reads for plan/refresh, account-wide, and explicit denies of everything that
# holds data outside this environment (defence in depth when environments share an account).
#tfsec:ignore:aws-iam-no-policy-wildcards Describe/List/Get* of configuration have no resource-level permissions; reads of contents are denied below outside this environment.
data "aws_iam_policy_document" "apply_guard" {
  for_each = local.envs

  statement {
    sid = "ReadConfiguration"
    actions = [
      "acm:ListCertificates",
      "autoscaling:Describe*",
      "cloudtrail:DescribeTrails",
      "cloudtrail:GetEventSelectors",
      "cloudtrail:GetTrail",
      "cloudtrail:GetTrailStatus",
      "cloudtrail:ListTags",
      "cloudwatch:DescribeAlarms",
      "ec2:Describe*",
      "ecr:DescribeRepositories",
      "elasticloadbalancing:Describe*",
      "guardduty:GetDetector",
      "guardduty:ListDetectors",
      "guardduty:ListTagsForResource",
      "iam:GetRole",
      "iam:GetRolePolicy",
      "iam:ListAttachedRolePolicies",
      "iam:ListRolePolicies",
      "kms:ListAliases",
      "logs:DescribeLogGroups",
      "rds:Describe*",
      "rds:ListTagsForResource",
      "route53:GetChange",
      "route53:GetHostedZone",
      "route53:ListHostedZones",
      "route53:ListResourceRecordSets",
      "route53:ListTagsForResource",
      "s3:GetBucketLocation",
      "s3:ListAllMyBuckets",
      "secretsmanager:ListSecrets",
      "sns:ListTopics",
      "ssm:DescribeParameters",
      "sts:GetCallerIdentity",
      "wafv2:GetWebACLForResource",
      "wafv2:ListWebACLs",
    ]
    resources = ["*"]
  }
  statement {
    sid    = "NoDataOutsideTheEnvironment"
    effect = "Deny"
    actions = concat([
      "s3:GetObject",
      "s3:GetObjectVersion",
      "secretsmanager:GetSecretValue",
      "ssm:GetParameter",
      "ssm:GetParameterHistory",
      "ssm:GetParameters",
      "ssm:GetParametersByPath",
    ], [for a in local.log_content_actions : a if startswith(a, "logs:")])
    not_resources = [
      "${local.arn}:s3:::${local.env[each.key].name}-*/*",
      "${local.arn}:s3:::${var.state_bucket}/weupload/${each.key}/*",
      "${local.arn}:secretsmanager:*:${local.account_id}:secret:${local.env[each.key].name}/*",
      "${local.arn}:ssm:*:${local.account_id}:parameter/${local.env[each.key].name}/*",
      "${local.arn}:ssm:*::parameter/aws/service/*",
      "${local.arn}:logs:*:${local.account_id}:log-group:/${local.env[each.key].name}/*",
      "${local.arn}:logs:*:${local.account_id}:log-group:aws-waf-logs-${local.env[each.key].name}",
      "${local.arn}:logs:*:${local.account_id}:log-group:aws-waf-logs-${local.env[each.key].name}:*",
    ]
  }
  statement {
    sid       = "NoDecryptOutsideTheEnvironment"
    effect    = "Deny"
    actions   = ["kms:Decrypt", "kms:ReEncryptFrom"]
    resources = ["*"]
    # Keys of another environment; untagged AWS managed keys stay usable (the state bucket's
    # objects are encrypted with aws/s3).
    condition {
      test     = "Null"
      variable = "aws:ResourceTag/Environment"
      values   = ["false"]
    }
    condition {
      test     = "StringNotEquals"
      variable = "aws:ResourceTag/Environment"
      values   = [each.key]
    }
  }
  # The other environments hosted in this account: nothing at all on their data stores.
  dynamic "statement" {
    for_each = length(local.env[each.key].others) > 0 ? [local.env[each.key].others] : []
    content {
      sid     = "NothingOnOtherEnvironments"
      effect  = "Deny"
      actions = ["logs:*", "s3:*", "secretsmanager:*", "ssm:*"]
      resources = flatten([for o in statement.value : [
        "${local.arn}:s3:::${o}-*",
        "${local.arn}:secretsmanager:*:${local.account_id}:secret:${o}/*",
        "${local.arn}:ssm:*:${local.account_id}:parameter/${o}/*",
        "${local.arn}:logs:*:${local.account_id}:log-group:/${o}/*",
        "${local.arn}:logs:*:${local.account_id}:log-group:aws-waf-logs-${o}",
        "${local.arn}:logs:*:${local.account_id}:log-group:aws-waf-logs-${o}:*",
      ]])
    }
  }
}

locals {
  apply_policies = {
    named  = data.aws_iam_policy_document.apply_named
    tagged = data.aws_iam_policy_document.apply_tagged
    guard  = data.aws_iam_policy_document.apply_guard
  }
  apply_policy_instances = {
    for p in setproduct(var.environments, keys(local.apply_policies)) : "${p[0]}-${p[1]}" => { env = p[0], kind = p[1] }
  }
}

# Managed policies (6,144 characters each) rather than inline ones: a role's inline policies
# share 10,240 characters, less than these statements need.
resource "aws_iam_policy" "apply" {
  for_each    = local.apply_policy_instances
  name        = "${var.name_prefix}-github-apply-${each.key}"
  path        = "/github/"
  description = "terraform apply for ${each.value.env}: ${each.value.kind} statements"
  policy      = local.apply_policies[each.value.kind][each.value.env].json
  tags        = var.tags
}

resource "aws_iam_role_policy_attachment" "apply" {
  for_each   = local.apply_policy_instances
  role       = aws_iam_role.apply[each.value.env].name
  policy_arn = aws_iam_policy.apply[each.key].arn
}

# IAM only for this environment's workload roles under /weupload/, which must carry the boundary.
#tfsec:ignore:aws-iam-no-policy-wildcards Scoped to IAM paths /weupload/ (roles, instance profiles) named for the environment; role creation is conditioned on the permissions boundary.
data "aws_iam_policy_document" "apply" {
  for_each = local.envs

  statement {
    sid = "ManageWorkloadRolesWithBoundary"
    actions = [
      "iam:CreateRole",
      "iam:PutRolePolicy",
      "iam:AttachRolePolicy",
      "iam:DetachRolePolicy",
      "iam:DeleteRolePolicy",
      "iam:PutRolePermissionsBoundary",
    ]
    resources = ["${local.arn}:iam::${local.account_id}:role/weupload/${local.env[each.key].name}-*"]
    condition {
      test     = "StringEquals"
      variable = "iam:PermissionsBoundary"
      values   = [var.permissions_boundary_arn]
    }
  }
  statement {
    sid = "MaintainWorkloadRoles"
    actions = [
      "iam:DeleteRole",
      "iam:GetRole",
      "iam:GetRolePolicy",
      "iam:ListAttachedRolePolicies",
      "iam:ListInstanceProfilesForRole",
      "iam:ListRolePolicies",
      "iam:TagRole",
      "iam:UntagRole",
      "iam:UpdateAssumeRolePolicy",
      "iam:UpdateRole",
      "iam:UpdateRoleDescription",
    ]
    resources = ["${local.arn}:iam::${local.account_id}:role/weupload/${local.env[each.key].name}-*"]
  }
  statement {
    sid       = "PassWorkloadRoles"
    actions   = ["iam:PassRole"]
    resources = ["${local.arn}:iam::${local.account_id}:role/weupload/${local.env[each.key].name}-*"]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ec2.amazonaws.com", "vpc-flow-logs.amazonaws.com"]
    }
  }
  statement {
    sid = "WorkloadInstanceProfiles"
    actions = [
      "iam:AddRoleToInstanceProfile",
      "iam:CreateInstanceProfile",
      "iam:DeleteInstanceProfile",
      "iam:GetInstanceProfile",
      "iam:RemoveRoleFromInstanceProfile",
      "iam:TagInstanceProfile",
      "iam:UntagInstanceProfile",
    ]
    resources = ["${local.arn}:iam::${local.account_id}:instance-profile/weupload/${local.env[each.key].name}-*"]
  }
  statement {
    sid       = "ServiceLinkedRoles"
    actions   = ["iam:CreateServiceLinkedRole"]
    resources = ["${local.arn}:iam::${local.account_id}:role/aws-service-role/*"]
    condition {
      test     = "StringEquals"
      variable = "iam:AWSServiceName"
      values = [
        "autoscaling.amazonaws.com",
        "elasticloadbalancing.amazonaws.com",
        "guardduty.amazonaws.com",
        "rds.amazonaws.com",
        "wafv2.amazonaws.com",
      ]
    }
  }
  statement {
    sid       = "ReadManagedPolicies"
    actions   = ["iam:GetPolicy", "iam:GetPolicyVersion"]
    resources = ["${local.arn}:iam::aws:policy/*", var.permissions_boundary_arn]
  }
  statement {
    sid       = "NeverLiftTheBoundary"
    effect    = "Deny"
    actions   = ["iam:DeleteRolePermissionsBoundary"]
    resources = ["*"]
  }
  statement {
    sid       = "NeverChangeTheBoundary"
    effect    = "Deny"
    actions   = ["iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion"]
    resources = [var.permissions_boundary_arn]
  }
}

resource "aws_iam_role_policy" "apply" {
  for_each = local.envs
  name     = "workload-iam"
  role     = aws_iam_role.apply[each.key].id
  policy   = data.aws_iam_policy_document.apply[each.key].json
}

# --- deploy (per environment) -------------------------------------------------------------------

#tfsec:ignore:aws-iam-no-policy-wildcards Names unknown in advance (instance IDs, the RDS-made master secret, the environment's key, session IDs) are matched by pattern, each narrowed by a condition to this environment's resources or to the role's own sessions; SendCommand and StartSession only with their one document.
data "aws_iam_policy_document" "deploy" {
  for_each = local.envs

  statement {
    sid       = "ImageTagParameter"
    actions   = ["ssm:GetParameter", "ssm:PutParameter"]
    resources = ["arn:${local.partition}:ssm:*:${local.account_id}:parameter/${var.name_prefix}-${each.key}/app/image-tag"]
  }
  # BatchGetImage reads the manifest only (no layer download), for PutImage to give the same
  # manifest the permanent tag deployed-<env>-<sha> the ECR lifecycle policy keeps. Without
  # layer upload rights the role can only tag images that are in the repository, and tags are
  # immutable, so it cannot move an existing one.
  statement {
    sid       = "VerifyAndKeepImage"
    actions   = ["ecr:DescribeImages", "ecr:DescribeImageScanFindings", "ecr:BatchGetImage", "ecr:PutImage"]
    resources = [var.ecr_repository_arn]
  }
  # db-bootstrap.sh runs on the runner: the instances no longer read the master password nor
  # write the app's password.
  statement {
    sid       = "FindDatabase"
    actions   = ["rds:DescribeDBInstances"]
    resources = ["arn:${local.partition}:rds:*:${local.account_id}:db:${var.name_prefix}-${each.key}"]
  }
  statement {
    sid = "AppDatabaseSecret"
    actions = [
      "secretsmanager:DescribeSecret",
      "secretsmanager:GetSecretValue",
      "secretsmanager:PutSecretValue",
      "secretsmanager:UpdateSecretVersionStage",
    ]
    resources = ["arn:${local.partition}:secretsmanager:*:${local.account_id}:secret:${var.name_prefix}-${each.key}/db-app-*"]
  }
  # RDS names the master secret rds!db-<uuid> and tags it with its instance's ARN.
  statement {
    sid       = "ReadDatabaseMasterSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = ["arn:${local.partition}:secretsmanager:*:${local.account_id}:secret:rds!db-*"]
    condition {
      test     = "StringLike"
      variable = "secretsmanager:ResourceTag/aws:rds:primaryDBInstanceArn"
      values   = ["arn:${local.partition}:rds:*:${local.account_id}:db:${var.name_prefix}-${each.key}"]
    }
  }
  # Both secrets are encrypted with the environment's key (modules/kms, tagged Environment).
  statement {
    sid       = "SecretsKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["arn:${local.partition}:kms:*:${local.account_id}:key/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Environment"
      values   = [each.key]
    }
    condition {
      test     = "StringLike"
      variable = "kms:ViaService"
      values   = ["secretsmanager.*.amazonaws.com"]
    }
  }
  # psql reaches RDS (private subnets) through a port-forwarding session via one of the
  # environment's instances. SessionDocumentAccessCheck: a session without a document (a shell)
  # needs the shell document, which the role does not have.
  statement {
    sid       = "PortForwardThroughOwnInstances"
    actions   = ["ssm:StartSession"]
    resources = ["arn:${local.partition}:ec2:*:${local.account_id}:instance/*"]
    condition {
      test     = "StringEquals"
      variable = "ssm:resourceTag/Environment"
      values   = [each.key]
    }
    condition {
      test     = "Bool"
      variable = "ssm:SessionDocumentAccessCheck"
      values   = ["true"]
    }
  }
  statement {
    sid       = "PortForwardingDocument"
    actions   = ["ssm:StartSession"]
    resources = ["arn:${local.partition}:ssm:*::document/AWS-StartPortForwardingSessionToRemoteHost"]
  }
  statement {
    sid       = "OwnSessions"
    actions   = ["ssm:TerminateSession", "ssm:ResumeSession"]
    resources = ["arn:${local.partition}:ssm:*:${local.account_id}:session/*"]
    condition {
      test     = "StringLike"
      variable = "ssm:resourceTag/aws:ssmmessages:session-id"
      values   = ["$${aws:userid}"]
    }
  }
  statement {
    sid = "RefreshOwnGroup"
    actions = [
      "autoscaling:StartInstanceRefresh",
      "autoscaling:CancelInstanceRefresh",
    ]
    resources = ["arn:${local.partition}:autoscaling:*:${local.account_id}:autoScalingGroup:*:autoScalingGroupName/${var.name_prefix}-${each.key}"]
  }
  statement {
    sid = "Describe"
    actions = [
      "autoscaling:DescribeAutoScalingGroups",
      "autoscaling:DescribeInstanceRefreshes",
      "ec2:DescribeInstances",
      "elasticloadbalancing:DescribeTargetGroups",
      "elasticloadbalancing:DescribeTargetHealth",
      "ssm:GetCommandInvocation",
      "ssm:ListCommandInvocations",
      "ssm:DescribeInstanceInformation",
    ]
    resources = ["*"] # describe calls have no resource-level permissions
  }
  statement {
    sid       = "RunMigrationsOnOwnInstances"
    actions   = ["ssm:SendCommand"]
    resources = ["arn:${local.partition}:ec2:*:${local.account_id}:instance/*"]
    condition {
      test     = "StringEquals"
      variable = "ssm:resourceTag/Environment"
      values   = [each.key]
    }
  }
  statement {
    sid       = "RunShellScriptDocument"
    actions   = ["ssm:SendCommand"]
    resources = ["arn:${local.partition}:ssm:*::document/AWS-RunShellScript"]
  }
}

resource "aws_iam_role" "deploy" {
  for_each             = local.envs
  name                 = "${var.name_prefix}-github-deploy-${each.key}"
  path                 = "/github/"
  description          = "deploy.yml for ${each.key}: migrations via SSM, instance refresh"
  assume_role_policy   = data.aws_iam_policy_document.trust["env-${each.key}"].json
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_role_policy" "deploy" {
  for_each = local.envs
  name     = "deploy"
  role     = aws_iam_role.deploy[each.key].id
  policy   = data.aws_iam_policy_document.deploy[each.key].json
}
