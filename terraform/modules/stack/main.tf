# The whole We-Upload deployment for one environment:
#
#   Route 53 --> ALB (HTTPS) --> ASG of EC2 instances (container from ECR) --> RDS PostgreSQL
#                                     |  \--> S3 files bucket <-- browsers (presigned URLs)
#                                     \--> CloudWatch (logs, metrics, alarms -> SNS)
#
# environments/<env> pass the profile (free tier or scale-out); nothing here differs by name.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

data "aws_ecr_repository" "app" {
  name = var.ecr_repository_name
}

locals {
  name       = "weupload-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  https      = var.enable_alb
  base_url   = local.https ? "https://${coalesce(var.domain_name, "domain-name-unset.invalid")}" : "http://localhost:8080"
  bucket     = coalesce(var.files_bucket_name, "${local.name}-files-${local.account_id}")
  boundary   = var.use_permissions_boundary ? "arn:${local.partition}:iam::${local.account_id}:policy/weupload/weupload-workload-boundary" : null
  tags       = { Environment = var.environment, Application = "weupload" }

  certificate_arn = !var.enable_alb ? null : (
    var.route53_zone_id != null ? module.dns[0].certificate_arn : var.certificate_arn
  )

  app_environment = merge({
    LISTEN_ADDR      = "0.0.0.0:8080"
    BASE_URL         = local.base_url
    SESSION_SECURE   = local.https ? "true" : "false"
    REGISTRATION     = var.registration
    TRUSTED_PROXIES  = module.network.vpc_cidr_block
    LOG_LEVEL        = var.log_level
    METRICS_ADDR     = "127.0.0.1:9090"
    SHUTDOWN_TIMEOUT = "25s"
    DB_MAX_CONNS     = tostring(var.db_max_conns)
    STORAGE_BACKEND  = "s3"
    S3_BUCKET        = module.storage.bucket_name
    S3_REGION        = var.region
    AWS_REGION       = var.region
    MAX_FILE_SIZE    = var.max_file_size
    DEFAULT_QUOTA    = var.default_quota
  }, var.extra_app_environment)
}

module "kms" {
  source                  = "../kms"
  name                    = local.name
  deletion_window_in_days = var.kms_deletion_window_days
  cloudtrail_name         = var.cloudtrail ? local.name : null
  tags                    = local.tags
}

module "network" {
  source                   = "../network"
  name                     = local.name
  cidr_block               = var.vpc_cidr
  nat_gateway_mode         = var.nat_gateway_mode
  flow_logs_retention_days = var.flow_logs_retention_days
  kms_key_arn              = module.kms.key_arn
  permissions_boundary_arn = local.boundary
  tags                     = local.tags
}

module "storage" {
  source                             = "../storage"
  bucket_name                        = local.bucket
  allowed_origins                    = [local.base_url]
  kms_key_arn                        = module.kms.key_arn
  noncurrent_version_expiration_days = var.noncurrent_version_expiration_days
  create_logs_bucket                 = var.access_logs || var.cloudtrail
  cloudtrail_name                    = var.cloudtrail ? local.name : null
  logs_expiration_days               = var.access_logs_expiration_days
  force_destroy                      = var.force_destroy_buckets
  tags                               = local.tags
}

module "database" {
  source                   = "../database"
  name                     = local.name
  vpc_id                   = module.network.vpc_id
  subnet_ids               = module.network.database_subnet_ids
  app_security_group_id    = module.compute.security_group_id
  engine_version           = var.db_engine_version
  instance_class           = var.db_instance_class
  allocated_storage_gb     = var.db_allocated_storage_gb
  max_allocated_storage_gb = var.db_max_allocated_storage_gb
  multi_az                 = var.db_multi_az
  backup_retention_days    = var.db_backup_retention_days
  deletion_protection      = var.db_deletion_protection
  final_snapshot           = var.db_final_snapshot
  performance_insights     = var.db_performance_insights
  log_exports              = var.db_log_exports
  kms_key_arn              = module.kms.key_arn
  tags                     = local.tags
}

module "dns" {
  count        = var.enable_alb && var.route53_zone_id != null ? 1 : 0
  source       = "../dns"
  domain_name  = var.domain_name
  zone_id      = var.route53_zone_id
  create_alias = true
  alb_dns_name = module.alb[0].dns_name
  alb_zone_id  = module.alb[0].zone_id
  tags         = local.tags
}

module "alb" {
  count                 = var.enable_alb ? 1 : 0
  source                = "../alb"
  name                  = local.name
  vpc_id                = module.network.vpc_id
  subnet_ids            = module.network.public_subnet_ids
  certificate_arn       = local.certificate_arn
  app_security_group_id = module.compute.security_group_id
  deletion_protection   = var.alb_deletion_protection
  # Read after the bucket policy that lets ELB write there (see the storage output).
  access_logs_bucket = var.access_logs ? module.storage.logs_bucket_name : null
  waf                = var.waf
  kms_key_arn        = module.kms.key_arn
  tags               = local.tags
}

module "compute" {
  source                     = "../compute"
  name                       = local.name
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.app_subnet_ids
  assign_public_ip           = module.network.app_needs_public_ip
  instance_type              = var.instance_type
  architecture               = var.architecture
  cpu_credits                = var.cpu_credits
  min_size                   = var.min_size
  max_size                   = var.max_size
  cpu_target_percent         = var.cpu_target_percent
  alb_security_group_id      = var.enable_alb ? module.alb[0].security_group_id : null
  target_group_arns          = var.enable_alb ? [module.alb[0].target_group_arn] : []
  database_security_group_id = module.database.security_group_id
  bucket_arn                 = module.storage.bucket_arn
  kms_key_arn                = module.kms.key_arn
  ecr_repository_arn         = data.aws_ecr_repository.app.arn
  ecr_repository_url         = data.aws_ecr_repository.app.repository_url
  app_environment            = local.app_environment
  metrics_namespace          = "WeUpload/${var.environment}"
  log_retention_days         = var.log_retention_days
  permissions_boundary_arn   = local.boundary
  refresh_rollback_alarms    = module.monitoring.refresh_rollback_alarms
  database = {
    host           = module.database.address
    port           = module.database.port
    name           = module.database.db_name
    app_user       = module.database.app_username
    app_secret_arn = module.database.app_secret_arn
  }
  tags = local.tags
}

module "monitoring" {
  source                   = "../monitoring"
  name                     = local.name
  kms_key_arn              = module.kms.key_arn
  alarm_emails             = var.alarm_emails
  alb_enabled              = var.enable_alb
  alb_arn_suffix           = var.enable_alb ? module.alb[0].arn_suffix : null
  target_group_arn_suffix  = var.enable_alb ? module.alb[0].target_group_arn_suffix : null
  autoscaling_group_name   = local.name # the group's name (modules/compute), not read from it: no cycle
  burstable                = can(regex("^t[0-9]", var.instance_type))
  min_instances            = var.min_size
  db_instance_identifier   = module.database.instance_identifier
  db_allocated_storage_gb  = var.db_allocated_storage_gb
  db_connections_threshold = var.db_connections_alarm
  metrics_namespace        = "WeUpload/${var.environment}"
  tags                     = local.tags
}

module "guardrails" {
  source           = "../guardrails"
  name             = local.name
  cloudtrail       = var.cloudtrail
  guardduty        = var.guardduty
  logs_bucket_name = module.storage.logs_bucket_name
  kms_key_arn      = module.kms.key_arn
  tags             = local.tags
}
