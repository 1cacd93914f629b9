output "bucket_name" {
  description = "Name of the files bucket (the app's S3_BUCKET)."
  value       = aws_s3_bucket.files.id
}

output "bucket_arn" {
  description = "ARN of the files bucket."
  value       = aws_s3_bucket.files.arn
}

output "kms_key_arn" {
  description = "KMS key encrypting the bucket, or null for SSE-S3."
  value       = var.kms_key_arn
}

output "logs_bucket_name" {
  description = "Name of the access-logs bucket, or null."
  value       = var.create_logs_bucket ? aws_s3_bucket.logs[0].id : null
}
