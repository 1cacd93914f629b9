# The files bucket. Browsers PUT and GET objects here directly with presigned URLs made by the
# app's instance role; nothing else is public. See SECURITY.md "Presigned URLs on S3".

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  logs_count = var.create_logs_bucket ? 1 : 0
  trail_arn  = var.cloudtrail_name == null ? null : "arn:${data.aws_partition.current.partition}:cloudtrail:${data.aws_region.current.region}:${local.account_id}:trail/${var.cloudtrail_name}"
}

resource "aws_s3_bucket" "files" {
  bucket        = var.bucket_name
  force_destroy = var.force_destroy
  tags          = merge(var.tags, { Name = var.bucket_name, DataClass = "user-content" })
}

resource "aws_s3_bucket_ownership_controls" "files" {
  bucket = aws_s3_bucket.files.id
  rule {
    object_ownership = "BucketOwnerEnforced" # ACLs disabled
  }
}

resource "aws_s3_bucket_public_access_block" "files" {
  bucket                  = aws_s3_bucket.files.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "files" {
  bucket = aws_s3_bucket.files.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "files" {
  bucket = aws_s3_bucket.files.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = var.kms_key_arn != null
  }
}

data "aws_iam_policy_document" "files" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.files.arn,
      "${aws_s3_bucket.files.arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid     = "DenyOutdatedTLS"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.files.arn,
      "${aws_s3_bucket.files.arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "NumericLessThan"
      variable = "s3:TlsVersion"
      values   = ["1.2"]
    }
  }
}

resource "aws_s3_bucket_policy" "files" {
  bucket = aws_s3_bucket.files.id
  policy = data.aws_iam_policy_document.files.json
  # The public access block must exist first, or a policy change could briefly be evaluated
  # without it.
  depends_on = [aws_s3_bucket_public_access_block.files]
}

# Same rule the app's `weupload storage init` writes in compose: the app's origin only; PUT for
# uploads (single and multipart parts), GET/HEAD for downloads; ETag exposed because the upload
# script sends each part's ETag to /complete. Any request header is allowed: the signature, not
# CORS, decides which headers a URL accepts.
resource "aws_s3_bucket_cors_configuration" "files" {
  bucket = aws_s3_bucket.files.id
  cors_rule {
    allowed_methods = ["PUT", "GET", "HEAD"]
    allowed_origins = var.allowed_origins
    allowed_headers = ["*"]
    expose_headers  = ["ETag"]
    max_age_seconds = 3600
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "files" {
  bucket = aws_s3_bucket.files.id

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_days
    }
  }

  rule {
    id     = "expire-noncurrent-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }
    expiration {
      expired_object_delete_marker = true
    }
  }

  depends_on = [aws_s3_bucket_versioning.files]
}

resource "aws_s3_bucket_logging" "files" {
  count         = local.logs_count
  bucket        = aws_s3_bucket.files.id
  target_bucket = aws_s3_bucket.logs[0].id
  target_prefix = "s3/${var.bucket_name}/"
  target_object_key_format {
    partitioned_prefix {
      partition_date_source = "EventTime"
    }
  }
}

# ---------------------------------------------------------------------------------------------
# Logs bucket (optional): S3 server access logs of the files bucket, ALB access logs and the
# CloudTrail trail's log files (those are SSE-KMS encrypted by CloudTrail itself).
# ---------------------------------------------------------------------------------------------

#tfsec:ignore:aws-s3-enable-bucket-logging Access logs of the access-log bucket would log themselves recursively; CloudTrail records its management events.
resource "aws_s3_bucket" "logs" {
  count         = local.logs_count
  bucket        = "${var.bucket_name}-logs"
  force_destroy = var.force_destroy
  tags          = merge(var.tags, { Name = "${var.bucket_name}-logs", DataClass = "logs" })
}

resource "aws_s3_bucket_ownership_controls" "logs" {
  count  = local.logs_count
  bucket = aws_s3_bucket.logs[0].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "logs" {
  count                   = local.logs_count
  bucket                  = aws_s3_bucket.logs[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "logs" {
  count  = local.logs_count
  bucket = aws_s3_bucket.logs[0].id
  versioning_configuration {
    status = "Enabled"
  }
}

# Elastic Load Balancing delivers access logs only to buckets encrypted with SSE-S3 (AES256);
# SSE-KMS makes delivery fail silently. tfsec's rule exempts log buckets only in their legacy
# ACL form (log-delivery-write), which BucketOwnerEnforced replaces.
#tfsec:ignore:aws-s3-encryption-customer-key ALB access-log delivery supports only SSE-S3 (AWS requirement); the bucket holds request metadata, not user files.
resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  count  = local.logs_count
  bucket = aws_s3_bucket.logs[0].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  count  = local.logs_count
  bucket = aws_s3_bucket.logs[0].id
  rule {
    id     = "expire-logs"
    status = "Enabled"
    filter {}
    expiration {
      days = var.logs_expiration_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
  depends_on = [aws_s3_bucket_versioning.logs]
}

data "aws_elb_service_account" "this" {
  count = local.logs_count
}

data "aws_iam_policy_document" "logs" {
  count = local.logs_count

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.logs[0].arn,
      "${aws_s3_bucket.logs[0].arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  # ALB access logs. Regions launched after August 2022 use the log-delivery service principal;
  # older ones the regional ELB account. Both are granted, each limited to this account's prefix.
  statement {
    sid       = "ALBAccessLogsServicePrincipal"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs[0].arn}/alb/AWSLogs/${local.account_id}/*"]
    principals {
      type        = "Service"
      identifiers = ["logdelivery.elasticloadbalancing.amazonaws.com"]
    }
  }

  statement {
    sid       = "ALBAccessLogsRegionalAccount"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs[0].arn}/alb/AWSLogs/${local.account_id}/*"]
    principals {
      type        = "AWS"
      identifiers = [data.aws_elb_service_account.this[0].arn]
    }
  }

  statement {
    sid       = "S3ServerAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs[0].arn}/s3/*"]
    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [aws_s3_bucket.files.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  # CloudTrail checks the bucket's ACL, then writes under cloudtrail/; only this trail.
  dynamic "statement" {
    for_each = local.trail_arn == null ? [] : [
      { sid = "CloudTrailAclCheck", actions = ["s3:GetBucketAcl"], resource = aws_s3_bucket.logs[0].arn },
      { sid = "CloudTrailWrite", actions = ["s3:PutObject"], resource = "${aws_s3_bucket.logs[0].arn}/cloudtrail/AWSLogs/${local.account_id}/*" },
    ]
    content {
      sid       = statement.value.sid
      actions   = statement.value.actions
      resources = [statement.value.resource]
      principals {
        type        = "Service"
        identifiers = ["cloudtrail.amazonaws.com"]
      }
      condition {
        test     = "StringEquals"
        variable = "aws:SourceArn"
        values   = [local.trail_arn]
      }
    }
  }
}

resource "aws_s3_bucket_policy" "logs" {
  count      = local.logs_count
  bucket     = aws_s3_bucket.logs[0].id
  policy     = data.aws_iam_policy_document.logs[0].json
  depends_on = [aws_s3_bucket_public_access_block.logs]
}
