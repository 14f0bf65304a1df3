# Send the load balancer's traffic to a group of instances. Terraform waits until each one
# passes the health check (set wait_for_healthy = false not to).
resource "hastack_lightsail_load_balancer" "front" {
  name          = "web-front"
  instance_port = 80
}

resource "hastack_lightsail_lb_attachment" "web" {
  load_balancer_name = hastack_lightsail_load_balancer.front.name
  instance_names     = ["web-1", "web-2"] # e.g. hastack_lightsail_ha_instance.app.instances[*].name
  wait_for_healthy   = false

  timeouts {
    create = "15m"
  }
}
