# Every setting is optional and falls back to the standard AWS environment variables and
# shared files. Against hastack-local, point the endpoints (or AWS_ENDPOINT_URL) at it.
provider "hastack" {
  region  = "us-east-1"
  profile = "deploy"

  assume_role {
    role_arn     = "arn:aws:iam::123456789012:role/hastack-deployer"
    session_name = "terraform"
  }

  endpoints {
    lightsail  = "http://127.0.0.1:4566"
    ssm        = "http://127.0.0.1:4566"
    cloudwatch = "http://127.0.0.1:4566"
    logs       = "http://127.0.0.1:4566"
  }

  default_tags {
    tags = {
      team = "web"
    }
  }

  max_retries = 10
}
