variable "name" {
  description = "Name prefix, e.g. weupload-prod (also the RDS identifier)."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name))
    error_message = "name must be 3-31 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "vpc_id" {
  description = "VPC of the database."
  type        = string
}

variable "subnet_ids" {
  description = "Isolated database subnets, at least two AZs (RDS requires it even for single-AZ)."
  type        = list(string)
  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids must list at least two subnets in different AZs."
  }
}

variable "app_security_group_id" {
  description = "Security group of the app instances: the only source allowed to connect on 5432."
  type        = string
}

variable "engine_version" {
  description = "PostgreSQL major (or major.minor) version. With a major only, RDS picks the default minor and applies minor upgrades in the maintenance window."
  type        = string
  default     = "18"
  validation {
    condition     = can(regex("^1[6-9](\\.[0-9]+)?$", var.engine_version))
    error_message = "engine_version must be a PostgreSQL version from 16 upwards, e.g. 18 or 18.1."
  }
}

variable "instance_class" {
  description = "RDS instance class. db.t4g.micro / db.t3.micro are free-tier eligible (single-AZ)."
  type        = string
  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.instance_class))
    error_message = "instance_class must look like db.t4g.micro."
  }
}

variable "allocated_storage_gb" {
  description = "Initial gp3 storage in GiB (20 is the minimum and the free-tier allowance)."
  type        = number
  default     = 20
  validation {
    condition     = var.allocated_storage_gb >= 20 && var.allocated_storage_gb <= 65536
    error_message = "allocated_storage_gb must be between 20 and 65536."
  }
}

variable "max_allocated_storage_gb" {
  description = "Upper bound for storage autoscaling in GiB; 0 disables autoscaling (keeps dev inside the free tier)."
  type        = number
  default     = 0
  validation {
    condition     = var.max_allocated_storage_gb == 0 || (var.max_allocated_storage_gb >= 20 && var.max_allocated_storage_gb <= 65536)
    error_message = "max_allocated_storage_gb must be 0 or between 20 and 65536."
  }
}

variable "multi_az" {
  description = "Synchronous standby in a second AZ with automatic failover (doubles the instance cost)."
  type        = bool
  default     = false
}

variable "backup_retention_days" {
  description = "Automated backup (PITR) retention in days."
  type        = number
  default     = 7
  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be between 1 and 35 (0 would disable backups)."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete the instance (turn off explicitly before a deliberate destroy)."
  type        = bool
  default     = true
}

variable "final_snapshot" {
  description = "Take a final snapshot when the instance is deleted."
  type        = bool
  default     = true
}

variable "performance_insights" {
  description = "Enable Performance Insights (7-day retention is free; not offered on some micro classes)."
  type        = bool
  default     = false
}

variable "log_exports" {
  description = "RDS logs exported to CloudWatch Logs (ingestion is billed)."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for l in var.log_exports : contains(["postgresql", "upgrade", "iam-db-auth-error"], l)])
    error_message = "log_exports may contain postgresql, upgrade, iam-db-auth-error."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for storage, Performance Insights and the secrets."
  type        = string
}

variable "secret_recovery_days" {
  description = "Recovery window of the app's DB secret after deletion (0 deletes at once)."
  type        = number
  default     = 7
  validation {
    condition     = var.secret_recovery_days == 0 || (var.secret_recovery_days >= 7 && var.secret_recovery_days <= 30)
    error_message = "secret_recovery_days must be 0 or between 7 and 30."
  }
}

variable "apply_immediately" {
  description = "Apply modifications now instead of in the maintenance window (may restart the database)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
