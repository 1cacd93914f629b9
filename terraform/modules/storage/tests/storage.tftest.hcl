# terraform test (run in GitHub Actions: needs the AWS provider schema, no credentials).
mock_provider "aws" {}

variables {
  bucket_name     = "weupload-test-files-123456789012"
  allowed_origins = ["https://files.example.com"]
  kms_key_arn     = "arn:aws:kms:eu-central-1:123456789012:key/00000000-0000-0000-0000-000000000000"
}

run "bucket_is_private_and_encrypted" {
  command = plan

  assert {
    condition = alltrue([
      aws_s3_bucket_public_access_block.files.block_public_acls,
      aws_s3_bucket_public_access_block.files.block_public_policy,
      aws_s3_bucket_public_access_block.files.ignore_public_acls,
      aws_s3_bucket_public_access_block.files.restrict_public_buckets,
    ])
    error_message = "All four Block Public Access settings must be on."
  }
  assert {
    condition     = aws_s3_bucket_ownership_controls.files.rule[0].object_ownership == "BucketOwnerEnforced"
    error_message = "ACLs must be disabled (BucketOwnerEnforced)."
  }
  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.files.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "aws:kms"
    error_message = "With a KMS key, the bucket uses SSE-KMS."
  }
  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.files.rule).bucket_key_enabled
    error_message = "SSE-KMS uses a bucket key."
  }
  assert {
    condition     = aws_s3_bucket_versioning.files.versioning_configuration[0].status == "Enabled"
    error_message = "Versioning must be enabled."
  }
}

run "cors_for_the_app_origin_only" {
  command = plan

  assert {
    condition     = one(aws_s3_bucket_cors_configuration.files.cors_rule).allowed_origins == toset(["https://files.example.com"])
    error_message = "CORS must allow exactly the app's origin."
  }
  assert {
    condition     = one(aws_s3_bucket_cors_configuration.files.cors_rule).allowed_methods == toset(["PUT", "GET", "HEAD"])
    error_message = "CORS allows PUT, GET and HEAD only."
  }
  assert {
    condition     = contains(one(aws_s3_bucket_cors_configuration.files.cors_rule).expose_headers, "ETag")
    error_message = "ETag must be exposed (multipart completion needs it)."
  }
}

run "lifecycle_aborts_multipart_after_one_day" {
  command = plan

  assert {
    condition     = [for r in aws_s3_bucket_lifecycle_configuration.files.rule : r.abort_incomplete_multipart_upload[0].days_after_initiation if r.id == "abort-incomplete-multipart-uploads"] == [1]
    error_message = "Incomplete multipart uploads must be aborted after 1 day."
  }
}

run "sse_s3_without_a_key" {
  command = plan
  variables {
    kms_key_arn = null
  }
  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.files.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "AES256"
    error_message = "Without a key, the bucket uses SSE-S3."
  }
}

run "wildcard_origin_rejected" {
  command = plan
  variables {
    allowed_origins = ["*"]
  }
  expect_failures = [var.allowed_origins]
}
