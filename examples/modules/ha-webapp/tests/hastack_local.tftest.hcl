# One real apply of the module, against hastack-local (its instances are real Linux hosts):
# provider settings come from the environment (AWS_ENDPOINT_URL etc., as `hastack-local up`
# prints them). Small sizes; terraform test destroys everything at the end.
# Run from the module's folder: terraform test -filter=tests/hastack_local.tftest.hcl

variables {
  name                       = "tftest"
  zones                      = ["us-east-1a", "us-east-1b", "us-east-1c"]
  ssm_role                   = "hastack-ssm"
  web_count                  = 2
  retain_logs_on_destroy     = false
  manage_session_preferences = true
}

run "stack_comes_up" {
  command = apply

  assert {
    condition     = length(hastack_lightsail_ha_instance.web.instances) == 2 && alltrue([for i in hastack_lightsail_ha_instance.web.instances : i.state == "running" && startswith(i.ssm_instance_id, "mi-")])
    error_message = "every web instance must be running and registered with SSM"
  }
  assert {
    condition     = length(distinct([for i in hastack_lightsail_ha_instance.web.instances : i.zone])) == 2
    error_message = "the web instances must be in different zones"
  }
  assert {
    condition     = alltrue([for h in values(hastack_lightsail_lb_attachment.web.instance_health) : h == "healthy"]) && length(hastack_lightsail_lb_attachment.web.instance_health) == 2
    error_message = "the load balancer must see every web instance healthy"
  }
  assert {
    condition     = length([for m in hastack_mysql_replica_set.db.members : m if m.role == "primary"]) == 1 && length([for m in hastack_mysql_replica_set.db.members : m if m.role == "replica"]) == 2
    error_message = "the database must have one primary and two replicas"
  }
  assert {
    condition     = length([for m in hastack_redis_replica_group.cache.members : m if m.role == "primary"]) == 1 && hastack_redis_replica_group.cache.current_primary != ""
    error_message = "the cache must have one primary"
  }
  assert {
    condition     = output.secret_parameters.db_password == hastack_mysql_replica_set.db.password_parameters["app"] && output.secret_parameters.redis_token == hastack_redis_replica_group.cache.auth_token_parameter
    error_message = "the parameter names the module gives the app must be the resources' own"
  }
  assert {
    condition     = hastack_cloudwatch_log_pipeline.web.session_log_group_name == hastack_ssm_session_policy.shell[0].cloudwatch_log_group_name
    error_message = "sessions must be logged to the stack's sessions group"
  }
}
