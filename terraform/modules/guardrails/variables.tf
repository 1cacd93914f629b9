variable "name" {
  description = "Name prefix, e.g. weupload-prod (the trail's name)."
  type        = string
}

variable "cloudtrail" {
  description = "Create a multi-region CloudTrail trail into the logs bucket."
  type        = bool
  default     = false
}

variable "guardduty" {
  description = "Enable a GuardDuty detector in this region."
  type        = bool
  default     = false
}

variable "logs_bucket_name" {
  description = "Logs bucket whose policy admits the trail (modules/storage output logs_bucket_name)."
  type        = string
  default     = null
}

variable "kms_key_arn" {
  description = "KMS key whose policy lets this trail encrypt its log files (modules/kms cloudtrail_name)."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
