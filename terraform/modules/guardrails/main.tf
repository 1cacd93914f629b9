# Account-level guard rails, each optional: a CloudTrail trail and a GuardDuty detector.
# Both are one per account (and region, for GuardDuty): when dev and prod share an account,
# enable them in one environment only (the first trail's management events are free, a second
# trail's are not; a second detector cannot be created).

# Multi-region trail of management events, log files SSE-KMS encrypted with the environment's
# key and digest files for validation, into the logs bucket (prefix cloudtrail/). The bucket
# name comes from modules/storage only once its policy admits this trail, so the trail is
# created after it (CloudTrail checks the bucket policy when the trail is created). S3 only,
# no CloudWatch Logs copy: GuardDuty analyses the same events, and streaming them would add
# ingestion cost for metric filters nobody has defined yet.
resource "aws_cloudtrail" "this" {
  count                         = var.cloudtrail ? 1 : 0
  name                          = var.name
  s3_bucket_name                = var.logs_bucket_name
  s3_key_prefix                 = "cloudtrail"
  kms_key_id                    = var.kms_key_arn
  is_multi_region_trail         = true
  include_global_service_events = true
  enable_log_file_validation    = true
  enable_logging                = true
  tags                          = var.tags

  lifecycle {
    precondition {
      condition     = var.logs_bucket_name != null
      error_message = "CloudTrail needs the logs bucket (modules/storage create_logs_bucket)."
    }
  }
}

resource "aws_guardduty_detector" "this" {
  count                        = var.guardduty ? 1 : 0
  enable                       = true
  finding_publishing_frequency = "FIFTEEN_MINUTES"
  tags                         = var.tags
}
