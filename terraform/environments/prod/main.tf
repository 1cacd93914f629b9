# prod: the scale-out profile.
#   * two or more t3.small instances across two AZs in private subnets, CPU target tracking
#   * one NAT gateway per AZ (no cross-AZ egress dependency)
#   * Multi-AZ db.t4g.small, gp3 with storage autoscaling to 200 GiB, 14-day PITR,
#     deletion protection, final snapshot, Performance Insights (7 days, free)
#   * HTTPS ALB with access logs, VPC flow logs, 90-day log retention
#   * guard rails on by default: WAF on the ALB, a CloudTrail trail, GuardDuty
# To scale further see docs/deploy.md "Scaling out".

module "weupload" {
  source = "../../modules/stack"

  environment = "prod"
  region      = var.region

  vpc_cidr                 = "10.30.0.0/16"
  nat_gateway_mode         = "per_az"
  flow_logs_retention_days = 30

  enable_alb              = true
  domain_name             = var.domain_name
  route53_zone_id         = var.route53_zone_id
  certificate_arn         = var.certificate_arn
  alb_deletion_protection = true

  instance_type      = "t3.small"
  architecture       = "x86_64"
  cpu_credits        = "unlimited"
  min_size           = 2
  max_size           = 6
  cpu_target_percent = 60

  db_instance_class           = "db.t4g.small"
  db_multi_az                 = true
  db_allocated_storage_gb     = 20
  db_max_allocated_storage_gb = 200
  db_backup_retention_days    = 14
  db_deletion_protection      = true
  db_final_snapshot           = true
  db_performance_insights     = true
  db_log_exports              = ["postgresql", "upgrade"]
  db_connections_alarm        = 150
  db_max_conns                = 20

  noncurrent_version_expiration_days = 30
  access_logs                        = true
  access_logs_expiration_days        = 90
  force_destroy_buckets              = false
  kms_deletion_window_days           = 30

  waf        = var.waf
  cloudtrail = var.cloudtrail
  guardduty  = var.guardduty

  registration       = var.registration
  log_retention_days = 90
  alarm_emails       = var.alarm_emails
}
