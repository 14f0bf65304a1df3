//! What healing remembers between Terraform runs: since when a load balancer has reported each
//! member unhealthy. Lightsail reports health without a time, so each refresh records the
//! first time it saw a member unhealthy, in the resource's private state (saved by every
//! apply, including `terraform apply -refresh-only`).
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::aws::instances::Attachment;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Watch {
    /// Member name → seconds since the epoch when it was first seen unhealthy.
    #[serde(default)]
    pub unhealthy_since: BTreeMap<String, f64>,
    /// The members a plan decided to replace (planned private state), for its apply.
    #[serde(default)]
    pub heal: Vec<String>,
}

impl Watch {
    /// The watch in a resource's private state (empty when there is none or it is unreadable).
    pub fn from_private(private: &[u8]) -> Watch {
        serde_json::from_slice(private).unwrap_or_default()
    }

    pub fn to_private(&self) -> Vec<u8> {
        if self.unhealthy_since.is_empty() && self.heal.is_empty() {
            Vec::new()
        } else {
            serde_json::to_vec(self).unwrap_or_default()
        }
    }

    /// After an apply: what it was to heal is done, and the new members start afresh.
    pub fn healed(mut self) -> Watch {
        for name in std::mem::take(&mut self.heal) {
            self.unhealthy_since.remove(&name);
        }
        self
    }

    /// Record what the load balancers report now: a member unhealthy on any of them keeps its
    /// first-seen time (or gets `now`); every other member is forgotten.
    pub fn observe(&mut self, attachments: &[Attachment], now: f64) {
        let unhealthy: Vec<&str> = attachments
            .iter()
            .filter(|a| a.health == "unhealthy")
            .map(|a| a.instance.as_str())
            .collect();
        self.unhealthy_since
            .retain(|name, _| unhealthy.contains(&name.as_str()));
        for name in unhealthy {
            self.unhealthy_since.entry(name.to_string()).or_insert(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(instance: &str, health: &str) -> Attachment {
        Attachment {
            load_balancer: "lb".into(),
            instance: instance.into(),
            health: health.into(),
        }
    }

    #[test]
    fn first_seen_is_kept_until_healthy_again() {
        let mut w = Watch::default();
        w.observe(&[at("a", "unhealthy"), at("b", "healthy")], 100.0);
        w.observe(&[at("a", "unhealthy"), at("b", "unhealthy")], 160.0);
        assert_eq!(
            w.unhealthy_since,
            [("a".into(), 100.0), ("b".into(), 160.0)].into()
        );
        let round = Watch::from_private(&w.to_private());
        assert_eq!(round, w);
        w.observe(&[at("a", "healthy"), at("b", "unhealthy")], 200.0);
        assert_eq!(w.unhealthy_since, [("b".into(), 160.0)].into());
        w.observe(&[], 300.0);
        assert!(w.to_private().is_empty());
        assert_eq!(Watch::from_private(b"not json"), Watch::default());
    }
}
