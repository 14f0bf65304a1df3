# Where would 5 instances go across 3 availability zones? Growing the count later never
# moves an existing instance: index i always lands in zones[i % length(zones)].
terraform {
  required_providers {
    hastack = {
      source  = "hastack/hastack"
      version = "~> 0.1"
    }
  }
}

provider "hastack" {
  region = var.region
  # The demo talks to no AWS service; real stacks drop this line.
  skip_credentials_validation = true
}

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "instance_count" {
  type    = number
  default = 5
}

variable "zones" {
  type    = list(string)
  default = ["us-east-1a", "us-east-1b", "us-east-1c"]
}

data "hastack_provider_info" "this" {}

output "placement" {
  description = "The zone of each instance index."
  value       = provider::hastack::spread_zones(var.instance_count, var.zones)
}

output "region" {
  value = data.hastack_provider_info.this.region
}
