# A MariaDB primary with two replicas in three zones (etcd leases, agents that promote a replica
# when the primary dies, no acknowledged write lost), and an app group that writes through
# 127.0.0.1:3306 and reads through 127.0.0.1:3307 on its own instances. The app user's password
# is generated into SSM Parameter Store (password_parameters["app"]); the app reads it there.
resource "hastack_mysql_replica_set" "db" {
  name               = "db"
  instance_count     = 3
  availability_zones = ["us-east-1a", "us-east-1b", "us-east-1c"]
  blueprint_id       = "debian_12"
  bundle_id          = "medium_3_0"
  ssm_role           = "hastack-ssm"

  databases = ["shop"]
  # A user may bring its own password, write-only (never in plan or state; Terraform 1.11+):
  #   { name = "app", database = "shop", password_wo = var.app_password, password_version = 1 }
  # Change password_version to write a new one (or, without password_wo, to generate one).
  users = [
    { name = "app", database = "shop" },
    { name = "report", database = "shop", privileges = ["SELECT"] },
  ]
  parameters = { max_connections = "300" }
  tags       = { tier = "db" }
}

resource "hastack_lightsail_ha_instance" "app" {
  name_prefix        = "shopapp"
  instance_count     = 1
  availability_zones = ["us-east-1c"]
  blueprint_id       = "debian_12"
  bundle_id          = "nano_3_0"
  ssm_role           = "hastack-ssm"
  sidecars           = [hastack_mysql_replica_set.db.sidecar]
}

output "db_writer" {
  value = hastack_mysql_replica_set.db.writer_endpoint
}
output "db_password_parameter" {
  value = hastack_mysql_replica_set.db.password_parameters["app"]
}
