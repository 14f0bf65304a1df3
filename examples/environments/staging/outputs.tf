output "url" {
  description = "The app, through the load balancer."
  value       = module.shop.url
}

output "web_instances" {
  description = "Web instances: zone, private IP, SSM managed node id."
  value       = module.shop.web_instances
}

output "db_primary" {
  description = "The MariaDB primary at the last refresh."
  value       = module.shop.db_primary
}

output "redis_primary" {
  description = "The Redis primary at the last refresh."
  value       = module.shop.redis_primary
}

output "db_members" {
  description = "MariaDB members: zone, private IP, role at the last refresh."
  value       = module.shop.db_members
}

output "redis_members" {
  description = "Redis members: zone, private IP, role at the last refresh."
  value       = module.shop.redis_members
}

output "start_session_command" {
  description = "Opens an audited shell (replace NODE_ID with an ssm_instance_id)."
  value       = module.shop.start_session_command
}

output "log_group_names" {
  description = "CloudWatch Logs groups of the app and of session transcripts."
  value       = module.shop.log_group_names
}

output "node_policy_json" {
  description = "Attach to the ssm_role."
  value       = module.shop.node_policy_json
}

output "operator_policy_json" {
  description = "Attach to operators' IAM principals."
  value       = module.shop.operator_policy_json
}
