# The highly available web application: web instances across zones behind a Lightsail load
# balancer (port 22 closed, SSM-only), a MariaDB primary with replicas and a Redis primary with
# replicas (each promoting a replica when its primary dies), reached from the web instances
# through the data-tier sidecar on 127.0.0.1, logs in CloudWatch Logs, audited Session Manager
# shells. See README.md.

data "hastack_provider_info" "this" {}

locals {
  db_name = "app"
  db_user = "app"
  # The parameter names follow the resources' documented schemes; built here rather than read
  # from their computed attributes, so a data-tier change never makes the web instances' user
  # data (and so their revision) unknown at plan time.
  db_password_parameter = "/hastack/mysql/${var.name}-db/users/${local.db_user}"
  redis_token_parameter = "/hastack/redis/${var.name}-cache/auth-token"
  port                  = 80
  tags                  = merge(var.tags, { stack = var.name })
}

resource "hastack_mysql_replica_set" "db" {
  name                      = "${var.name}-db"
  instance_count            = var.db_count
  availability_zones        = var.zones
  blueprint_id              = var.blueprint_id
  bundle_id                 = var.db_bundle_id
  ssm_role                  = var.ssm_role
  failure_detection_timeout = var.db_failure_detection_timeout

  databases  = [local.db_name]
  users      = [{ name = local.db_user, database = local.db_name }]
  parameters = var.db_parameters
  tags       = merge(local.tags, { tier = "db" })
}

resource "hastack_redis_replica_group" "cache" {
  name               = "${var.name}-cache"
  instance_count     = var.redis_count
  availability_zones = var.zones
  blueprint_id       = var.blueprint_id
  bundle_id          = var.redis_bundle_id
  ssm_role           = var.ssm_role
  maxmemory_policy   = "allkeys-lru"
  tags               = merge(local.tags, { tier = "cache" })
}

resource "hastack_lightsail_ha_instance" "web" {
  name_prefix             = "${var.name}-web"
  instance_count          = var.web_count
  availability_zones      = var.zones
  blueprint_id            = var.blueprint_id
  bundle_id               = var.web_bundle_id
  ssm_role                = var.ssm_role
  replace_unhealthy_after = var.heal_after
  sidecars                = [hastack_mysql_replica_set.db.sidecar, hastack_redis_replica_group.cache.sidecar]

  user_data = templatefile("${path.module}/user_data.sh.tftpl", {
    app_b64               = filebase64("${path.module}/app.py")
    region                = data.hastack_provider_info.this.region
    port                  = local.port
    app_version           = var.app_version
    db_name               = local.db_name
    db_user               = local.db_user
    db_password_parameter = local.db_password_parameter
    db_writer_port        = split(":", hastack_mysql_replica_set.db.writer_endpoint)[1]
    db_reader_port        = split(":", hastack_mysql_replica_set.db.reader_endpoint)[1]
    redis_port            = split(":", hastack_redis_replica_group.cache.writer_endpoint)[1]
    redis_token_parameter = local.redis_token_parameter
  })

  public_ports = [{ from_port = local.port, to_port = local.port, protocol = "tcp" }]
  tags         = merge(local.tags, { tier = "web" })

  timeouts {
    create = "20m"
    update = "40m"
  }
}

resource "hastack_lightsail_load_balancer" "web" {
  name              = "${var.name}-lb"
  instance_port     = local.port
  health_check_path = "/health"
  tags              = local.tags
}

resource "hastack_lightsail_lb_attachment" "web" {
  load_balancer_name = hastack_lightsail_load_balancer.web.name
  instance_names     = hastack_lightsail_ha_instance.web.instances[*].name
}
