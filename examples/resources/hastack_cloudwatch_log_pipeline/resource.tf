# Every web member's nginx and app logs in CloudWatch Logs (a stream per member), kept 30 days,
# a metric of 5xx responses with an alarm, and a log group for Session Manager transcripts.
# instance_group is usually hastack_lightsail_ha_instance.web.id.
resource "hastack_cloudwatch_log_pipeline" "web" {
  name           = "web"
  instance_group = "web"

  files = [
    { key = "nginx", path = "/var/log/nginx/access.log", timestamp_format = "%d/%b/%Y:%H:%M:%S %z" },
    { key = "app", path = "/var/log/app/*.log", multi_line_start_pattern = "{timestamp_format}" },
  ]
  retention_in_days = 30

  metric_filters = {
    server_errors = { file_key = "nginx", pattern = "?\" 500 \" ?\" 502 \" ?\" 503 \" ?\" 504 \"", metric_name = "ServerErrors", unit = "Count" }
  }
  alarms = {
    server_errors = { metric_filter = "server_errors", threshold = 5, evaluation_periods = 2 }
  }

  session_log_group = true
  retain_on_destroy = true

  tags = {
    app = "web"
  }
}

# Session transcripts streamed to the pipeline's sessions group.
resource "hastack_ssm_session_policy" "shell" {
  target_tags               = { "hastack:group" = hastack_cloudwatch_log_pipeline.web.instance_group }
  cloudwatch_log_group_name = hastack_cloudwatch_log_pipeline.web.session_log_group_name
  idle_timeout_minutes      = 15
}

output "node_policy_json" {
  description = "Attach to the members' SSM role (with the session policy's node_policy_json)."
  value       = hastack_cloudwatch_log_pipeline.web.node_policy_json
}
