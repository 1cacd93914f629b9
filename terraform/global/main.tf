# Account-wide resources, applied by an administrator (not by CI: these define CI's own
# permissions, so a workflow must not be able to change them):
#   * the ECR repository every environment deploys from
#   * the permissions boundary carried by every role the environments create
#   * the GitHub OIDC provider and the CI roles (plan, release, apply-<env>, deploy-<env>)

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  partition = data.aws_partition.current.partition
}

module "ecr" {
  source          = "../modules/ecr"
  repository_name = "weupload"
  keep_images     = var.keep_images
}

# The ceiling for workload roles (instance role, flow-logs role). Identity policies in the
# environments scope each action to its resources; the boundary makes sure no role the apply
# role creates can ever do more than these actions, whatever policy it is given.
#tfsec:ignore:aws-iam-no-policy-wildcards A permissions boundary is a ceiling of allowed actions; resources are scoped by each role's own policy (modules/compute, modules/network), so the boundary names the weupload-* resource families only.
data "aws_iam_policy_document" "boundary" {
  statement {
    sid = "AppData"
    actions = [
      "s3:GetObject",
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
      "s3:ListMultipartUploadParts",
      "s3:ListBucket",
      "s3:ListBucketMultipartUploads",
    ]
    resources = ["arn:${local.partition}:s3:::weupload-*"]
  }
  statement {
    sid       = "Keys"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["arn:${local.partition}:kms:*:${data.aws_caller_identity.current.account_id}:key/*"]
  }
  statement {
    sid = "ConfigAndSecrets"
    actions = [
      "ssm:GetParameter",
      "ssm:GetParameters",
      "secretsmanager:GetSecretValue",
      "secretsmanager:DescribeSecret",
      "secretsmanager:PutSecretValue",
      "secretsmanager:UpdateSecretVersionStage",
    ]
    resources = [
      "arn:${local.partition}:ssm:*:${data.aws_caller_identity.current.account_id}:parameter/weupload-*",
      "arn:${local.partition}:secretsmanager:*:${data.aws_caller_identity.current.account_id}:secret:weupload-*",
      "arn:${local.partition}:secretsmanager:*:${data.aws_caller_identity.current.account_id}:secret:rds!*",
    ]
  }
  statement {
    sid       = "RegistryLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # no resource-level permissions
  }
  statement {
    sid = "PullImages"
    actions = [
      "ecr:BatchGetImage",
      "ecr:GetDownloadUrlForLayer",
      "ecr:BatchCheckLayerAvailability",
    ]
    resources = [module.ecr.repository_arn]
  }
  statement {
    sid = "Logs"
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "logs:DescribeLogStreams",
    ]
    resources = ["arn:${local.partition}:logs:*:${data.aws_caller_identity.current.account_id}:log-group:/weupload-*"]
  }
  statement {
    sid       = "MetricsAndTags"
    actions   = ["cloudwatch:PutMetricData", "ec2:DescribeTags", "logs:DescribeLogGroups"]
    resources = ["*"] # no resource-level permissions
  }
  statement {
    sid       = "LifecycleHooks"
    actions   = ["autoscaling:CompleteLifecycleAction"]
    resources = ["arn:${local.partition}:autoscaling:*:${data.aws_caller_identity.current.account_id}:autoScalingGroup:*:autoScalingGroupName/weupload-*"]
  }
  # What AmazonSSMManagedInstanceCore grants (Session Manager, Run Command, inventory).
  statement {
    sid = "SystemsManagerAgent"
    actions = [
      "ssm:DescribeAssociation",
      "ssm:GetDeployablePatchSnapshotForInstance",
      "ssm:GetDocument",
      "ssm:DescribeDocument",
      "ssm:GetManifest",
      "ssm:ListAssociations",
      "ssm:ListInstanceAssociations",
      "ssm:PutInventory",
      "ssm:PutComplianceItems",
      "ssm:PutConfigurePackageResult",
      "ssm:UpdateAssociationStatus",
      "ssm:UpdateInstanceAssociationStatus",
      "ssm:UpdateInstanceInformation",
      "ssmmessages:CreateControlChannel",
      "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel",
      "ssmmessages:OpenDataChannel",
      "ec2messages:AcknowledgeMessage",
      "ec2messages:DeleteMessage",
      "ec2messages:FailMessage",
      "ec2messages:GetEndpoint",
      "ec2messages:GetMessages",
      "ec2messages:SendReply",
    ]
    resources = ["*"]
  }
}

resource "aws_iam_policy" "boundary" {
  name        = "weupload-workload-boundary"
  path        = "/weupload/"
  description = "Permissions boundary of every role created by the weupload environments"
  policy      = data.aws_iam_policy_document.boundary.json
}

module "github_oidc" {
  source                   = "../modules/github-oidc"
  github_repository        = var.github_repository
  environments             = var.environments
  environment_domains      = var.environment_domains
  create_oidc_provider     = var.create_oidc_provider
  state_bucket             = var.state_bucket
  ecr_repository_arn       = module.ecr.repository_arn
  permissions_boundary_arn = aws_iam_policy.boundary.arn
}
