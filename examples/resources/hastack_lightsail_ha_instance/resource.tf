# Two instances in two zones, reachable only through SSM (port 22 is never opened), serving
# HTTP. Shell: aws ssm start-session --target <instances[i].ssm_instance_id>
resource "hastack_lightsail_ha_instance" "app" {
  name_prefix        = "app"
  instance_count     = 2
  availability_zones = ["us-east-1a", "us-east-1b"]
  blueprint_id       = "debian_12"
  bundle_id          = "nano_3_0"
  ssm_role           = "hastack-ssm"

  user_data = <<-SCRIPT
    #!/bin/bash
    set -euo pipefail
    mkdir -p /var/www/html && hostname > /var/www/html/index.html
    systemctl enable --now nginx
  SCRIPT

  public_ports = [
    { from_port = 80, to_port = 80, protocol = "tcp" },
    { from_port = 443, to_port = 443, protocol = "tcp", cidrs = ["203.0.113.0/24"] },
  ]

  tags = { app = "demo" }
}
