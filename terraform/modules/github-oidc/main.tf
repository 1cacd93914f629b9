# GitHub Actions -> AWS through OIDC: no long-lived keys anywhere. Each role trusts only this
# repository, and only in a given context (the token's "sub" claim):
#
#   role                          sub claim                                 used by
#   <p>-github-plan               repo:R:pull_request, repo:R:ref:refs/heads/main
#                                                                           terraform.yml plan
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
      plan    = ["repo:${local.repo}:pull_request", "repo:${local.repo}:ref:refs/heads/main"]
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

resource "aws_iam_role" "plan" {
  name                 = "${var.name_prefix}-github-plan"
  path                 = "/github/"
  description          = "terraform plan from pull requests and main (read-only)"
  assume_role_policy   = data.aws_iam_policy_document.trust["plan"].json
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_role_policy_attachment" "plan_readonly" {
  role       = aws_iam_role.plan.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/ReadOnlyAccess"
}

data "aws_iam_policy_document" "plan" {
  statement {
    sid       = "StateList"
    actions   = ["s3:ListBucket"]
    resources = ["arn:${local.partition}:s3:::${var.state_bucket}"]
  }
  # Plans take the state lock (use_lockfile writes <key>.tflock next to the state).
  statement {
    sid       = "StateLock"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["arn:${local.partition}:s3:::${var.state_bucket}/*.tflock"]
  }
  # Pull-request code runs with this role: it may read infrastructure, never user data or
  # secrets, whatever the PR's Terraform asks for.
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
}

resource "aws_iam_role_policy" "plan" {
  name   = "terraform-state-and-guardrails"
  role   = aws_iam_role.plan.id
  policy = data.aws_iam_policy_document.plan.json
}

# --- release (push images) ----------------------------------------------------------------------

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

resource "aws_iam_role" "apply" {
  for_each             = local.envs
  name                 = "${var.name_prefix}-github-apply-${each.key}"
  path                 = "/github/"
  description          = "terraform apply for ${each.key} (GitHub environment ${each.key})"
  assume_role_policy   = data.aws_iam_policy_document.trust["env-${each.key}"].json
  max_session_duration = 3600
  tags                 = var.tags
}

# Everything except IAM, Organizations and account settings...
resource "aws_iam_role_policy_attachment" "apply_poweruser" {
  for_each   = local.envs
  role       = aws_iam_role.apply[each.key].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/PowerUserAccess"
}

# ...plus IAM only for the workload's roles under /weupload/, which must carry the boundary.
#tfsec:ignore:aws-iam-no-policy-wildcards Scoped to IAM paths /weupload/ (roles, instance profiles) that the environment creates; names are not known in advance, and role creation is conditioned on the permissions boundary.
data "aws_iam_policy_document" "apply" {
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
    resources = ["arn:${local.partition}:iam::${local.account_id}:role/weupload/*"]
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
    resources = ["arn:${local.partition}:iam::${local.account_id}:role/weupload/*"]
  }
  statement {
    sid     = "PassWorkloadRoles"
    actions = ["iam:PassRole"]
    resources = [
      "arn:${local.partition}:iam::${local.account_id}:role/weupload/*",
    ]
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
    resources = ["arn:${local.partition}:iam::${local.account_id}:instance-profile/weupload/*"]
  }
  statement {
    sid       = "ServiceLinkedRoles"
    actions   = ["iam:CreateServiceLinkedRole"]
    resources = ["arn:${local.partition}:iam::${local.account_id}:role/aws-service-role/*"]
    condition {
      test     = "StringEquals"
      variable = "iam:AWSServiceName"
      values = [
        "autoscaling.amazonaws.com",
        "elasticloadbalancing.amazonaws.com",
        "rds.amazonaws.com",
      ]
    }
  }
  statement {
    sid       = "ReadManagedPolicies"
    actions   = ["iam:GetPolicy", "iam:GetPolicyVersion"]
    resources = ["arn:${local.partition}:iam::aws:policy/*", var.permissions_boundary_arn]
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
  policy   = data.aws_iam_policy_document.apply.json
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
