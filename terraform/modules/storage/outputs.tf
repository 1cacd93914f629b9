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

# Read through the bucket policy, and after the encryption and ownership settings: ELB and
# CloudTrail write a test object when a load balancer or trail is pointed at the bucket, and
# refuse the setting if they cannot. Whatever uses this output is therefore created after them.
output "logs_bucket_name" {
  description = "Name of the logs bucket, or null; available once log delivery can write to it."
  value       = var.create_logs_bucket ? aws_s3_bucket_policy.logs[0].bucket : null
  depends_on = [
    aws_s3_bucket_server_side_encryption_configuration.logs,
    aws_s3_bucket_ownership_controls.logs,
  ]
}
