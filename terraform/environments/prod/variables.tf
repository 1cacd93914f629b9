variable "aws_account_id" {
  description = "The only AWS account this configuration may touch (guards against a wrong profile)."
  type        = string
  validation {
    condition     = can(regex("^[0-9]{12}$", var.aws_account_id))
    error_message = "aws_account_id must be 12 digits."
  }
}

variable "region" {
  description = "AWS region."
  type        = string
  default     = "eu-central-1"
}

variable "github_repository" {
  description = "owner/name of the repository that deploys this environment (a tag on every resource)."
  type        = string
  default     = "weupload/weupload"
}

variable "domain_name" {
  description = "Public name, e.g. files.example.com."
  type        = string
  default     = null
}

variable "route53_zone_id" {
  description = "Route 53 public zone of domain_name (certificate and alias managed here), or null."
  type        = string
  default     = null
}

variable "certificate_arn" {
  description = "Existing ACM certificate when route53_zone_id is null."
  type        = string
  default     = null
}


variable "alarm_emails" {
  description = "E-mail addresses for alarms."
  type        = list(string)
  default     = []
}

variable "registration" {
  description = "open or closed."
  type        = string
  default     = "closed"
}

# Guard rails (docs/deploy.md "Guard rails"). On in prod by default.
variable "waf" {
  description = "AWS WAF on the ALB: rate_limit requests per client IP per 5 minutes; blocked requests logged for log_retention_days."
  type = object({
    enabled            = bool
    rate_limit         = optional(number, 2000)
    log_retention_days = optional(number, 30)
  })
  default = { enabled = true }
}

variable "cloudtrail" {
  description = "Multi-region CloudTrail trail into the logs bucket (one per account is free)."
  type        = bool
  default     = true
}

variable "guardduty" {
  description = "GuardDuty detector (one per account and region)."
  type        = bool
  default     = true
}
