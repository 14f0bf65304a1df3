terraform {
  # 1.11: write-only attributes and the `terraform test` features the tests use.
  required_version = ">= 1.11"
  required_providers {
    hastack = {
      source  = "hastack/hastack"
      version = ">= 0.1"
    }
  }
}
