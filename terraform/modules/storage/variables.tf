variable "bucket_name" {
  description = "Globally unique name of the files bucket (S3 naming rules; no dots, so virtual-hosted TLS works)."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.bucket_name)) && !can(regex("--", var.bucket_name))
    error_message = "bucket_name must be 3-63 characters of lowercase letters, digits and single hyphens, without dots."
  }
}

variable "allowed_origins" {
  description = "Browser origins allowed by the bucket's CORS rule: the app's exact origin(s), e.g. [\"https://files.example.com\"]."
  type        = list(string)
  validation {
    condition     = length(var.allowed_origins) > 0 && alltrue([for o in var.allowed_origins : can(regex("^https://[a-z0-9.-]+(:[0-9]+)?$", o)) || can(regex("^http://localhost(:[0-9]+)?$", o))])
    error_message = "allowed_origins must be exact https:// origins (no path, no wildcard); http://localhost[:port] is allowed for SSM port forwarding in dev."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for SSE-KMS with a bucket key. null selects SSE-S3 (no KMS cost, but no key-policy control)."
  type        = string
  default     = null
}

variable "abort_incomplete_multipart_days" {
  description = "Days after which S3 aborts an unfinished multipart upload and frees its parts (the app's sweeper aborts expired uploads sooner)."
  type        = number
  default     = 1
  validation {
    condition     = var.abort_incomplete_multipart_days >= 1 && var.abort_incomplete_multipart_days <= 30
    error_message = "abort_incomplete_multipart_days must be between 1 and 30."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days a deleted or overwritten object version is kept (the recovery window after a delete)."
  type        = number
  default     = 30
  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && var.noncurrent_version_expiration_days <= 3650
    error_message = "noncurrent_version_expiration_days must be between 1 and 3650."
  }
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete a non-empty bucket. Keep false anywhere that holds real files."
  type        = bool
  default     = false
}

variable "create_logs_bucket" {
  description = "Create a second bucket receiving the files bucket's S3 server access logs, the ALB's access logs and the CloudTrail log files."
  type        = bool
  default     = false
}

variable "logs_expiration_days" {
  description = "Days access logs are kept in the logs bucket."
  type        = number
  default     = 90
  validation {
    condition     = var.logs_expiration_days >= 1 && var.logs_expiration_days <= 3650
    error_message = "logs_expiration_days must be between 1 and 3650."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "cloudtrail_name" {
  description = "Name of the CloudTrail trail allowed to write to the logs bucket (prefix cloudtrail/), or null."
  type        = string
  default     = null
}
