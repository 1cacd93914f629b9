provider "aws" {
  region              = var.region
  allowed_account_ids = [var.aws_account_id]

  default_tags {
    tags = {
      Application = "weupload"
      Environment = "dev"
      ManagedBy   = "terraform"
      Repository  = var.github_repository
    }
  }
}
