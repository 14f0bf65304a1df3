//! Emulator state: each service's backend per (account, region) (or once, for global
//! services), plus faults and call counts. Backends are kept by type, so a new service needs no
//! field here.
use std::any::{Any, TypeId};
use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

type Backends = HashMap<TypeId, Box<dyn Any + Send>>;

/// The scope of global services' backends.
const GLOBAL: (&str, &str) = ("", "");

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
    /// The share of matching calls it hits (0 < rate <= 1); absent means every one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// Seeds the draws of a `rate`: the same seed and calls give the same faults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    #[serde(skip)]
    rng: Option<fastrand::Rng>,
}

impl Fault {
    pub fn new(operation: &str, kind: FaultKind) -> Self {
        Fault {
            operation: operation.into(),
            kind,
            count: None,
            rate: None,
            seed: None,
            rng: None,
        }
    }

    /// At most `count` calls (None: every call until cleared).
    pub fn with_count(mut self, count: Option<u32>) -> Self {
        self.count = count;
        self
    }

    /// Check what an added fault asks for; a rate without a seed gets one (shown in listings).
    pub fn checked(mut self) -> Result<Self, String> {
        if let Some(r) = self.rate {
            if !(r > 0.0 && r <= 1.0) {
                return Err(format!("rate {r} must be above 0 and at most 1"));
            }
            let seed = *self.seed.get_or_insert_with(|| fastrand::u64(..));
            self.rng = Some(fastrand::Rng::with_seed(seed));
        }
        if self.operation != "*" && !self.operation.contains('.') {
            return Err(format!(
                "operation {:?} must be \"*\" or Service.Operation (e.g. Lightsail.CreateInstances)",
                self.operation
            ));
        }
        Ok(self)
    }

    fn hits(&mut self, operation: &str) -> bool {
        if !(self.operation == operation || self.operation == "*") || self.count == Some(0) {
            return false;
        }
        match (self.rate, self.rng.as_mut()) {
            (Some(rate), Some(rng)) => rng.f64() < rate,
            _ => true,
        }
    }
}

impl FaultKind {
    /// The name it is added and counted under.
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::Throttling => "throttling",
            FaultKind::ServiceUnavailable => "service_unavailable",
            FaultKind::InternalFailure => "internal_failure",
            FaultKind::FailOperation { .. } => "fail_operation",
            FaultKind::Latency { .. } => "latency",
        }
    }
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
    scopes: HashMap<(String, String), Backends>,
    pub faults: Vec<Fault>,
    pub calls: BTreeMap<String, u64>,
    /// Signed calls by who signed them: principal ARN (an account root, or an assumed role's
    /// session) → access key → operation → count. Shows which credentials a client really used.
    pub callers: BTreeMap<String, BTreeMap<String, BTreeMap<String, u64>>>,
    /// Faults injected so far: operation → fault name → count.
    pub injected: BTreeMap<String, BTreeMap<String, u64>>,
}

impl State {
    /// Backend `B` of `account` in `region` (made on first use).
    pub fn backend<B: Default + Send + 'static>(&mut self, account: &str, region: &str) -> &mut B {
        self.scopes
            .entry((account.to_string(), region.to_string()))
            .or_default()
            .entry(TypeId::of::<B>())
            .or_insert_with(|| Box::new(B::default()))
            .downcast_mut::<B>()
            .expect("a backend is stored under its own type")
    }

    /// The one backend `B` of a global service.
    pub fn global<B: Default + Send + 'static>(&mut self) -> &mut B {
        self.backend::<B>(GLOBAL.0, GLOBAL.1)
    }

    /// The (account, region) pairs that have state, sorted.
    pub fn scopes(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .scopes
            .keys()
            .filter(|(a, r)| (a.as_str(), r.as_str()) != GLOBAL)
            .cloned()
            .collect();
        out.sort();
        out
    }

    /// Faults that apply to this call (drawn for a rate), consuming counted ones, and counted.
    pub fn take_faults(&mut self, operation: &str) -> Vec<FaultKind> {
        let mut hit = Vec::new();
        for f in self.faults.iter_mut() {
            if f.hits(operation) {
                if let Some(c) = f.count.as_mut() {
                    *c -= 1;
                }
                hit.push(f.kind.clone());
            }
        }
        self.faults.retain(|f| f.count != Some(0));
        // The first failing fault answers the call: later failing ones are not injected.
        let fails = |k: &FaultKind| {
            matches!(
                k,
                FaultKind::Throttling | FaultKind::ServiceUnavailable | FaultKind::InternalFailure
            )
        };
        if let Some(first) = hit.iter().position(fails) {
            let mut i = 0;
            hit.retain(|k| {
                i += 1;
                i - 1 <= first || !fails(k)
            });
        }
        for k in &hit {
            *self
                .injected
                .entry(operation.to_string())
                .or_default()
                .entry(k.name().to_string())
                .or_default() += 1;
        }
        hit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_faults_are_consumed() {
        let mut s = State::default();
        s.faults
            .push(Fault::new("Lightsail.GetInstance", FaultKind::Throttling).with_count(Some(2)));
        assert_eq!(
            s.take_faults("Lightsail.GetInstance"),
            vec![FaultKind::Throttling]
        );
        assert!(s.take_faults("Lightsail.GetRegions").is_empty());
        assert_eq!(s.take_faults("Lightsail.GetInstance").len(), 1);
        assert!(s.take_faults("Lightsail.GetInstance").is_empty());
        assert!(s.faults.is_empty());
        assert_eq!(s.injected["Lightsail.GetInstance"]["throttling"], 2);
    }

    fn draws(seed: u64) -> Vec<bool> {
        let mut s = State::default();
        let f: Fault = serde_json::from_value(
            serde_json::json!({"operation": "*", "fault": "throttling", "rate": 0.2, "seed": seed}),
        )
        .unwrap();
        s.faults.push(f.checked().unwrap());
        (0..1000)
            .map(|i| {
                !s.take_faults(if i % 2 == 0 {
                    "SSM.GetParameter"
                } else {
                    "Lightsail.GetInstance"
                })
                .is_empty()
            })
            .collect()
    }

    #[test]
    fn rated_faults_hit_about_their_share_reproducibly() {
        let a = draws(7);
        assert_eq!(a, draws(7), "same seed, same faults");
        assert_ne!(a, draws(8), "another seed, other faults");
        let hits = a.iter().filter(|h| **h).count();
        assert!((150..=250).contains(&hits), "{hits} of 1000 at rate 0.2");
        for bad in [0.0, 1.5, -0.1] {
            let f: Fault = serde_json::from_value(
                serde_json::json!({"operation": "*", "fault": "throttling", "rate": bad}),
            )
            .unwrap();
            assert!(f.checked().is_err(), "rate {bad}");
        }
        let unseeded: Fault = serde_json::from_value(
            serde_json::json!({"operation": "*", "fault": "throttling", "rate": 0.5}),
        )
        .unwrap();
        assert!(
            unseeded.checked().unwrap().seed.is_some(),
            "a seed is chosen and shown"
        );
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
