//! The one list of services. A new service is one line here (and its folder).
use crate::service::Service;
use crate::{cloudwatch, lightsail, logs, ssm, sts};

/// Every service hastack-local speaks.
pub static SERVICES: &[&dyn Service] = &[
    &lightsail::SERVICE,
    &ssm::SERVICE,
    &logs::SERVICE,
    &cloudwatch::SERVICE,
    &sts::SERVICE,
];

/// The service whose `X-Amz-Target` prefix (or rpcv2-CBOR service name) is `prefix`.
pub fn by_prefix(prefix: &str) -> Option<&'static dyn Service> {
    SERVICES
        .iter()
        .copied()
        .find(|s| s.target_prefix() == prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_are_distinct_and_their_tables_unique() {
        let mut prefixes = std::collections::BTreeSet::new();
        for s in SERVICES {
            assert!(
                prefixes.insert(s.target_prefix()),
                "{} twice",
                s.target_prefix()
            );
            let ops = s.operations();
            let unique: std::collections::BTreeSet<_> = ops.iter().collect();
            assert_eq!(
                unique.len(),
                ops.len(),
                "{} lists an operation twice",
                s.name()
            );
            assert!(!ops.is_empty());
        }
        assert_eq!(
            by_prefix("Lightsail_20161128").map(|s| s.name()),
            Some("Lightsail")
        );
        assert!(by_prefix("Nope").is_none());
    }
}
