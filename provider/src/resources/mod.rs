//! Managed resources, one file each.
pub mod common;
pub mod lightsail_ha_instance;
pub mod lightsail_lb_attachment;
pub mod lightsail_load_balancer;
