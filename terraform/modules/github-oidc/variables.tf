variable "github_repository" {
  description = "Repository allowed to assume the roles, as owner/name."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must look like owner/name."
  }
}

variable "environments" {
  description = "GitHub environments (= deployment environments) that get an apply role and a deploy role each."
  type        = list(string)
  default     = ["dev", "prod"]
  validation {
    condition     = length(var.environments) > 0 && alltrue([for e in var.environments : can(regex("^[a-z][a-z0-9-]{1,15}$", e))])
    error_message = "environments must be short lowercase names such as dev and prod."
  }
}

variable "create_oidc_provider" {
  description = "Create the account's GitHub OIDC provider (false if the account already has one)."
  type        = bool
  default     = true
}

variable "name_prefix" {
  description = "Prefix of role names and of the per-environment resource names (weupload -> weupload-dev-...)."
  type        = string
  default     = "weupload"
}

variable "state_bucket" {
  description = "S3 bucket holding the Terraform state (created by deploy/aws/bootstrap-state.sh)."
  type        = string
}

variable "ecr_repository_arn" {
  description = "Repository the release workflow pushes to."
  type        = string
}

variable "permissions_boundary_arn" {
  description = "Boundary every role created by the apply roles must carry (prevents privilege escalation through IAM)."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "environment_domains" {
  description = "Per environment, the DNS name its records use (e.g. { dev = \"dev.files.example.com\" }): its apply role may change only that name and its _*.name validation records in Route 53. Environments without an entry may change no record."
  type        = map(string)
  default     = {}
  validation {
    condition     = alltrue([for e in keys(var.environment_domains) : contains(var.environments, e)])
    error_message = "environment_domains may name only environments of var.environments."
  }
}
