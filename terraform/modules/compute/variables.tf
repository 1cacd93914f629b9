variable "name" {
  description = "Name prefix, e.g. weupload-prod (ASG, role, log groups /<name>/..., parameters /<name>/...)."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name))
    error_message = "name must be 3-31 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "vpc_id" {
  description = "VPC of the instances."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets the Auto Scaling group spreads instances over (one per AZ)."
  type        = list(string)
  validation {
    condition     = length(var.subnet_ids) >= 1
    error_message = "subnet_ids must not be empty."
  }
}

variable "assign_public_ip" {
  description = "Give instances a public IPv4 address for egress (profile without NAT). Inbound stays limited to the ALB by the security group."
  type        = bool
  default     = false
}

variable "instance_type" {
  description = "EC2 instance type (x86_64 or arm64; the AMI follows the type's architecture)."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "instance_type must look like t3.micro."
  }
}

variable "architecture" {
  description = "CPU architecture of instance_type: x86_64 or arm64. The image must be built for it (release.yml builds linux/amd64 and linux/arm64)."
  type        = string
  default     = "x86_64"
  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "cpu_credits" {
  description = "Burstable (T) instances: standard (never billed for bursts; free-tier safe) or unlimited."
  type        = string
  default     = "standard"
  validation {
    condition     = contains(["standard", "unlimited"], var.cpu_credits)
    error_message = "cpu_credits must be standard or unlimited."
  }
}

variable "ami_id" {
  description = "AMI to use; null follows the latest Amazon Linux 2023 (via the public SSM parameter) on each apply."
  type        = string
  default     = null
}

variable "root_volume_gb" {
  description = "Root EBS volume (gp3, encrypted) in GiB."
  type        = number
  default     = 20
  validation {
    condition     = var.root_volume_gb >= 8 && var.root_volume_gb <= 200
    error_message = "root_volume_gb must be between 8 and 200."
  }
}

variable "min_size" {
  description = "Minimum instances (1 in the free-tier profile, >= 2 across AZs in the scale-out profile)."
  type        = number
  validation {
    condition     = var.min_size >= 1
    error_message = "min_size must be at least 1."
  }
}

variable "max_size" {
  description = "Maximum instances (instance refresh launches before terminating, so keep room: max >= min + 1)."
  type        = number
}

variable "cpu_target_percent" {
  description = "Target-tracking scaling on average CPU; 0 disables scaling policies."
  type        = number
  default     = 0
  validation {
    condition     = var.cpu_target_percent == 0 || (var.cpu_target_percent >= 20 && var.cpu_target_percent <= 90)
    error_message = "cpu_target_percent must be 0 or between 20 and 90."
  }
}

variable "alb_security_group_id" {
  description = "Security group of the ALB (the only source allowed to reach port 8080); null when there is no ALB."
  type        = string
  default     = null
}

variable "target_group_arns" {
  description = "ALB target groups to register the instances with."
  type        = list(string)
  default     = []
}

variable "database_security_group_id" {
  description = "Security group of the database (egress 5432 is allowed to it only)."
  type        = string
}

variable "bucket_arn" {
  description = "ARN of the files bucket."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key of the bucket and the secrets."
  type        = string
}

variable "ecr_repository_arn" {
  description = "ECR repository the instances pull from."
  type        = string
}

variable "ecr_repository_url" {
  description = "ECR repository URL (account.dkr.ecr.region.amazonaws.com/name)."
  type        = string
}

variable "initial_image_tag" {
  description = "Value of the image-tag parameter when it is first created. The deploy workflow owns it afterwards (Terraform ignores later changes). none = no app until the first deploy."
  type        = string
  default     = "none"
}

variable "app_environment" {
  description = "Non-secret environment of the container (KEY => value). DATABASE_URL and LINK_KEY are added at boot from Secrets Manager."
  type        = map(string)
  validation {
    condition     = alltrue([for k in keys(var.app_environment) : can(regex("^[A-Z][A-Z0-9_]*$", k)) && !contains(["DATABASE_URL", "LINK_KEY", "LINK_KEY_PREVIOUS"], k)])
    error_message = "app_environment keys must be UPPER_SNAKE_CASE, and DATABASE_URL, LINK_KEY and LINK_KEY_PREVIOUS must not be set here (they are secrets)."
  }
}

variable "database" {
  description = "Where the app's database is and which secrets hold its credentials."
  type = object({
    host           = string
    port           = number
    name           = string
    app_user       = string
    app_secret_arn = string
  })
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the instance and app metrics, e.g. WeUpload/prod."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the app, boot and metrics log groups."
  type        = number
  default     = 30
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention value (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary attached to the instance role (required when Terraform runs as the GitHub apply role)."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "link_key_recovery_days" {
  description = "Recovery window of the LINK_KEY secret after deletion (0 deletes at once). Losing the key leaves links working but no longer shown to their owners."
  type        = number
  default     = 30
  validation {
    condition     = var.link_key_recovery_days == 0 || (var.link_key_recovery_days >= 7 && var.link_key_recovery_days <= 30)
    error_message = "link_key_recovery_days must be 0 or between 7 and 30."
  }
}

variable "refresh_rollback_alarms" {
  description = "CloudWatch alarm names that fail (and roll back) an instance refresh started by Terraform when they go off during it."
  type        = list(string)
  default     = []
}
