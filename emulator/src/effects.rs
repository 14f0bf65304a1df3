//! One outbox per call for everything a service's call does outside its own backend: work for
//! the hosts behind instances, Run Command deliveries, CloudWatch data points from Logs' metric
//! filters, and load balancer changes for the data plane. Handlers only record; the server
//! carries the effects out after the call (see `server::settle`), so services never reach into
//! hosts, the data plane or each other.
use std::cell::RefCell;

use crate::hosts::HostAction;

#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Something the hosts behind instances must do, in order, before the call is answered.
    Host(HostAction),
    /// A Run Command invocation to run on a host; its outcome is recorded in SSM.
    RunCommand(ExecRequest),
    /// Data points for CloudWatch (metric filters matched log events).
    MetricPoints(Vec<MetricPoint>),
    /// Load balancers or their instances may have changed: the data plane re-syncs.
    ResyncLoadBalancers,
}

/// The effects one call recorded.
#[derive(Default, Debug)]
pub struct Outbox(RefCell<Vec<Effect>>);

impl Outbox {
    pub fn push(&self, e: Effect) {
        self.0.borrow_mut().push(e);
    }

    pub fn take(&self) -> Vec<Effect> {
        std::mem::take(&mut *self.0.borrow_mut())
    }
}

/// Effects sorted by who carries them out.
#[derive(Default, Debug)]
pub struct Sorted {
    pub hosts: Vec<HostAction>,
    pub run: Vec<ExecRequest>,
    pub metric_points: Vec<MetricPoint>,
    pub resync: bool,
}

pub fn sort(effects: Vec<Effect>) -> Sorted {
    let mut s = Sorted::default();
    for e in effects {
        match e {
            Effect::Host(a) => s.hosts.push(a),
            Effect::RunCommand(x) => s.run.push(x),
            Effect::MetricPoints(p) => s.metric_points.extend(p),
            Effect::ResyncLoadBalancers => s.resync = true,
        }
    }
    s
}

/// A Run Command invocation's script, for its host (recorded back in SSM by ids).
#[derive(Clone, Debug, PartialEq)]
pub struct ExecRequest {
    pub command_id: String,
    pub instance_id: String,
    pub host: String,
    pub script: String,
    pub workdir: String,
    pub timeout_secs: u64,
}

/// A CloudWatch data point another service produced (Logs' metric filters).
#[derive(Clone, Debug, PartialEq)]
pub struct MetricPoint {
    pub namespace: String,
    pub name: String,
    pub value: f64,
    pub timestamp: f64,
    pub unit: Option<String>,
    pub dimensions: Vec<(String, String)>,
}
