# Plan-only tests of the module with a mocked provider: no AWS, no hastack-local. They check the
# wiring between the resources and that bad input is refused at plan time, naming the variable.
# Run from the module's folder: terraform test -filter=tests/plan.tftest.hcl

mock_provider "hastack" {
  source          = "./tests/mocks"
  override_during = plan
}

variables {
  name     = "shop-test"
  zones    = ["us-east-1a", "us-east-1b", "us-east-1c"]
  ssm_role = "hastack-ssm"
}

run "wiring" {
  command = plan

  assert {
    condition     = hastack_lightsail_ha_instance.web.instance_count == 3 && hastack_lightsail_ha_instance.web.availability_zones == tolist(var.zones)
    error_message = "the web tier must have web_count instances over every zone"
  }
  assert {
    condition     = hastack_mysql_replica_set.db.name == "shop-test-db" && hastack_redis_replica_group.cache.name == "shop-test-cache" && hastack_lightsail_load_balancer.web.name == "shop-test-lb"
    error_message = "every part must be named after var.name"
  }
  assert {
    condition     = length(hastack_lightsail_ha_instance.web.sidecars) == 2 && hastack_lightsail_ha_instance.web.sidecars[0].engine == "mariadb" && hastack_lightsail_ha_instance.web.sidecars[1].engine == "redis"
    error_message = "the web instances must carry the database's and the cache's sidecars"
  }
  assert {
    condition     = strcontains(hastack_lightsail_ha_instance.web.user_data, "DB_PASSWORD_PARAMETER=/hastack/mysql/shop-test-db/users/app") && strcontains(hastack_lightsail_ha_instance.web.user_data, "REDIS_TOKEN_PARAMETER=/hastack/redis/shop-test-cache/auth-token")
    error_message = "the app must be told the names of its secrets' parameters"
  }
  assert {
    # The module builds the parameter names itself; they must be the ones the resources report.
    condition     = output.secret_parameters.db_password == "/hastack/mysql/shop-test-db/users/app" && output.secret_parameters.redis_token == "/hastack/redis/shop-test-cache/auth-token"
    error_message = "the parameter names in the user data must match the resources'"
  }
  assert {
    condition     = strcontains(hastack_lightsail_ha_instance.web.user_data, "DB_WRITER_PORT=3306") && strcontains(hastack_lightsail_ha_instance.web.user_data, "DB_READER_PORT=3307") && strcontains(hastack_lightsail_ha_instance.web.user_data, "REDIS_PORT=6379") && strcontains(hastack_lightsail_ha_instance.web.user_data, "REGION=us-east-1")
    error_message = "the app must use the sidecar's endpoints and the provider's region"
  }
  assert {
    condition     = alltrue([for p in hastack_lightsail_ha_instance.web.public_ports : p.from_port == 80 && p.to_port == 80]) && length(hastack_lightsail_ha_instance.web.public_ports) == 1
    error_message = "only port 80 may be public on the web instances"
  }
  assert {
    condition     = hastack_lightsail_load_balancer.web.instance_port == 80 && hastack_lightsail_load_balancer.web.health_check_path == "/health"
    error_message = "the load balancer must check /health on the app's port"
  }
  assert {
    condition     = hastack_lightsail_lb_attachment.web.load_balancer_name == "shop-test-lb"
    error_message = "the attachment must attach to the stack's load balancer"
  }
  assert {
    condition     = hastack_cloudwatch_log_pipeline.web.files[0].path == "/var/log/hastack-app/access.log" && hastack_cloudwatch_log_pipeline.web.retention_in_days == 30
    error_message = "the app log must be shipped with the default retention"
  }
  assert {
    condition     = length(hastack_ssm_session_policy.shell) == 1 && hastack_ssm_session_policy.shell[0].cloudwatch_log_group_name == "/hastack/shop-test-web/sessions" && hastack_ssm_session_policy.shell[0].idle_timeout_minutes == 20
    error_message = "session transcripts must go to the pipeline's sessions group"
  }
  assert {
    condition     = hastack_mysql_replica_set.db.users[0].name == "app" && hastack_mysql_replica_set.db.databases == tolist(["app"])
    error_message = "the app's database and user must exist"
  }
  assert {
    condition     = hastack_mysql_replica_set.db.tags.tier == "db" && hastack_redis_replica_group.cache.tags.stack == "shop-test"
    error_message = "tags must name the stack and the tier"
  }
  assert {
    condition     = output.url == "http://0e7e2b3c-shop-test-lb.us-east-1.elb.amazonlightsail.com/"
    error_message = "url must point at the load balancer"
  }
  assert {
    condition     = contains([for s in jsondecode(output.node_policy_json).Statement : s.Sid], "StackSecrets") && contains([for s in jsondecode(output.node_policy_json).Statement : s.Sid], "ShipLogs") && contains([for s in jsondecode(output.node_policy_json).Statement : s.Sid], "SessionManagerChannels")
    error_message = "node_policy_json must merge the pipeline's, the session policy's and the app's statements"
  }
  assert {
    condition     = !strcontains(hastack_lightsail_ha_instance.web.user_data, "password=") && !strcontains(hastack_lightsail_ha_instance.web.user_data, "REDISCLI_AUTH=")
    error_message = "no secret value may be in user data"
  }
}

