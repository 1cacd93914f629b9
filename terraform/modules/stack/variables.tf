variable "environment" {
  description = "Environment name: dev or prod (also the GitHub environment). Resources are named weupload-<environment>."
  type        = string
  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod."
  }
}

variable "region" {
  description = "AWS region (the provider's region)."
  type        = string
  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must look like eu-central-1."
  }
}

# --- network ------------------------------------------------------------------------------------

variable "vpc_cidr" {
  description = "VPC CIDR (/16 to /18). It is also the app's TRUSTED_PROXIES."
  type        = string
}

variable "nat_gateway_mode" {
  description = "none (free tier: instances in public subnets, no inbound but from the ALB), single, or per_az (scale-out)."
  type        = string
  default     = "none"
}

variable "flow_logs_retention_days" {
  description = "VPC flow logs (rejected traffic) retention; 0 disables them."
  type        = number
  default     = 0
}

# --- entry point --------------------------------------------------------------------------------

variable "enable_alb" {
  description = "Create the ALB (HTTPS). false: no public entry point; reach the app through SSM port forwarding at http://localhost:8080 (dev only)."
  type        = bool
  default     = true
}

variable "domain_name" {
  description = "Public name of the service, e.g. files.example.com (required with enable_alb)."
  type        = string
  default     = null
  validation {
    condition     = !var.enable_alb || var.domain_name != null
    error_message = "domain_name is required when enable_alb = true (the ALB serves HTTPS only)."
  }
}

variable "route53_zone_id" {
  description = "Public hosted zone of domain_name: Terraform then creates and validates the ACM certificate and the alias record. null: bring certificate_arn and create the DNS record yourself."
  type        = string
  default     = null
}

variable "certificate_arn" {
  description = "Existing ACM certificate for domain_name when route53_zone_id is null."
  type        = string
  default     = null
  validation {
    condition     = !var.enable_alb || var.route53_zone_id != null || var.certificate_arn != null
    error_message = "With enable_alb, set route53_zone_id (managed DNS and certificate) or certificate_arn."
  }
}

variable "access_logs" {
  description = "Create a logs bucket receiving the files bucket's S3 server access logs and (with enable_alb) the ALB's access logs."
  type        = bool
  default     = true
}

variable "access_logs_expiration_days" {
  description = "Days access logs are kept."
  type        = number
  default     = 90
}

variable "alb_deletion_protection" {
  description = "Protect the ALB from deletion."
  type        = bool
  default     = false
}

# --- guard rails (docs/deploy.md "Guard rails": what each costs) ---------------------------------

variable "waf" {
  description = "AWS WAF on the ALB (needs enable_alb): managed rule groups, a per-IP limit of rate_limit requests per 5 minutes, blocked requests logged for log_retention_days."
  type = object({
    enabled            = bool
    rate_limit         = optional(number, 2000)
    log_retention_days = optional(number, 30)
  })
  default = { enabled = false }
  validation {
    condition     = !var.waf.enabled || var.enable_alb
    error_message = "waf.enabled needs enable_alb (the web ACL protects the ALB)."
  }
}

variable "cloudtrail" {
  description = "Multi-region CloudTrail trail (management events, KMS-encrypted, log file validation) into the logs bucket. One per account is free: enable it in one environment per account."
  type        = bool
  default     = false
}

variable "guardduty" {
  description = "GuardDuty detector in this region. One per account and region: enable it in one environment per account."
  type        = bool
  default     = false
}

# --- compute ------------------------------------------------------------------------------------

variable "instance_type" {
  description = "App instance type."
  type        = string
}

variable "architecture" {
  description = "x86_64 or arm64, matching instance_type and the image's platform."
  type        = string
  default     = "x86_64"
}

variable "cpu_credits" {
  description = "standard or unlimited (T instances)."
  type        = string
  default     = "standard"
}

variable "min_size" {
  description = "Minimum app instances."
  type        = number
}

