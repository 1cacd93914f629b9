variable "repository_name" {
  description = "Name of the ECR repository."
  type        = string
  default     = "weupload"
  validation {
    condition     = can(regex("^[a-z0-9]+([._/-][a-z0-9]+)*$", var.repository_name))
    error_message = "repository_name must be a valid ECR repository name (lowercase)."
  }
}

variable "keep_images" {
  description = "Number of never-deployed images kept (older ones expire). Images tagged deployed-<env>-<sha> by deploy.sh are always kept."
  type        = number
  default     = 30
  validation {
    condition     = var.keep_images >= 5 && var.keep_images <= 1000
    error_message = "keep_images must be between 5 and 1000 (keep enough to roll back)."
  }
}

variable "untagged_expire_days" {
  description = "Days after which untagged images (e.g. platform manifests of deleted indexes) expire."
  type        = number
  default     = 7
  validation {
    condition     = var.untagged_expire_days >= 1
    error_message = "untagged_expire_days must be at least 1."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
