output "url" {
  description = "The app, through the load balancer (HTTP)."
  value       = "http://${hastack_lightsail_load_balancer.web.dns_name}/"
}

output "load_balancer_dns_name" {
  description = "The load balancer's DNS name."
  value       = hastack_lightsail_load_balancer.web.dns_name
}

output "web_instances" {
  description = "Each web instance's zone, private IP and SSM managed node id (the target of `aws ssm start-session`)."
  value = {
    for i in hastack_lightsail_ha_instance.web.instances : i.name => {
      zone            = i.zone
      private_ip      = i.private_ip
      ssm_instance_id = i.ssm_instance_id
    }
  }
}

output "instance_health" {
  description = "Each web instance's health as the load balancer last reported it."
  value       = hastack_lightsail_lb_attachment.web.instance_health
}

output "db_primary" {
  description = "The MariaDB member holding the leader lease at the last refresh (failover moves it without Terraform)."
  value       = hastack_mysql_replica_set.db.current_primary
}

output "db_members" {
  description = "The MariaDB members: zone, private IP and role at the last refresh."
  value       = { for m in hastack_mysql_replica_set.db.members : m.name => { zone = m.zone, private_ip = m.private_ip, role = m.role } }
}

output "redis_primary" {
  description = "The Redis member that was primary at the last refresh, as Sentinel reported it."
  value       = hastack_redis_replica_group.cache.current_primary
}

output "redis_members" {
  description = "The Redis members: zone, private IP and role at the last refresh."
  value       = { for m in hastack_redis_replica_group.cache.members : m.name => { zone = m.zone, private_ip = m.private_ip, role = m.role } }
}

output "db_writer_endpoint" {
  description = "Where the web instances write (the sidecar on each instance routes to the primary)."
  value       = hastack_mysql_replica_set.db.writer_endpoint
}

output "db_reader_endpoint" {
  description = "Where the web instances read (the sidecar spreads reads over the replicas)."
  value       = hastack_mysql_replica_set.db.reader_endpoint
}

output "secret_parameters" {
  description = "SSM SecureString parameters holding the app's DB password and the Redis auth token (names, never values)."
  value = {
    db_password = hastack_mysql_replica_set.db.password_parameters[local.db_user]
    redis_token = hastack_redis_replica_group.cache.auth_token_parameter
  }
}

output "log_group_names" {
  description = "CloudWatch Logs groups: the app log (a stream per instance) and Session Manager transcripts."
  value       = hastack_cloudwatch_log_pipeline.web.log_group_names
}

output "start_session_command" {
  description = "Opens an audited shell on a web instance (replace NODE_ID with an ssm_instance_id); null when this stack does not manage the session preferences."
  value       = one(hastack_ssm_session_policy.shell[*].start_session_command)
}

output "operator_policy_json" {
  description = "IAM policy for operators: sessions only to this stack's web instances, only with the logged document; null when this stack does not manage the session preferences."
  value       = one(hastack_ssm_session_policy.shell[*].operator_policy_json)
}

output "node_policy_json" {
  description = "IAM policy for the instances' SSM role (ssm_role): read the stack's secrets and log configuration, ship logs and session transcripts, and let the app read its own instance's zone."
  value = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      jsondecode(hastack_cloudwatch_log_pipeline.web.node_policy_json).Statement,
      flatten([for p in hastack_ssm_session_policy.shell : jsondecode(p.node_policy_json).Statement]),
      [
        {
          Sid    = "StackSecrets"
          Effect = "Allow"
          Action = ["ssm:GetParameter"]
          Resource = [
            "arn:aws:ssm:${data.hastack_provider_info.this.region}:*:parameter/hastack/mysql/${var.name}-db/*",
            "arn:aws:ssm:${data.hastack_provider_info.this.region}:*:parameter/hastack/redis/${var.name}-cache/*",
          ]
        },
        {
          Sid      = "OwnZone"
          Effect   = "Allow"
          Action   = ["lightsail:GetInstance"]
          Resource = "*"
        },
      ]
    )
  })
}
