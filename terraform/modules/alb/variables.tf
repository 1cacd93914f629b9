variable "name" {
  description = "Name prefix, e.g. weupload-prod (ALB names are limited to 32 characters)."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,24}$", var.name))
    error_message = "name must be 3-25 characters of lowercase letters, digits and hyphens (the ALB adds suffixes)."
  }
}

variable "vpc_id" {
  description = "VPC of the load balancer."
  type        = string
}

variable "subnet_ids" {
  description = "Public subnets in at least two AZs."
  type        = list(string)
  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "An ALB needs subnets in at least two AZs."
  }
}

variable "certificate_arn" {
  description = "ACM certificate (same region) for the HTTPS listener."
  type        = string
  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN."
  }
}

variable "app_security_group_id" {
  description = "Security group of the app instances (the ALB may send to them on 8080 only)."
  type        = string
}

variable "app_port" {
  description = "Port the app listens on."
  type        = number
  default     = 8080
}

variable "health_check_path" {
  description = "Target health check: /readyz (PostgreSQL and S3 reachable) per the agreed health model."
  type        = string
  default     = "/readyz"
  validation {
    condition     = startswith(var.health_check_path, "/")
    error_message = "health_check_path must start with /."
  }
}

variable "deregistration_delay_seconds" {
  description = "Draining time for a deregistered target. Must exceed the app's SHUTDOWN_TIMEOUT (25 s) so in-flight requests finish before the instance stops."
  type        = number
  default     = 30
  validation {
    condition     = var.deregistration_delay_seconds >= 26 && var.deregistration_delay_seconds <= 3600
    error_message = "deregistration_delay_seconds must be above the app's 25 s shutdown grace (and at most 3600)."
  }
}

variable "ssl_policy" {
  description = "TLS policy of the HTTPS listener (TLS 1.3 + 1.2 with forward-secret AEAD ciphers only)."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"
  validation {
    condition     = startswith(var.ssl_policy, "ELBSecurityPolicy-TLS13-")
    error_message = "ssl_policy must be one of the ELBSecurityPolicy-TLS13-* policies."
  }
}

variable "idle_timeout_seconds" {
  description = "Idle connection timeout. File bytes bypass the ALB (browser to S3), but completing a very large multipart upload (S3 CompleteMultipartUpload) can take over a minute."
  type        = number
  default     = 120
  validation {
    condition     = var.idle_timeout_seconds >= 60 && var.idle_timeout_seconds <= 4000
    error_message = "idle_timeout_seconds must be between 60 and 4000."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete the load balancer."
  type        = bool
  default     = false
}

variable "access_logs_bucket" {
  description = "Bucket for ALB access logs (prefix alb/), or null to disable them."
  type        = string
  default     = null
}

variable "waf" {
  description = "AWS WAF web ACL on the ALB: managed rule groups and a limit of rate_limit requests per client IP per 5 minutes; blocked requests logged for log_retention_days."
  type = object({
    enabled            = bool
    rate_limit         = optional(number, 2000)
    log_retention_days = optional(number, 30)
  })
  default = { enabled = false }
  validation {
    condition     = var.waf.rate_limit >= 100 && var.waf.rate_limit <= 2000000000
    error_message = "waf.rate_limit must be between 100 and 2000000000 requests per 5 minutes."
  }
}

variable "kms_key_arn" {
  description = "KMS key encrypting the WAF log group (its policy must admit aws-waf-logs-NAME)."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
