# App instances: launch template + Auto Scaling group running the We-Upload container.
#
# Health model (decided with the app team):
#   * The ALB target group checks GET /readyz (PostgreSQL and S3 reachable): an instance that
#     cannot reach its dependencies gets no traffic; if every target fails, the ALB fails open.
#   * With a load balancer the ASG uses health_check_type = "ELB": an instance the target group
#     reports unhealthy is replaced, and an instance refresh only counts an instance as healthy
#     once the ALB does. Without one (SSM-only dev profile) it stays "EC2".
#   * A launch lifecycle hook keeps a new instance out of service until the app answers
#     /readyz (the image runs, its configuration is valid, it reaches PostgreSQL and S3);
#     otherwise the instance is abandoned. A release that cannot reach its dependencies
#     therefore never enters service, and an instance refresh never replaces working instances
#     with it.
#   * Shared-dependency outage (e.g. an RDS failover): every target fails /readyz at once. The
#     target group needs 6 failed checks 15 s apart (90 s) before a target is unhealthy, which
#     rides out a typical Multi-AZ failover (60-120 s). A longer outage marks every instance
#     unhealthy, but the instance maintenance policy below launches each replacement BEFORE
#     terminating the unhealthy instance, and a replacement enters service only through the
#     /readyz gate, which it cannot pass while the dependency is down: the old instances keep
#     running (and recover with the dependency) instead of the fleet being torn down. The price:
#     after such an outage every instance is replaced once (launch-before-terminate, no capacity
#     loss), and abandoned launches repeat every HEALTH_GATE_TIMEOUT while it lasts.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

data "aws_ssm_parameter" "al2023" {
  count = var.ami_id == null ? 1 : 0
  name  = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${var.architecture}"
}

locals {
  partition      = data.aws_partition.current.partition
  region         = data.aws_region.current.region
  ami_id         = var.ami_id != null ? var.ami_id : nonsensitive(data.aws_ssm_parameter.al2023[0].value)
  lifecycle_hook = "app-healthy"
  with_alb       = length(var.target_group_arns) > 0
  # The group's ARN built from its name (the group ID in it is a wildcard): the lifecycle-hook
  # permission can then exist before the group, so the apply can wait for in-service capacity.
  asg_arn    = "arn:${local.partition}:autoscaling:${local.region}:${data.aws_caller_identity.current.account_id}:autoScalingGroup:*:autoScalingGroupName/${var.name}"
  deploy_dir = "${path.module}/../../../deploy/aws"

  app_log_group     = "/${var.name}/app"
  boot_log_group    = "/${var.name}/boot"
  metrics_log_group = "/${var.name}/metrics"

  # Every object key the app makes starts with this; the role may touch nothing else. It is
  # the Go constant blob.KeyPrefix (internal/blob/blob.go), not a setting: the app cannot
  # follow a different value. deploy/aws/iam-contract.json spells it too, and
  # `tfpolicy iamcontract` plus internal/blob/s3's contract test prove the three agree.
  object_prefix = "u/"

  image_tag_param = "/${var.name}/app/image-tag"
  app_env_param   = "/${var.name}/app/env"

  instance_env = join("\n", [
    "WEUPLOAD_NAME=${var.name}",
    "AWS_DEFAULT_REGION=${local.region}",
    "ECR_REPOSITORY_URL=${var.ecr_repository_url}",
    "IMAGE_TAG_PARAM=${local.image_tag_param}",
    "APP_ENV_PARAM=${local.app_env_param}",
    "APP_LOG_GROUP=${local.app_log_group}",
    "DB_HOST=${var.database.host}",
    "DB_PORT=${var.database.port}",
    "DB_NAME=${var.database.name}",
    "DB_APP_USER=${var.database.app_user}",
    "DB_APP_SECRET_ARN=${var.database.app_secret_arn}",
    "LINK_KEY_SECRET_ARN=${aws_secretsmanager_secret.link_key.arn}",
    "ASG_NAME=${var.name}",
    "LIFECYCLE_HOOK=${local.lifecycle_hook}",
  ])

  user_data = templatefile("${local.deploy_dir}/user-data.sh.tftpl", {
    instance_env = local.instance_env
    admin_script = file("${local.deploy_dir}/weupload-admin.sh")
    systemd_unit = file("${local.deploy_dir}/weupload.service")
    cloudwatch_agent_config = templatefile("${local.deploy_dir}/cloudwatch-agent.json.tftpl", {
      metrics_namespace = var.metrics_namespace
      boot_log_group    = local.boot_log_group
      metrics_log_group = local.metrics_log_group
    })
    prometheus_config = file("${local.deploy_dir}/prometheus.yaml")
  })

  app_env_file = join("\n", [for k in sort(keys(var.app_environment)) : "${k}=${var.app_environment[k]}"])
}

