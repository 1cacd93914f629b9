variable "domain_name" {
  description = "Fully qualified name of the service, e.g. files.example.com."
  type        = string
  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain_name))
    error_message = "domain_name must be a lowercase fully qualified domain name."
  }
}

variable "zone_id" {
  description = "Route 53 public hosted zone that contains domain_name."
  type        = string
}

variable "create_alias" {
  description = "Create the alias A record to the load balancer (false: certificate only)."
  type        = bool
  default     = true
}

variable "alb_dns_name" {
  description = "DNS name of the load balancer (when create_alias)."
  type        = string
  default     = null
}

variable "alb_zone_id" {
  description = "Hosted zone ID of the load balancer."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
