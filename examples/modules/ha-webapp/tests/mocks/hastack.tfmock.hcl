# Mock data for `terraform test` plan runs (mock_provider "hastack" { source = "./tests/mocks" }):
# computed values shaped like what the provider returns, known at plan time.

mock_data "hastack_provider_info" {
  defaults = {
    region       = "us-east-1"
    default_tags = {}
    endpoints    = {}
  }
}

mock_resource "hastack_mysql_replica_set" {
  defaults = {
    writer_endpoint = "127.0.0.1:3306"
    reader_endpoint = "127.0.0.1:3307"
    current_primary = "shop-test-db-0-1a2b3c4d"
    last_failover   = ""
    members         = []
    password_parameters = {
      app         = "/hastack/mysql/shop-test-db/users/app"
      replication = "/hastack/mysql/shop-test-db/replication-password"
    }
    sidecar = {
      name           = "shop-test-db"
      engine         = "mariadb"
      backends       = ["198.18.0.2", "198.18.0.3", "198.18.0.4"]
      auth_parameter = ""
    }
  }
}

mock_resource "hastack_redis_replica_group" {
  defaults = {
    writer_endpoint      = "127.0.0.1:6379"
    current_primary      = "shop-test-cache-0-5e6f7a8b"
    auth_token_parameter = "/hastack/redis/shop-test-cache/auth-token"
    members              = []
    sentinel_endpoints   = ["198.18.0.5:26379", "198.18.0.6:26379", "198.18.0.7:26379"]
    sidecar = {
      name           = "shop-test-cache"
      engine         = "redis"
      backends       = ["198.18.0.5", "198.18.0.6", "198.18.0.7"]
      auth_parameter = "/hastack/redis/shop-test-cache/auth-token"
    }
  }
}

mock_resource "hastack_lightsail_ha_instance" {
  defaults = {
    instances = [
      {
        name            = "shop-test-web-0-9c0d1e2f"
        index           = 0
        zone            = "us-east-1a"
        arn             = "arn:aws:lightsail:us-east-1:123456789012:Instance/5d6e7f80-0000-4000-8000-000000000000"
        private_ip      = "198.18.0.10"
        public_ip       = "198.18.1.10"
        ssm_instance_id = "mi-0123456789abcdef0"
        state           = "running"
      },
      {
        name            = "shop-test-web-1-9c0d1e2f"
        index           = 1
        zone            = "us-east-1b"
        arn             = "arn:aws:lightsail:us-east-1:123456789012:Instance/5d6e7f80-0000-4000-8000-000000000001"
        private_ip      = "198.18.0.11"
        public_ip       = "198.18.1.11"
        ssm_instance_id = "mi-0123456789abcdef1"
        state           = "running"
      },
      {
        name            = "shop-test-web-2-9c0d1e2f"
        index           = 2
        zone            = "us-east-1c"
        arn             = "arn:aws:lightsail:us-east-1:123456789012:Instance/5d6e7f80-0000-4000-8000-000000000002"
        private_ip      = "198.18.0.12"
        public_ip       = "198.18.1.12"
        ssm_instance_id = "mi-0123456789abcdef2"
        state           = "running"
      },
    ]
  }
}

mock_resource "hastack_lightsail_load_balancer" {
  defaults = {
    arn          = "arn:aws:lightsail:us-east-1:123456789012:LoadBalancer/0e7e2b3c-1111-2222-3333-444455556666"
    dns_name     = "0e7e2b3c-shop-test-lb.us-east-1.elb.amazonlightsail.com"
    public_ports = [80]
  }
}

mock_resource "hastack_lightsail_lb_attachment" {
  defaults = {
    instance_health = {}
  }
}

mock_resource "hastack_cloudwatch_log_pipeline" {
  defaults = {
    log_group_names = {
      app      = "/hastack/shop-test-web/app"
      sessions = "/hastack/shop-test-web/sessions"
    }
    session_log_group_name = "/hastack/shop-test-web/sessions"
    parameter_name         = "AmazonCloudWatch-hastack-shop-test-web"
    node_policy_json       = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"ShipLogs\",\"Effect\":\"Allow\",\"Action\":[\"logs:CreateLogStream\",\"logs:PutLogEvents\"],\"Resource\":\"*\"}]}"
  }
}

mock_resource "hastack_ssm_session_policy" {
  defaults = {
    activation_tier       = "standard"
    default_version       = "1"
    document_arn          = "arn:aws:ssm:us-east-1:123456789012:document/SSM-SessionManagerRunShell"
    start_session_command = "aws ssm start-session --target NODE_ID --document-name SSM-SessionManagerRunShell"
    operator_policy_json  = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    node_policy_json      = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"SessionManagerChannels\",\"Effect\":\"Allow\",\"Action\":[\"ssmmessages:OpenDataChannel\"],\"Resource\":\"*\"}]}"
  }
}
