# The web tier's operations: every instance's nginx logs in CloudWatch Logs (a stream per
# instance, kept 14 days, a metric of 5xx responses with an alarm), and shell access through
# Session Manager only, each session streamed to the pipeline's session log group. Port 22
# stays closed; the two policy documents in the outputs are for your IAM tooling.
resource "hastack_cloudwatch_log_pipeline" "web" {
  name           = "web"
  instance_group = hastack_lightsail_ha_instance.web.id

  files = [
    { key = "nginx", path = "/var/log/nginx/access.log", timestamp_format = "%d/%b/%Y:%H:%M:%S %z" },
  ]
  retention_in_days = 14

  metric_filters = {
    server_errors = { file_key = "nginx", pattern = "?\" 500 \" ?\" 502 \" ?\" 503 \" ?\" 504 \"", metric_name = "ServerErrors", unit = "Count" }
  }
  alarms = {
    server_errors = { metric_filter = "server_errors", threshold = 5, evaluation_periods = 2 }
  }

  session_log_group = true
  retain_on_destroy = false
}

resource "hastack_ssm_session_policy" "web" {
  target_tags               = { "hastack:group" = hastack_lightsail_ha_instance.web.id }
  cloudwatch_log_group_name = hastack_cloudwatch_log_pipeline.web.session_log_group_name
  idle_timeout_minutes      = 15
  max_duration_minutes      = 240
}

output "start_session_command" {
  description = "Opens an audited shell on an instance (replace NODE_ID with an ssm_instance_id)."
  value       = hastack_ssm_session_policy.web.start_session_command
}

output "operator_policy_json" {
  description = "Attach to the operators' IAM principals: sessions only to this tier's instances, only with the logged document."
  value       = hastack_ssm_session_policy.web.operator_policy_json
}

output "node_policy_json" {
  description = "Attach to the instances' SSM role (ssm_role): log shipping and session channels."
  value       = hastack_cloudwatch_log_pipeline.web.node_policy_json
}