# ---------------------------------------------------------------------------------------------
# Configuration in SSM Parameter Store (non-secret). The secret parts (DATABASE_URL, LINK_KEY)
# are added at boot from Secrets Manager by weupload-admin render-env.
# ---------------------------------------------------------------------------------------------

# LINK_KEY (seals the stored share-link tokens, docs/architecture.md) lives in Secrets Manager,
# never in Terraform state: the first instance to render its environment stores a random value
# (weupload-admin render-env, race-safe), every instance then reads the same one. Rotation:
# put a new value (the old one becomes AWSPREVIOUS, read as LINK_KEY_PREVIOUS), then refresh
# the instances.
resource "aws_secretsmanager_secret" "link_key" {
  name                    = "${var.name}/link-key"
  description             = "LINK_KEY of the app (32 random bytes, hex). Filled by weupload-admin render-env, never by Terraform."
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.link_key_recovery_days
  tags                    = var.tags
}

resource "aws_ssm_parameter" "app_env" {
  name        = local.app_env_param
  description = "${var.name}: container environment (KEY=value lines, no secrets)"
  type        = "String"
  value       = local.app_env_file
  tags        = var.tags
}

resource "aws_ssm_parameter" "image_tag" {
  name        = local.image_tag_param
  description = "${var.name}: image tag to run; written by the deploy workflow"
  type        = "String"
  value       = var.initial_image_tag
  tags        = var.tags
  lifecycle {
    ignore_changes = [value]
  }
}

# ---------------------------------------------------------------------------------------------
# Logs
# ---------------------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "app" {
  name              = local.app_log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_cloudwatch_log_group" "boot" {
  name              = local.boot_log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_cloudwatch_log_group" "metrics" {
  name              = local.metrics_log_group
  retention_in_days = min(var.log_retention_days, 14)
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

# ---------------------------------------------------------------------------------------------
# Security group: in from the ALB on 8080 only; out to HTTPS (AWS APIs, ECR, package mirrors,
# the RDS CA bundle) and to the database. No SSH anywhere: Session Manager instead.
# ---------------------------------------------------------------------------------------------

resource "aws_security_group" "app" {
  name        = "${var.name}-app"
  description = "We-Upload app instances"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-app" })
}

resource "aws_vpc_security_group_ingress_rule" "app_from_alb" {
  count                        = var.alb_security_group_id == null ? 0 : 1
  security_group_id            = aws_security_group.app.id
  description                  = "HTTP from the load balancer"
  ip_protocol                  = "tcp"
  from_port                    = 8080
  to_port                      = 8080
  referenced_security_group_id = var.alb_security_group_id
}

