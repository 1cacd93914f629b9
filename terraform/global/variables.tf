variable "aws_account_id" {
  description = "The only AWS account this configuration may touch."
  type        = string
  validation {
    condition     = can(regex("^[0-9]{12}$", var.aws_account_id))
    error_message = "aws_account_id must be 12 digits."
  }
}

variable "region" {
  description = "AWS region of the ECR repository (the same as the environments')."
  type        = string
  default     = "eu-central-1"
}

variable "github_repository" {
  description = "owner/name of the GitHub repository allowed to assume the CI roles."
  type        = string
}

variable "environments" {
  description = "GitHub environments that deploy to this account."
  type        = list(string)
  default     = ["dev", "prod"]
}

variable "create_oidc_provider" {
  description = "false if the account already has the token.actions.githubusercontent.com provider."
  type        = bool
  default     = true
}

variable "state_bucket" {
  description = "Terraform state bucket (deploy/aws/bootstrap-state.sh prints it)."
  type        = string
}

variable "keep_images" {
  description = "Images kept in ECR (rollback depth)."
  type        = number
  default     = 30
}
