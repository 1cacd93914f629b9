# dev: the free-tier profile.
#   * one t3.micro instance (750 h/month free tier), standard CPU credits (no burst charges)
#   * no NAT gateway: the instance sits in a public subnet with a public IPv4 address; its
#     security group admits only the ALB, and there is no SSH (Session Manager instead)
#   * single-AZ db.t4g.micro, 20 GiB gp3, no storage autoscaling, 7-day backups (backup
#     storage up to the database size is free), Performance Insights 7 days (free)
#   * ALB optional (enable_alb); without it, use SSM port forwarding to http://localhost:8080
#   * no flow logs, short log retention; S3 access logs kept 14 days
#   * guard rails (WAF, CloudTrail, GuardDuty) off by default: they cost money, and the last two
#     are one per account (prod's cover dev when both share an account)
# Not free: the environment's KMS key ($1/month) and, after the free tier, the ALB and the
# instance's public IPv4 address. See docs/deploy.md "Costs".

module "weupload" {
  source = "../../modules/stack"

  environment = "dev"
  region      = var.region

  vpc_cidr                 = "10.20.0.0/16"
  nat_gateway_mode         = "none"
  flow_logs_retention_days = 0

  enable_alb              = var.enable_alb
  domain_name             = var.domain_name
  route53_zone_id         = var.route53_zone_id
  certificate_arn         = var.certificate_arn
  alb_deletion_protection = false

  instance_type      = "t3.micro"
  architecture       = "x86_64"
  cpu_credits        = "standard"
  min_size           = 1
  max_size           = 2
  cpu_target_percent = 0

  db_instance_class           = "db.t4g.micro"
  db_multi_az                 = false
  db_allocated_storage_gb     = 20
  db_max_allocated_storage_gb = 0
  db_backup_retention_days    = 7
  db_deletion_protection      = false
  db_final_snapshot           = false
  db_performance_insights     = true
  db_connections_alarm        = 60
  db_max_conns                = 10

  noncurrent_version_expiration_days = 7
  access_logs                        = true
  access_logs_expiration_days        = 14
  force_destroy_buckets              = true
  kms_deletion_window_days           = 7

  waf        = var.waf
  cloudtrail = var.cloudtrail
  guardduty  = var.guardduty

  registration       = var.registration
  log_retention_days = 7
  alarm_emails       = var.alarm_emails
}
