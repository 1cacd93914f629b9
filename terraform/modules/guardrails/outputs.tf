output "trail_arn" {
  description = "ARN of the CloudTrail trail, or null."
  value       = var.cloudtrail ? aws_cloudtrail.this[0].arn : null
}

output "guardduty_detector_id" {
  description = "ID of the GuardDuty detector, or null."
  value       = var.guardduty ? aws_guardduty_detector.this[0].id : null
}
