output "address" {
  description = "Hostname of the database endpoint."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "Port of the database endpoint."
  value       = aws_db_instance.this.port
}

output "db_name" {
  description = "Database name."
  value       = aws_db_instance.this.db_name
}

output "app_username" {
  description = "PostgreSQL role the app connects as."
  value       = "weupload"
}

output "master_username" {
  description = "Master user (bootstrap only)."
  value       = aws_db_instance.this.username
}

output "master_secret_arn" {
  description = "Secrets Manager secret of the master user, managed and rotated by RDS."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}

output "app_secret_arn" {
  description = "Secrets Manager secret holding the app role's password."
  value       = aws_secretsmanager_secret.app.arn
}

output "security_group_id" {
  description = "Security group of the database."
  value       = aws_security_group.db.id
}

output "instance_identifier" {
  description = "RDS instance identifier (CloudWatch dimension DBInstanceIdentifier)."
  value       = aws_db_instance.this.identifier
}

output "allocated_storage_gb" {
  description = "Allocated storage, for the free-storage alarm threshold."
  value       = aws_db_instance.this.allocated_storage
}
