variable "name" {
  description = "Name prefix for every resource, e.g. weupload-prod."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name))
    error_message = "name must be 3-31 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "cidr_block" {
  description = "IPv4 CIDR of the VPC. Split into /20 subnets: public, private (app) and database, one of each per AZ."
  type        = string
  validation {
    condition     = can(cidrnetmask(var.cidr_block)) && tonumber(split("/", var.cidr_block)[1]) >= 16 && tonumber(split("/", var.cidr_block)[1]) <= 18
    error_message = "cidr_block must be a valid IPv4 CIDR between /16 and /18 (room for six /20..22 subnets)."
  }
}

variable "az_count" {
  description = "Number of availability zones to spread subnets over. RDS subnet groups need at least two, even for a single-AZ database."
  type        = number
  default     = 2
  validation {
    condition     = var.az_count >= 2 && var.az_count <= 3
    error_message = "az_count must be 2 or 3."
  }
}

variable "nat_gateway_mode" {
  description = "none: no NAT; app instances run in the public subnets with a public IPv4 address and a security group that admits only the ALB (free-tier profile). single: one NAT gateway shared by all AZs. per_az: one NAT gateway per AZ (no cross-AZ dependency)."
  type        = string
  default     = "none"
  validation {
    condition     = contains(["none", "single", "per_az"], var.nat_gateway_mode)
    error_message = "nat_gateway_mode must be one of none, single, per_az."
  }
}

variable "flow_logs_retention_days" {
  description = "Retention of the VPC flow log group (REJECT records only). 0 disables flow logs (saves CloudWatch ingestion in dev)."
  type        = number
  default     = 0
  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_logs_retention_days)
    error_message = "flow_logs_retention_days must be 0 (disabled) or a CloudWatch Logs retention value (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the flow log group."
  type        = string
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary attached to the flow-logs role (required when Terraform runs as the GitHub apply role)."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource (the provider's default_tags carry the common ones)."
  type        = map(string)
  default     = {}
}
