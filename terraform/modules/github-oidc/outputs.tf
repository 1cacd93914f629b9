output "oidc_provider_arn" {
  description = "ARN of the GitHub OIDC provider."
  value       = local.provider_arn
}

output "plan_role_arn" {
  description = "Repository variable AWS_ROLE_PLAN (plans on main)."
  value       = aws_iam_role.plan.arn
}

output "plan_pr_role_arn" {
  description = "Repository variable AWS_ROLE_PLAN_PR (plans of pull requests)."
  value       = aws_iam_role.plan_pr.arn
}

output "release_role_arn" {
  description = "Repository variable AWS_ROLE_RELEASE."
  value       = aws_iam_role.release.arn
}

output "apply_role_arns" {
  description = "Environment variable AWS_ROLE_APPLY, per GitHub environment."
  value       = { for e, r in aws_iam_role.apply : e => r.arn }
}

output "deploy_role_arns" {
  description = "Environment variable AWS_ROLE_DEPLOY, per GitHub environment."
  value       = { for e, r in aws_iam_role.deploy : e => r.arn }
}
