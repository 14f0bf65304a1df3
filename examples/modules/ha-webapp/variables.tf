variable "name" {
  description = "Names every part of the stack (instances, load balancer, database set, cache group, log pipeline): `<name>-web`, `<name>-db`, ... Lowercase letters, digits and `-`, starting with a letter, at most 20 characters. Use a different name per environment that shares an AWS account and region."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,19}$", var.name)) && !endswith(var.name, "-")
    error_message = "name must be 1-20 lowercase letters, digits or '-', start with a letter and not end with '-'."
  }
}

variable "zones" {
  description = "Availability zones of the provider's region to spread every tier over (member i of each tier goes to zones[i % length]). Three zones survive the loss of any one zone with a majority left for the database's and cache's elections."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.zones) >= 1 && length(var.zones) == length(distinct(var.zones))
    error_message = "zones must list at least one availability zone, without duplicates."
  }
  validation {
    condition     = alltrue([for z in var.zones : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9][a-z]$", z))])
    error_message = "zones must be availability zone names such as \"us-east-1a\"."
  }
  validation {
    condition     = length(distinct([for z in var.zones : substr(z, 0, length(z) - 1)])) == 1
    error_message = "zones must all be in one region."
  }
}

variable "ssm_role" {
  description = "IAM role (trusting ssm.amazonaws.com) the instances' SSM hybrid activation gives every instance. Attach the module's node_policy_json output to it."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.ssm_role))
    error_message = "ssm_role must be an IAM role name (1-64 letters, digits or +=,.@_-), not an ARN."
  }
}

variable "blueprint_id" {
  description = "Lightsail blueprint (OS image) of every instance."
  type        = string
  default     = "debian_12"
  nullable    = false
}

variable "web_count" {
  description = "Web instances behind the load balancer (1-50). With two or more, a lost instance leaves the others serving."
  type        = number
  default     = 3
  nullable    = false

  validation {
    condition     = var.web_count >= 1 && var.web_count <= 50 && floor(var.web_count) == var.web_count
    error_message = "web_count must be a whole number from 1 to 50."
  }
}

variable "web_bundle_id" {
  description = "Lightsail bundle (size) of the web instances."
  type        = string
  default     = "nano_3_0"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9]+_[0-9]+_[0-9]+$", var.web_bundle_id))
    error_message = "web_bundle_id must be a Lightsail bundle id such as \"nano_3_0\"."
  }
}

variable "db_count" {
  description = "MariaDB members (3-9): one primary, the rest replicas. Odd counts make the best use of the etcd majority."
  type        = number
  default     = 3
  nullable    = false

  validation {
    condition     = var.db_count >= 3 && var.db_count <= 9 && floor(var.db_count) == var.db_count
    error_message = "db_count must be a whole number from 3 to 9 (a primary and at least two replicas keep a majority when one is lost)."
  }
}

variable "db_bundle_id" {
  description = "Lightsail bundle of the MariaDB members."
  type        = string
  default     = "medium_3_0"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9]+_[0-9]+_[0-9]+$", var.db_bundle_id))
    error_message = "db_bundle_id must be a Lightsail bundle id such as \"medium_3_0\"."
  }
}

variable "db_parameters" {
  description = "Other MariaDB server variables, e.g. { max_connections = \"300\" }."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "db_failure_detection_timeout" {
  description = "How long a MariaDB primary may miss renewing its leader lease before a replica is promoted (3s-60s)."
  type        = string
  default     = "5s"
  nullable    = false

  validation {
    condition     = can(regex("^[0-9]+s$", var.db_failure_detection_timeout)) && try(tonumber(trimsuffix(var.db_failure_detection_timeout, "s")) >= 3 && tonumber(trimsuffix(var.db_failure_detection_timeout, "s")) <= 60, false)
    error_message = "db_failure_detection_timeout must be whole seconds from \"3s\" to \"60s\"."
  }
}

variable "redis_count" {
  description = "Redis members (3-9): one primary, the rest replicas, Sentinel on each."
  type        = number
  default     = 3
  nullable    = false

  validation {
    condition     = var.redis_count >= 3 && var.redis_count <= 9 && floor(var.redis_count) == var.redis_count
    error_message = "redis_count must be a whole number from 3 to 9 (Sentinel needs a majority)."
  }
}

variable "redis_bundle_id" {
  description = "Lightsail bundle of the Redis members."
  type        = string
  default     = "small_3_0"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9]+_[0-9]+_[0-9]+$", var.redis_bundle_id))
    error_message = "redis_bundle_id must be a Lightsail bundle id such as \"small_3_0\"."
  }
}

variable "app_version" {
  description = "Shown on every page. Changing it replaces the web instances one at a time (no downtime behind the load balancer)."
  type        = string
  default     = "1"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,32}$", var.app_version))
    error_message = "app_version must be 1-32 letters, digits, '.', '_' or '-'."
  }
}

variable "heal_after" {
  description = "Replace a web instance whose SSM agent has been unreachable this long (\"0\": never)."
  type        = string
  default     = "5m"
  nullable    = false
}

variable "log_retention_days" {
  description = "Days CloudWatch Logs keeps the app's logs."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "retain_logs_on_destroy" {
  description = "Keep the log groups (and their events) when the stack is destroyed."
  type        = bool
  default     = true
  nullable    = false
}

variable "manage_session_preferences" {
  description = "Manage the account and region's Session Manager preferences (the SSM-SessionManagerRunShell document: transcripts to this stack's log group, timeouts). One stack per account and region may; set false in the others (their session_* settings and operator_policy_json then come from the stack that manages them)."
  type        = bool
  default     = true
  nullable    = false
}

variable "enable_advanced_tier" {
  description = "Switch the account and region to SSM's advanced-instances tier, without which Session Manager refuses sessions to hybrid nodes (hastack's instances are). Billed per hybrid node and hour; only with manage_session_preferences."
  type        = bool
  default     = true
  nullable    = false
}

variable "session_idle_timeout_minutes" {
  description = "Minutes without input after which a Session Manager session ends (1-60)."
  type        = number
  default     = 20
  nullable    = false

  validation {
    condition     = var.session_idle_timeout_minutes >= 1 && var.session_idle_timeout_minutes <= 60 && floor(var.session_idle_timeout_minutes) == var.session_idle_timeout_minutes
    error_message = "session_idle_timeout_minutes must be a whole number from 1 to 60."
  }
}

variable "session_max_duration_minutes" {
  description = "Longest a Session Manager session may last (1-1440 minutes); null for no limit."
  type        = number
  default     = 240

  validation {
    condition     = var.session_max_duration_minutes == null ? true : (var.session_max_duration_minutes >= 1 && var.session_max_duration_minutes <= 1440 && floor(var.session_max_duration_minutes) == var.session_max_duration_minutes)
    error_message = "session_max_duration_minutes must be a whole number from 1 to 1440, or null."
  }
}

variable "tags" {
  description = "Tags of every resource, merged with the provider's default_tags. Keys starting with \"hastack:\" are reserved."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for k in keys(var.tags) : !startswith(k, "hastack:")])
    error_message = "tags must not use keys starting with \"hastack:\" (the provider's own tags)."
  }
}
