output "certificate_arn" {
  description = "ARN of the validated certificate (use it only after validation)."
  value       = aws_acm_certificate_validation.this.certificate_arn
}

output "fqdn" {
  description = "Name the service answers on."
  value       = var.domain_name
}
