output "ecr_repository_url" {
  description = "Repository variable ECR_REPOSITORY is its name; this is the full URL."
  value       = module.ecr.repository_url
}

output "github_variables" {
  description = "Values for the GitHub repository and environment variables (docs/deploy.md step 3)."
  value = {
    repository = {
      AWS_REGION       = var.region
      TF_STATE_BUCKET  = var.state_bucket
      ECR_REPOSITORY   = module.ecr.repository_name
      AWS_ROLE_PLAN    = module.github_oidc.plan_role_arn
      AWS_ROLE_PLAN_PR = module.github_oidc.plan_pr_role_arn
      AWS_ROLE_RELEASE = module.github_oidc.release_role_arn
    }
    environments = {
      for e in var.environments : e => {
        AWS_ROLE_APPLY  = module.github_oidc.apply_role_arns[e]
        AWS_ROLE_DEPLOY = module.github_oidc.deploy_role_arns[e]
      }
    }
  }
}

output "permissions_boundary_arn" {
  description = "Boundary attached to workload roles."
  value       = aws_iam_policy.boundary.arn
}
