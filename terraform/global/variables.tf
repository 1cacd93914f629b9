variable "aws_account_id" {
  description = "The only AWS account this configuration may touch: the account of var.environments (with one account per environment, each account has its own copy of this root's tfvars and state)."
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
  description = "The environments this account hosts (GitHub environments of the same names): each gets apply and deploy roles scoped to its own resources. Recommended: one account per environment, so [\"prod\"] in the prod account; [\"dev\", \"prod\"] when both share one account (docs/deploy.md, accounts)."
  type        = list(string)
  default     = ["dev", "prod"]
}

variable "environment_domains" {
  description = "Per hosted environment, the DNS name of its records (its domain_name), e.g. { prod = \"files.example.com\" }: the apply role may change only that name and its certificate validation records in Route 53."
  type        = map(string)
  default     = {}
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
  description = "Never-deployed images kept in ECR besides every image an environment ran (those, tagged deployed-ENV-SHA by the deploy, are never expired)."
  type        = number
  default     = 30
}