resource "aws_vpc_security_group_egress_rule" "app_https" {
  security_group_id = aws_security_group.app.id
  description       = "HTTPS to AWS APIs (SSM, ECR, S3, Secrets Manager, CloudWatch) and package mirrors"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "app_db" {
  security_group_id            = aws_security_group.app.id
  description                  = "PostgreSQL"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = var.database_security_group_id
}

# ---------------------------------------------------------------------------------------------
# Instance role: least privilege.
# ---------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "assume_ec2" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "app" {
  name                 = "${var.name}-app"
  path                 = "/weupload/"
  description          = "We-Upload app instances (${var.name})"
  assume_role_policy   = data.aws_iam_policy_document.assume_ec2.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

# Session Manager (shell, port forwarding, Run Command) instead of SSH.
resource "aws_iam_role_policy_attachment" "ssm_core" {
  role       = aws_iam_role.app.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

data "aws_iam_policy_document" "app" {
  statement {
    sid = "FilesObjectsUnderAppPrefix"
    actions = [
      "s3:GetObject",
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
      "s3:ListMultipartUploadParts",
    ]
    resources = ["${var.bucket_arn}/${local.object_prefix}*"]
  }

  # Unconditional on purpose. S3 answers a HeadObject/GetObject of a missing key with 404 only
  # when the caller may s3:ListBucket the bucket, judged without an s3:prefix (those requests
  # send none); otherwise with 403, which the app cannot tell from a real denial (completing an
  # upload whose bytes never arrived would be a 500, not a 409). HeadBucket (the classic
  # readiness probe) needs it too. The bucket holds nothing but the app's objects, so listing it
  # reveals no more than listing the app's prefix would.
  statement {
    sid       = "FilesListBucket"
    actions   = ["s3:ListBucket"]
    resources = [var.bucket_arn]
  }

  statement {
    sid       = "KeyForObjectsAndSecrets"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values = [
        "s3.${local.region}.amazonaws.com",
        "secretsmanager.${local.region}.amazonaws.com",
      ]
    }
  }

  statement {
    sid     = "OwnParameters"
    actions = ["ssm:GetParameter"]
    resources = [
      aws_ssm_parameter.app_env.arn,
      aws_ssm_parameter.image_tag.arn,
    ]
  }

  # The first instance stores a random LINK_KEY (weupload-admin render-env), hence the write.
  statement {
    sid       = "LinkKeySecret"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"]
    resources = [aws_secretsmanager_secret.link_key.arn]
  }

  # Read only: the app's credentials are created and rotated by the deploy job, which also
  # holds the master secret; an instance never sees the master user or rewrites its own secret.
  statement {
    sid       = "AppDatabaseSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.database.app_secret_arn]
  }

  # docker pull (the actions of the AWS managed AmazonEC2ContainerRegistryPullOnly policy).
  statement {
    sid       = "PullImages"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    resources = [var.ecr_repository_arn]
  }

  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # this action has no resource-level permissions
  }

  statement {
    sid       = "MetricsOwnNamespace"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"] # no resource-level permissions; limited by namespace instead
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [var.metrics_namespace]
    }
  }

  statement {
    sid       = "AgentDimensions"
    actions   = ["ec2:DescribeTags"]
    resources = ["*"] # no resource-level permissions
  }

  # Log streams are named after instance IDs, unknown in advance: the resource must end in a
  # wildcard, but only inside this environment's three log groups.
  #tfsec:ignore:aws-iam-no-policy-wildcards Stream-level wildcard inside this environment's own log groups; PutLogEvents is authorised per stream and stream names (instance IDs) are not known in advance.
  statement {
    sid     = "WriteOwnLogGroups"
    actions = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = [
      "${aws_cloudwatch_log_group.app.arn}:*",
      "${aws_cloudwatch_log_group.boot.arn}:*",
      "${aws_cloudwatch_log_group.metrics.arn}:*",
    ]
  }
}

# Every AWS call made with this role is listed in deploy/aws/iam-contract.json;
# `scripts/infra-check.sh iamcontract` proves each is allowed and each statement is needed.
resource "aws_iam_role_policy" "app" {
  name   = "weupload-app"
  role   = aws_iam_role.app.id
  policy = data.aws_iam_policy_document.app.json
}

# The group is named by an ARN built from its name, not by aws_autoscaling_group.app.arn, so
# this permission is attached before the group exists (depends_on below) and the first
# instances can complete their hook at once.
data "aws_iam_policy_document" "lifecycle" {
  statement {
    sid       = "CompleteOwnLifecycleHook"
    actions   = ["autoscaling:CompleteLifecycleAction"]
    resources = [local.asg_arn]
  }
}

resource "aws_iam_role_policy" "lifecycle" {
  name   = "weupload-lifecycle-hook"
  role   = aws_iam_role.app.id
  policy = data.aws_iam_policy_document.lifecycle.json
}

resource "aws_iam_instance_profile" "app" {
  name = "${var.name}-app"
  path = "/weupload/"
  role = aws_iam_role.app.name
  tags = var.tags
}

# ---------------------------------------------------------------------------------------------
# Launch template and Auto Scaling group
# ---------------------------------------------------------------------------------------------

