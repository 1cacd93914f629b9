variable "name" {
  description = "Name prefix, e.g. weupload-prod. The key alias is alias/<name>; CloudWatch log groups under /<name>/ may use the key."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name))
    error_message = "name must be 3-31 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "deletion_window_in_days" {
  description = "Waiting period before a scheduled key deletion takes effect."
  type        = number
  default     = 30
  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "deletion_window_in_days must be between 7 and 30."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "cloudtrail_name" {
  description = "Name of this environment's CloudTrail trail that may encrypt its log files with the key, or null."
  type        = string
  default     = null
}
