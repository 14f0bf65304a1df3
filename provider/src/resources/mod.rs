//! Managed resources, one file or folder each.
pub mod cloudwatch_log_pipeline;
pub mod common;
pub mod lightsail_ha_instance;
pub mod lightsail_lb_attachment;
pub mod lightsail_load_balancer;
pub mod mysql_replica_set;
pub mod redis_replica_group;
pub mod replica;
pub mod ssm_session_policy;
