output "base_url" {
  description = "URL of the service (BASE_URL)."
  value       = local.base_url
}

output "alb_dns_name" {
  description = "DNS name of the ALB (point domain_name at it if Route 53 is not managed here)."
  value       = var.enable_alb ? module.alb[0].dns_name : null
}

output "autoscaling_group_name" {
  description = "Auto Scaling group of the app."
  value       = module.compute.autoscaling_group_name
}

output "target_group_arn" {
  description = "Target group of the app."
  value       = var.enable_alb ? module.alb[0].target_group_arn : null
}

output "image_tag_parameter" {
  description = "SSM parameter with the image tag being run."
  value       = module.compute.image_tag_parameter
}

output "files_bucket" {
  description = "Files bucket."
  value       = module.storage.bucket_name
}

output "database_address" {
  description = "RDS endpoint hostname."
  value       = module.database.address
}

output "database_app_secret_arn" {
  description = "Secret holding the app's database password."
  value       = module.database.app_secret_arn
}

output "alarm_topic_arn" {
  description = "SNS topic of the alarms."
  value       = module.monitoring.alarm_topic_arn
}

output "dashboard" {
  description = "CloudWatch dashboard name."
  value       = module.monitoring.dashboard_name
}

output "nat_public_ips" {
  description = "Egress IPs (scale-out profile)."
  value       = module.network.nat_public_ips
}

output "web_acl_arn" {
  description = "WAF web ACL on the ALB, or null."
  value       = var.enable_alb ? module.alb[0].web_acl_arn : null
}

output "trail_arn" {
  description = "CloudTrail trail, or null."
  value       = module.guardrails.trail_arn
}
