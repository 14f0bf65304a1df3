# Session Manager preferences for the "web" instance group: transcripts to S3, sessions end
# after 15 idle minutes and run as "ops". The two policy documents are for your IAM tooling
# (aws_iam_policy); the provider writes no IAM. See hastack_cloudwatch_log_pipeline for
# streaming session logs to CloudWatch Logs.
resource "hastack_ssm_session_policy" "shell" {
  target_tags = {
    "hastack:group" = "web"
  }
  s3_bucket_name       = "example-session-transcripts"
  s3_key_prefix        = "sessions/"
  idle_timeout_minutes = 15
  max_duration_minutes = 240
  run_as_user          = "ops"

  tags = {
    app = "web"
  }
}

output "operator_policy_json" {
  value = hastack_ssm_session_policy.shell.operator_policy_json
}

output "start_session_command" {
  value = hastack_ssm_session_policy.shell.start_session_command
}
