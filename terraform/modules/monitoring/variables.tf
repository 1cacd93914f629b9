variable "name" {
  description = "Name prefix, e.g. weupload-prod."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name))
    error_message = "name must be 3-31 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "kms_key_arn" {
  description = "KMS key encrypting the SNS topic (its policy lets CloudWatch use it)."
  type        = string
}

variable "alarm_emails" {
  description = "Addresses subscribed to the alarm topic (each must confirm the subscription e-mail)."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for e in var.alarm_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "alarm_emails must be e-mail addresses."
  }
}

variable "alb_enabled" {
  description = "Whether the ALB exists (its alarms and widgets are created only then)."
  type        = bool
}

variable "alb_arn_suffix" {
  description = "CloudWatch LoadBalancer dimension (app/name/id)."
  type        = string
  default     = null
}

variable "target_group_arn_suffix" {
  description = "CloudWatch TargetGroup dimension (targetgroup/name/id)."
  type        = string
  default     = null
}

variable "autoscaling_group_name" {
  description = "Auto Scaling group of the app. Passed as a name, not read from the group, so the group's instance refresh can name these alarms."
  type        = string
}

variable "burstable" {
  description = "The instances are a burstable type (t3, t4g, ...): alarm on their CPU credit balance."
  type        = bool
}

variable "cpu_credit_alarm_balance" {
  description = "Alarm when an instance's CPU credit balance drops below this (a t3.micro earns 12 credits an hour, a t3.small 24)."
  type        = number
  default     = 20
}

variable "memory_alarm_percent" {
  description = "Alarm when an instance uses more than this percentage of its memory for 15 minutes."
  type        = number
  default     = 90
}

variable "disk_alarm_percent" {
  description = "Alarm when an instance's root file system is fuller than this percentage."
  type        = number
  default     = 85
}

variable "min_instances" {
  description = "Minimum in-service instances; fewer raises an alarm."
  type        = number
}

variable "db_instance_identifier" {
  description = "RDS instance identifier."
  type        = string
}

variable "db_allocated_storage_gb" {
  description = "Allocated RDS storage, to alarm when less than 20 % is free."
  type        = number
}

variable "db_connections_threshold" {
  description = "Alarm when database connections exceed this (keep below max_connections of the instance class: ~80 for db.t4g.micro, ~180 for small)."
  type        = number
  default     = 80
}

variable "metrics_namespace" {
  description = "Namespace of the app's metrics published by the CloudWatch agent."
  type        = string
}

variable "error_rate_percent" {
  description = "Alarm when 5xx responses exceed this percentage of requests over 5 minutes."
  type        = number
  default     = 5
  validation {
    condition     = var.error_rate_percent > 0 && var.error_rate_percent <= 100
    error_message = "error_rate_percent must be in (0, 100]."
  }
}

variable "latency_p99_seconds" {
  description = "Alarm when the p99 target response time exceeds this for 3 of 5 minutes (API calls only: bytes go to S3 directly)."
  type        = number
  default     = 1.5
}

variable "upload_failures_threshold" {
  description = "Alarm when more uploads than this fail within 15 minutes (weupload_uploads_total{event=\"failed\"})."
  type        = number
  default     = 10
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
