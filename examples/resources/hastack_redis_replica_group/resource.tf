# A Redis primary with two replicas in three zones, Sentinel on every member, and an app
# group that reaches the primary on 127.0.0.1:6379 through the data-tier sidecar. The auth
# token is generated and kept in SSM Parameter Store (auth_token_parameter); the app reads it
# there with its own credentials.
resource "hastack_redis_replica_group" "cache" {
  name               = "cache"
  instance_count     = 3
  availability_zones = ["us-east-1a", "us-east-1b", "us-east-1c"]
  blueprint_id       = "debian_12"
  bundle_id          = "small_3_0"
  ssm_role           = "hastack-ssm"

  sentinel = {
    down_after = "1500ms"
  }
  maxmemory_policy = "allkeys-lru"
  tags             = { tier = "cache" }
}

resource "hastack_lightsail_ha_instance" "app" {
  name_prefix        = "app"
  instance_count     = 1
  availability_zones = ["us-east-1c"]
  blueprint_id       = "debian_12"
  bundle_id          = "nano_3_0"
  ssm_role           = "hastack-ssm"
  sidecars           = [hastack_redis_replica_group.cache.sidecar]
}

output "redis_writer" {
  value = hastack_redis_replica_group.cache.writer_endpoint
}
output "redis_primary" {
  value = hastack_redis_replica_group.cache.current_primary
}
