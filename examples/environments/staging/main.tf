# The staging environment of the shop: the ha-webapp module (prod's shape at a smaller size: two web instances in two zones).
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
  #   workspaces { name = "shop-staging" }
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
      environment = "staging"
      managed_by  = "terraform"
    }
  }
}

module "shop" {
  source = "../../modules/ha-webapp"

  name     = "shop-staging"
  zones    = ["${var.region}a", "${var.region}b"]
  ssm_role = var.ssm_role

  web_count       = 2
  web_bundle_id   = "micro_3_0"
  db_count        = 3
  db_bundle_id    = "small_3_0"
  redis_count     = 3
  redis_bundle_id = "micro_3_0"

  log_retention_days     = 14
  retain_logs_on_destroy = false
}
