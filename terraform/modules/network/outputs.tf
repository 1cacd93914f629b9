output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "CIDR of the VPC (the app's TRUSTED_PROXIES: the ALB's addresses are in it)."
  value       = aws_vpc.this.cidr_block
}

output "azs" {
  description = "Availability zones in use."
  value       = local.azs
}

output "public_subnet_ids" {
  description = "Public subnets (ALB; app instances when there is no NAT)."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "Private subnets with a NAT route (app instances in the scale-out profile)."
  value       = aws_subnet.private[*].id
}

output "database_subnet_ids" {
  description = "Isolated subnets for RDS."
  value       = aws_subnet.database[*].id
}

output "app_subnet_ids" {
  description = "Where the app instances belong: private subnets when NAT exists, else public ones."
  value       = local.nat_count > 0 ? aws_subnet.private[*].id : aws_subnet.public[*].id
}

output "app_needs_public_ip" {
  description = "True when app instances need a public IPv4 address for egress (no NAT)."
  value       = local.nat_count == 0
}

output "nat_public_ips" {
  description = "Elastic IPs of the NAT gateways (egress addresses in the scale-out profile)."
  value       = aws_eip.nat[*].public_ip
}
