//! Emulator state: one backend per (account, region), plus faults and call counts.
use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::{cloudwatch, lightsail, logs, ssm, sts};

#[derive(Default)]
pub struct Backends {
    pub lightsail: lightsail::Backend,
    pub ssm: ssm::Backend,
    pub logs: logs::Backend,
    pub cloudwatch: cloudwatch::Backend,
}

/// An injected fault.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Fault {
    /// `Service.Operation`, e.g. `Lightsail.CreateInstances`; `*` matches every operation.
    pub operation: String,
    #[serde(flatten)]
    pub kind: FaultKind,
    /// How many calls it affects; absent means every call until cleared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "fault", rename_all = "snake_case")]
pub enum FaultKind {
    /// 400 ThrottlingException (the SDK retries it).
    Throttling,
    /// 503 ServiceUnavailableException.
    ServiceUnavailable,
    /// 500 InternalFailure.
    InternalFailure,
    /// The call succeeds but the Operations it returns end `Failed` with this code.
    FailOperation {
        error_code: String,
        error_details: String,
    },
    /// The call is answered this much later.
    Latency { millis: u64 },
}

#[derive(Default)]
pub struct State {
    pub backends: HashMap<(String, String), Backends>,
    /// STS is global: its issued credentials work in every region.
    pub sts: sts::Backend,
    pub faults: Vec<Fault>,
    pub calls: BTreeMap<String, u64>,
}

impl State {
    pub fn backends(&mut self, account: &str, region: &str) -> &mut Backends {
        self.backends
            .entry((account.to_string(), region.to_string()))
            .or_default()
    }

    /// Faults that apply to this call, consuming counted ones.
    pub fn take_faults(&mut self, operation: &str) -> Vec<FaultKind> {
        let mut hit = Vec::new();
        for f in self.faults.iter_mut() {
            if (f.operation == operation || f.operation == "*") && f.count != Some(0) {
                if let Some(c) = f.count.as_mut() {
                    *c -= 1;
                }
                hit.push(f.kind.clone());
            }
        }
        self.faults.retain(|f| f.count != Some(0));
        hit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_faults_are_consumed() {
        let mut s = State::default();
        s.faults.push(Fault {
            operation: "Lightsail.GetInstance".into(),
            kind: FaultKind::Throttling,
            count: Some(2),
        });
        assert_eq!(
            s.take_faults("Lightsail.GetInstance"),
            vec![FaultKind::Throttling]
        );
        assert!(s.take_faults("Lightsail.GetRegions").is_empty());
        assert_eq!(s.take_faults("Lightsail.GetInstance").len(), 1);
        assert!(s.take_faults("Lightsail.GetInstance").is_empty());
        assert!(s.faults.is_empty());
    }

    #[test]
    fn fault_json_shape() {
        let f: Fault = serde_json::from_str(r#"{"operation":"Lightsail.CreateInstances","fault":"fail_operation","error_code":"NoCapacity","error_details":"zone full"}"#).unwrap();
        assert_eq!(
            f.kind,
            FaultKind::FailOperation {
                error_code: "NoCapacity".into(),
                error_details: "zone full".into()
            }
        );
        assert_eq!(f.count, None);
    }
}