resource "aws_launch_template" "app" {
  name_prefix            = "${var.name}-"
  description            = "We-Upload app (${var.name})"
  image_id               = local.ami_id
  instance_type          = var.instance_type
  update_default_version = true
  user_data              = base64gzip(local.user_data)
  ebs_optimized          = true

  iam_instance_profile {
    arn = aws_iam_instance_profile.app.arn
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required" # IMDSv2 only
    http_put_response_hop_limit = 1          # the container uses the host network
    instance_metadata_tags      = "enabled"
  }

  network_interfaces {
    associate_public_ip_address = var.assign_public_ip
    security_groups             = [aws_security_group.app.id]
    delete_on_termination       = true
  }

  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_type           = "gp3"
      volume_size           = var.root_volume_gb
      encrypted             = true
      delete_on_termination = true
    }
  }

  dynamic "credit_specification" {
    for_each = can(regex("^t[0-9]", var.instance_type)) ? [1] : []
    content {
      cpu_credits = var.cpu_credits
    }
  }

  monitoring {
    enabled = false # 5-minute basic monitoring is free; the agent adds memory and disk
  }

  tag_specifications {
    resource_type = "instance"
    tags          = merge(var.tags, { Name = var.name })
  }

  tag_specifications {
    resource_type = "volume"
    tags          = merge(var.tags, { Name = var.name })
  }

  tags = var.tags
}

resource "aws_autoscaling_group" "app" {
  name                = var.name
  vpc_zone_identifier = var.subnet_ids
  min_size            = var.min_size
  max_size            = var.max_size
  desired_capacity    = var.min_size
  health_check_type   = local.with_alb ? "ELB" : "EC2"
  # The grace period starts once the lifecycle hook completed (the app already answered
  # /readyz): it only has to cover target registration and 2 passing ALB checks (30 s).
  health_check_grace_period = 120
  default_instance_warmup   = 120
  target_group_arns         = var.target_group_arns
  termination_policies      = ["OldestLaunchTemplate", "OldestInstance"]
  # The apply waits for min_size instances in service. On the first apply the image tag is
  # "none": those instances complete their hook at once (the permission exists before the
  # group). Later launches pass the /readyz gate within HEALTH_GATE_TIMEOUT (10 min).
  wait_for_capacity_timeout = "15m"
  protect_from_scale_in     = false
  capacity_rebalance        = false

  launch_template {
    id      = aws_launch_template.app.id
    version = aws_launch_template.app.latest_version
  }

  initial_lifecycle_hook {
    name                 = local.lifecycle_hook
    lifecycle_transition = "autoscaling:EC2_INSTANCE_LAUNCHING"
    default_result       = "ABANDON"
    heartbeat_timeout    = 900
  }

  # Every replacement (health check, rebalancing) launches the new instance first and
  # terminates the old one only when the new one is in service: see the outage note above.
  instance_maintenance_policy {
    min_healthy_percentage = 100
    max_healthy_percentage = 200
  }

  # A new launch template version (AMI update, user data change) rolls the group: launch a new
  # instance first, keep 100 % healthy capacity, then retire the old one. A new instance counts
  # only once in service (the /readyz gate) and, with the ALB, healthy in the target group; a
  # failing refresh, or one of the rollback alarms (target 5xx, unhealthy targets) going off
  # during it, rolls back to the previous launch template.
  instance_refresh {
    strategy = "Rolling"
    preferences {
      min_healthy_percentage = 100
      max_healthy_percentage = 200
      instance_warmup        = 120
      skip_matching          = false
      auto_rollback          = true
      dynamic "alarm_specification" {
        for_each = length(var.refresh_rollback_alarms) > 0 ? [1] : []
        content {
          alarms = var.refresh_rollback_alarms
        }
      }
    }
  }

  enabled_metrics = [
    "GroupDesiredCapacity",
    "GroupInServiceInstances",
    "GroupPendingInstances",
    "GroupTerminatingInstances",
    "GroupTotalInstances",
  ]

  dynamic "tag" {
    for_each = merge(var.tags, { Name = var.name })
    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }

  lifecycle {
    # Scaling policies and the deploy workflow change the desired count; Terraform sets bounds.
    ignore_changes = [desired_capacity]
  }

  depends_on = [aws_iam_role_policy.app, aws_iam_role_policy.lifecycle, aws_iam_role_policy_attachment.ssm_core]
}

resource "aws_autoscaling_policy" "cpu" {
  count                  = var.cpu_target_percent > 0 ? 1 : 0
  name                   = "${var.name}-cpu-target"
  autoscaling_group_name = aws_autoscaling_group.app.name
  policy_type            = "TargetTrackingScaling"
  target_tracking_configuration {
    predefined_metric_specification {
      predefined_metric_type = "ASGAverageCPUUtilization"
    }
    target_value = var.cpu_target_percent
  }
}
