output "alarm_topic_arn" {
  description = "SNS topic the alarms publish to (add subscriptions: e-mail, chat, pager)."
  value       = aws_sns_topic.alarms.arn
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "refresh_rollback_alarms" {
  description = "Alarms that fail and roll back an instance refresh: app 5xx rate and unhealthy targets (empty without the ALB)."
  value = concat(
    aws_cloudwatch_metric_alarm.target_5xx_rate[*].alarm_name,
    aws_cloudwatch_metric_alarm.unhealthy_hosts[*].alarm_name,
  )
}