variable "max_size" {
  description = "Maximum app instances (at least min_size + 1 so rolling deploys can launch first)."
  type        = number
  validation {
    condition     = var.max_size >= var.min_size + 1
    error_message = "max_size must be at least min_size + 1: deploys launch a new instance before retiring an old one."
  }
}

variable "cpu_target_percent" {
  description = "Target average CPU for scaling; 0 disables scaling."
  type        = number
  default     = 0
}

# --- database -----------------------------------------------------------------------------------

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
}

variable "db_engine_version" {
  description = "PostgreSQL version (major, or major.minor)."
  type        = string
  default     = "18"
}

variable "db_multi_az" {
  description = "Multi-AZ standby."
  type        = bool
  default     = false
}

variable "db_allocated_storage_gb" {
  description = "Initial storage (GiB)."
  type        = number
  default     = 20
}

variable "db_max_allocated_storage_gb" {
  description = "Storage autoscaling ceiling (GiB); 0 disables."
  type        = number
  default     = 0
}

variable "db_backup_retention_days" {
  description = "Automated backup retention (days)."
  type        = number
  default     = 7
}

variable "db_deletion_protection" {
  description = "Deletion protection on the database."
  type        = bool
  default     = true
}

variable "db_final_snapshot" {
  description = "Final snapshot on deletion."
  type        = bool
  default     = true
}

variable "db_performance_insights" {
  description = "Performance Insights (7 days, free)."
  type        = bool
  default     = false
}

variable "db_log_exports" {
  description = "RDS log types exported to CloudWatch."
  type        = list(string)
  default     = []
}

variable "db_connections_alarm" {
  description = "Alarm threshold for database connections."
  type        = number
  default     = 80
}

# --- storage ------------------------------------------------------------------------------------

variable "files_bucket_name" {
  description = "Name of the files bucket; null = weupload-<environment>-files-<account id>."
  type        = string
  default     = null
}

variable "noncurrent_version_expiration_days" {
  description = "Days deleted/overwritten object versions are kept."
  type        = number
  default     = 30
}

variable "force_destroy_buckets" {
  description = "Allow destroying non-empty buckets (never in prod)."
  type        = bool
  default     = false
}

# --- app ----------------------------------------------------------------------------------------

variable "registration" {
  description = "open or closed (accounts created by an admin with weupload-admin user-create)."
  type        = string
  default     = "closed"
  validation {
    condition     = contains(["open", "closed"], var.registration)
    error_message = "registration must be open or closed."
  }
}

variable "log_level" {
  description = "App log level."
  type        = string
  default     = "info"
  validation {
    condition     = contains(["debug", "info", "warn", "error"], var.log_level)
    error_message = "log_level must be debug, info, warn or error."
  }
}

variable "max_file_size" {
  description = "MAX_FILE_SIZE of the app (e.g. 5GiB)."
  type        = string
  default     = "5GiB"
}

variable "default_quota" {
  description = "DEFAULT_QUOTA of the app (e.g. 10GiB)."
  type        = string
  default     = "10GiB"
}

variable "db_max_conns" {
  description = "DB_MAX_CONNS per instance. Keep max_size x this below the database's max_connections."
  type        = number
  default     = 20
}

variable "extra_app_environment" {
  description = "Additional or overriding container environment (non-secret)."
  type        = map(string)
  default     = {}
}

# --- operations ---------------------------------------------------------------------------------

variable "ecr_repository_name" {
  description = "ECR repository created by terraform/global."
  type        = string
  default     = "weupload"
}

variable "log_retention_days" {
  description = "Retention of the app and boot logs."
  type        = number
  default     = 30
}

variable "alarm_emails" {
  description = "E-mail addresses subscribed to the alarms."
  type        = list(string)
  default     = []
}

variable "use_permissions_boundary" {
  description = "Attach the boundary created by terraform/global to the roles this stack creates (required when applied by the GitHub apply role)."
  type        = bool
  default     = true
}

variable "kms_deletion_window_days" {
  description = "Waiting period before the environment key is deleted."
  type        = number
  default     = 30
}
