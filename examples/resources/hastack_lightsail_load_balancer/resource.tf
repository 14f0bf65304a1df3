# A load balancer for an app served on port 8080, checked at /healthz, with sticky sessions.
resource "hastack_lightsail_load_balancer" "front" {
  name                       = "web-front"
  instance_port              = 8080
  health_check_path          = "/healthz"
  session_stickiness_enabled = true

  tags = {
    app = "web"
  }

  timeouts {
    create = "10m"
    delete = "10m"
  }
}

output "load_balancer_dns_name" {
  value = hastack_lightsail_load_balancer.front.dns_name
}
