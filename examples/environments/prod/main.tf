# The prod environment of the shop: the ha-webapp module (three zones, three web instances, three MariaDB and three Redis members).
# Apply it from this folder; in HCP Terraform / Terraform Cloud, one workspace per environment
# with this folder as its working directory (see docs/guides/terraform-cloud.md): the state
# then lives in the workspace, credentials and TF_VAR_* in its variables.
terraform {
  required_version = ">= 1.11"
  required_providers {
    hastack = {
      source  = "hastack/hastack"
      version = ">= 0.1"
    }
  }
  # cloud {
  #   organization = "example"
  #   workspaces { name = "shop-prod" }
  # }
}

variable "region" {
  description = "AWS region."
  type        = string
  default     = "us-east-1"
}

variable "ssm_role" {
  description = "IAM role the instances' SSM activation gives them (attach the node_policy_json output to it)."
  type        = string
  default     = "hastack-ssm"
}

provider "hastack" {
  region = var.region
  default_tags {
    tags = {
      environment = "prod"
      managed_by  = "terraform"
    }
  }
}

module "shop" {
  source = "../../modules/ha-webapp"

  name     = "shop-prod"
  zones    = ["${var.region}a", "${var.region}b", "${var.region}c"]
  ssm_role = var.ssm_role

  web_count       = 3
  web_bundle_id   = "small_3_0"
  db_count        = 3
  db_bundle_id    = "medium_3_0"
  redis_count     = 3
  redis_bundle_id = "small_3_0"
  db_parameters   = { max_connections = "300" }

  log_retention_days           = 90
  retain_logs_on_destroy       = true
  session_idle_timeout_minutes = 15
  session_max_duration_minutes = 120
}
