output "autoscaling_group_name" {
  description = "Name of the Auto Scaling group (the deploy workflow refreshes it)."
  value       = aws_autoscaling_group.app.name
}

output "autoscaling_group_arn" {
  description = "ARN of the Auto Scaling group."
  value       = aws_autoscaling_group.app.arn
}

output "security_group_id" {
  description = "Security group of the app instances."
  value       = aws_security_group.app.id
}

output "instance_role_arn" {
  description = "ARN of the instance role (the identity that signs presigned S3 URLs)."
  value       = aws_iam_role.app.arn
}

output "instance_role_name" {
  description = "Name of the instance role."
  value       = aws_iam_role.app.name
}

output "image_tag_parameter" {
  description = "SSM parameter holding the image tag the instances run."
  value       = aws_ssm_parameter.image_tag.name
}

output "image_tag_parameter_arn" {
  description = "ARN of the image-tag parameter."
  value       = aws_ssm_parameter.image_tag.arn
}

output "app_env_parameter" {
  description = "SSM parameter holding the container environment."
  value       = aws_ssm_parameter.app_env.name
}

output "app_log_group" {
  description = "CloudWatch log group of the container's output."
  value       = aws_cloudwatch_log_group.app.name
}

output "launch_template_id" {
  description = "ID of the launch template."
  value       = aws_launch_template.app.id
}
