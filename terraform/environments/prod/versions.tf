terraform {
  # 1.11+: S3 backend native locking (use_lockfile) and cross-variable validation.
  required_version = ">= 1.11.0, < 2.0.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Any 6.x; the exact version and its checksums are pinned by .terraform.lock.hcl
      # (committed, see docs/deploy.md "Provider lock files").
      version = "~> 6.0"
    }
  }

  # Partial configuration: bucket and region come from -backend-config (backend.hcl, or the
  # TF_STATE_BUCKET / AWS_REGION variables in GitHub Actions), since the bucket name carries
  # the account ID.
  backend "s3" {
    key          = "weupload/prod/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}
