# The web tier: identical nginx instances spread over availability zones, port 22 closed
# (shell access through SSM Session Manager only), behind a Lightsail load balancer that
# routes around unhealthy instances. Each instance serves its own hostname, so responses
# show which instance (and zone) answered.
terraform {
  required_providers {
    hastack = { source = "hastack/hastack" }
  }
}

provider "hastack" {
  default_tags {
    tags = { stack = "web-tier" }
  }
}

variable "instance_count" {
  description = "How many web instances."
  type        = number
  default     = 3
}

variable "app_version" {
  description = "Shown in every response; changing it replaces the instances one at a time."
  type        = string
  default     = "1"
}

variable "heal_after" {
  description = "Replace an instance whose SSM agent has been unreachable this long (\"0\": never)."
  type        = string
  default     = "5m"
}

variable "zones" {
  description = "Availability zones to spread the instances over (at least two for HA)."
  type        = list(string)
  default     = ["us-east-1a", "us-east-1b", "us-east-1c"]
}

resource "hastack_lightsail_ha_instance" "web" {
  name_prefix        = "web"
  instance_count     = var.instance_count
  availability_zones = var.zones
  blueprint_id       = "debian_12"
  bundle_id          = "nano_3_0"
  ssm_role           = "hastack-ssm" # an IAM role trusting ssm.amazonaws.com (see the resource docs)

  # Healing: an instance whose host died is planned for replacement after this grace.
  replace_unhealthy_after = var.heal_after

  # The app: nginx serving the instance's hostname and the app version. Runs after hastack's bootstrap
  # has registered the SSM agent.
  user_data = <<-SCRIPT
    #!/bin/bash
    set -euo pipefail
    if ! command -v nginx >/dev/null 2>&1; then
      apt-get update -q && apt-get install -y -q nginx-light
    fi
    mkdir -p /var/www/html
    echo "$(hostname) v${var.app_version}" > /var/www/html/index.html
    systemctl enable --now nginx
  SCRIPT

  public_ports = [
    { from_port = 80, to_port = 80, protocol = "tcp" },
  ]

  tags = { app = "web" }

  timeouts {
    create = "20m"
    update = "40m"
  }
}

resource "hastack_lightsail_load_balancer" "web" {
  name              = "web-lb"
  instance_port     = 80
  health_check_path = "/"
}

resource "hastack_lightsail_lb_attachment" "web" {
  load_balancer_name = hastack_lightsail_load_balancer.web.name
  instance_names     = hastack_lightsail_ha_instance.web.instances[*].name
}

output "load_balancer_dns_name" {
  description = "Where clients connect (HTTP, port 80)."
  value       = hastack_lightsail_load_balancer.web.dns_name
}

output "instances" {
  description = "Each instance's zone and SSM managed node id (for `aws ssm start-session --target`)."
  value = {
    for i in hastack_lightsail_ha_instance.web.instances : i.name => {
      zone            = i.zone
      ssm_instance_id = i.ssm_instance_id
    }
  }
}
