# Operations: every web instance's app log in CloudWatch Logs (a stream per instance) with a
# metric and an alarm on server errors, and shell access through Session Manager only (port 22
# is closed everywhere), each session's transcript streamed to the stack's sessions log group.

resource "hastack_cloudwatch_log_pipeline" "web" {
  name           = "${var.name}-web"
  instance_group = hastack_lightsail_ha_instance.web.id

  files = [
    # app.py writes "<UTC ISO time> <client> <instance> "<request>" <status> -".
    { key = "app", path = "/var/log/hastack-app/access.log", timestamp_format = "%Y-%m-%dT%H:%M:%S.%fZ" },
  ]
  retention_in_days = var.log_retention_days
  retain_on_destroy = var.retain_logs_on_destroy
  session_log_group = true

  metric_filters = {
    server_errors = { file_key = "app", pattern = "?\" 500 \" ?\" 503 \"", metric_name = "${var.name}-ServerErrors", unit = "Count" }
  }
  alarms = {
    server_errors = { metric_filter = "server_errors", threshold = 5, evaluation_periods = 2 }
  }

  tags = local.tags
}

resource "hastack_ssm_session_policy" "shell" {
  count = var.manage_session_preferences ? 1 : 0

  target_tags               = { "hastack:group" = hastack_lightsail_ha_instance.web.id }
  cloudwatch_log_group_name = hastack_cloudwatch_log_pipeline.web.session_log_group_name
  idle_timeout_minutes      = var.session_idle_timeout_minutes
  max_duration_minutes      = var.session_max_duration_minutes
  enable_advanced_tier      = var.enable_advanced_tier
  tags                      = local.tags
}
