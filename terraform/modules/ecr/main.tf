# One repository for every environment: release.yml pushes an image once (tag = commit SHA) and
# dev and prod deploy that same, scanned image. Tags are immutable, so a tag names one build.

#tfsec:ignore:aws-ecr-repository-customer-key Images hold no secrets and ECR encrypts layers at rest with AES-256; a customer key would add $1/month and key-policy grants for every puller without changing the threat model.
resource "aws_ecr_repository" "this" {
  name                 = var.repository_name
  image_tag_mutability = "IMMUTABLE"
  force_delete         = false

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "AES256"
  }

  tags = merge(var.tags, { Name = var.repository_name })
}

# Retention. ECR applies the rules in priority order and an image matched by a rule's tag
# selection is never expired by a lower-priority rule, so:
#   1. every image an environment has deployed (deploy/aws/deploy.sh tags it
#      deployed-<env>-<sha> before its instance refresh) is kept: prod may lag dev by any
#      number of releases and must still be able to run, relaunch and roll back to its image.
#      A count rule with a count no repository reaches is ECR's way to say "keep".
#   2. untagged manifests (platform manifests of deleted indexes) expire after some days;
#   3. of the rest, images built but never deployed, the newest keep_images stay.
# tfpolicy's "ecr" check replays these rules for a deployed image.
resource "aws_ecr_lifecycle_policy" "this" {
  repository = aws_ecr_repository.this.name
  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Keep every image an environment has deployed"
        selection = {
          tagStatus     = "tagged"
          tagPrefixList = ["deployed-"] # written by deploy.sh, not configurable
          countType     = "imageCountMoreThan"
          countNumber   = 10000
        }
        action = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "Expire untagged images after ${var.untagged_expire_days} days"
        selection = {
          tagStatus   = "untagged"
          countType   = "sinceImagePushed"
          countUnit   = "days"
          countNumber = var.untagged_expire_days
        }
        action = { type = "expire" }
      },
      {
        rulePriority = 3
        description  = "Keep the last ${var.keep_images} images never deployed"
        selection = {
          tagStatus   = "any"
          countType   = "imageCountMoreThan"
          countNumber = var.keep_images
        }
        action = { type = "expire" }
      },
    ]
  })
}