run "sizes_and_session_preferences_off" {
  command = plan

  variables {
    web_count                  = 1
    db_count                   = 5
    redis_count                = 4
    zones                      = ["us-east-1a", "us-east-1b"]
    manage_session_preferences = false
    log_retention_days         = 3
  }

  assert {
    condition     = hastack_lightsail_ha_instance.web.instance_count == 1 && hastack_mysql_replica_set.db.instance_count == 5 && hastack_redis_replica_group.cache.instance_count == 4
    error_message = "counts must follow the variables"
  }
  assert {
    condition     = length(hastack_ssm_session_policy.shell) == 0 && output.start_session_command == null && output.operator_policy_json == null
    error_message = "without manage_session_preferences there is no session policy"
  }
  assert {
    condition     = !contains([for s in jsondecode(output.node_policy_json).Statement : s.Sid], "SessionManagerChannels")
    error_message = "without a session policy its node statements must not be merged"
  }
}

run "app_version_changes_only_the_web_tier" {
  command = plan

  variables {
    app_version = "2.0.1"
  }

  assert {
    condition     = strcontains(hastack_lightsail_ha_instance.web.user_data, "APP_VERSION=2.0.1")
    error_message = "the app version must reach the user data"
  }
}

# Bad input is refused at plan, naming the variable.
run "bad_name" {
  command = plan
  variables { name = "Shop_Prod" }
  expect_failures = [var.name]
}

run "name_too_long" {
  command = plan
  variables { name = "a-very-long-stack-name-x" }
  expect_failures = [var.name]
}

run "duplicate_zones" {
  command = plan
  variables { zones = ["us-east-1a", "us-east-1a"] }
  expect_failures = [var.zones]
}

run "zones_in_two_regions" {
  command = plan
  variables { zones = ["us-east-1a", "eu-west-1a"] }
  expect_failures = [var.zones]
}

run "not_a_zone" {
  command = plan
  variables { zones = ["us-east-1"] }
  expect_failures = [var.zones]
}

run "no_web_instance" {
  command = plan
  variables { web_count = 0 }
  expect_failures = [var.web_count]
}

run "too_many_web_instances" {
  command = plan
  variables { web_count = 51 }
  expect_failures = [var.web_count]
}

run "db_without_majority" {
  command = plan
  variables { db_count = 2 }
  expect_failures = [var.db_count]
}

run "fractional_redis_count" {
  command = plan
  variables { redis_count = 3.5 }
  expect_failures = [var.redis_count]
}

run "ssm_role_as_arn" {
  command = plan
  variables { ssm_role = "arn:aws:iam::123456789012:role/hastack-ssm" }
  expect_failures = [var.ssm_role]
}

run "bad_bundle" {
  command = plan
  variables { db_bundle_id = "Medium" }
  expect_failures = [var.db_bundle_id]
}

run "retention_cloudwatch_refuses" {
  command = plan
  variables { log_retention_days = 2 }
  expect_failures = [var.log_retention_days]
}

run "reserved_tag" {
  command = plan
  variables { tags = { "hastack:group" = "x" } }
  expect_failures = [var.tags]
}

run "bad_app_version" {
  command = plan
  variables { app_version = "1 2" }
  expect_failures = [var.app_version]
}

run "lease_too_short" {
  command = plan
  variables { db_failure_detection_timeout = "2s" }
  expect_failures = [var.db_failure_detection_timeout]
}

run "idle_timeout_out_of_range" {
  command = plan
  variables { session_idle_timeout_minutes = 61 }
  expect_failures = [var.session_idle_timeout_minutes]
}
