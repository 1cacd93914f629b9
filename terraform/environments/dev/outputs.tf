output "base_url" {
  description = "URL of the service."
  value       = module.weupload.base_url
}

output "alb_dns_name" {
  description = "DNS name of the ALB."
  value       = module.weupload.alb_dns_name
}

output "autoscaling_group_name" {
  description = "Auto Scaling group (deploy.yml refreshes it)."
  value       = module.weupload.autoscaling_group_name
}

output "image_tag_parameter" {
  description = "SSM parameter holding the deployed image tag."
  value       = module.weupload.image_tag_parameter
}

output "files_bucket" {
  description = "Files bucket."
  value       = module.weupload.files_bucket
}

output "database_address" {
  description = "RDS endpoint."
  value       = module.weupload.database_address
}

output "alarm_topic_arn" {
  description = "SNS topic of the alarms."
  value       = module.weupload.alarm_topic_arn
}

output "dashboard" {
  description = "CloudWatch dashboard."
  value       = module.weupload.dashboard
}
