//! Latency profiles: how long the emulated cloud takes to do things.
use serde::Serialize;

/// Durations in seconds.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LatencyProfile {
    pub name: &'static str,
    /// A mutating call's Operation stays `Started` this long, then ends.
    pub operation: f64,
    /// A new or started instance is `pending` this long, then `running`.
    pub instance_boot: f64,
    /// A stopping instance is `stopping` this long, then `stopped`.
    pub instance_stop: f64,
    /// A new load balancer is `provisioning` this long, then `active`.
    pub load_balancer_provision: f64,
    /// Seconds between a load balancer's health checks of each instance.
    pub health_check_interval: f64,
    /// Seconds one minute of a Session document's `idleSessionTimeout` and
    /// `maxSessionDuration` lasts.
    pub session_minute: f64,
}

impl LatencyProfile {
    /// For tests: everything settles within a fraction of a second.
    pub fn fast() -> Self {
        LatencyProfile {
            name: "fast",
            operation: 0.2,
            instance_boot: 0.5,
            instance_stop: 0.3,
            load_balancer_provision: 0.5,
            health_check_interval: 0.5,
            session_minute: 2.0,
        }
    }

    /// For demos and benchmarks: the order of magnitude Lightsail shows (scaled to stay
    /// usable: real instances take about a minute to boot).
    pub fn realistic() -> Self {
        LatencyProfile {
            name: "realistic",
            operation: 2.0,
            instance_boot: 20.0,
            instance_stop: 10.0,
            load_balancer_provision: 30.0,
            health_check_interval: 10.0,
            session_minute: 60.0,
        }
    }

    pub fn by_name(name: &str) -> Option<Self> {
        match name {
            "fast" => Some(Self::fast()),
            "realistic" => Some(Self::realistic()),
            _ => None,
        }
    }
}
