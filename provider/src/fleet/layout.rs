//! Pure logic of an instance group: member names, zone placement, port rules, and what an
//! apply must do to go from the members that exist to the members the configuration wants.
use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

/// One member the configuration wants: index `index` in `zone`, named after its revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wanted {
    pub index: usize,
    pub zone: String,
    pub name: String,
}

/// What defines an instance: changing any of these replaces it (one at a time).
pub struct Spec<'a> {
    pub prefix: &'a str,
    pub blueprint_id: &'a str,
    pub bundle_id: &'a str,
    pub user_data: &'a str,
}

/// Longest `name_prefix`: the name gets `-<index>-<revision>` appended and must stay ≤ 255.
pub const MAX_PREFIX: usize = 200;

pub fn valid_prefix(p: &str) -> bool {
    (1..=MAX_PREFIX).contains(&p.len())
        && p.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// Six hex digits of SHA-256 over what defines the instance at `zone`. Part of the name, so a
/// replacement can run beside the instance it replaces and an interrupted roll can resume.
pub fn revision(spec: &Spec<'_>, zone: &str) -> String {
    let mut h = Sha256::new();
    for part in [zone, spec.blueprint_id, spec.bundle_id, spec.user_data] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    h.finalize()[..3]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Index `i` goes to `zones[i % len]`: growing the count never moves an existing index
/// (the same rule as `provider::hastack::spread_zones`).
pub fn wanted(spec: &Spec<'_>, count: usize, zones: &[String]) -> Vec<Wanted> {
    (0..count)
        .map(|index| {
            let zone = zones[index % zones.len()].clone();
            let name = format!("{}-{index}-{}", spec.prefix, revision(spec, &zone));
            Wanted { index, zone, name }
        })
        .collect()
}

/// The index of a member of group `prefix` named `name`, if it is one.
pub fn member_index(prefix: &str, name: &str) -> Option<usize> {
    let rest = name.strip_prefix(prefix)?.strip_prefix('-')?;
    let (index, rev) = rest.split_once('-')?;
    let ok_rev = rev.len() == 6 && rev.bytes().all(|b| b.is_ascii_hexdigit());
    let ok_index = !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit());
    (ok_rev && ok_index && (index == "0" || !index.starts_with('0')))
        .then(|| index.parse().ok())
        .flatten()
}

/// The steps from the existing members to the wanted ones.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Indices with no member at all: created together.
    pub create: Vec<Wanted>,
    /// Indices whose member has another revision: (new, old), replaced one at a time. The new
    /// one may exist already (a roll that was interrupted): then it is not created again.
    pub replace: Vec<(Wanted, String)>,
    /// Members beyond the count, or leftovers beside a current member: deleted, highest first.
    pub delete: Vec<String>,
}

/// `existing` lists the members oldest first: where an index has several that are not wanted,
/// the oldest is the one replaced (under the health gate) and the others are deleted.
pub fn changes(existing: &[String], prefix: &str, wanted: &[Wanted]) -> Changes {
    let mut by_index: BTreeMap<usize, Vec<&String>> = BTreeMap::new();
    for name in existing {
        if let Some(i) = member_index(prefix, name) {
            by_index.entry(i).or_default().push(name);
        }
    }
    let mut c = Changes::default();
    for w in wanted {
        match by_index.remove(&w.index) {
            None => c.create.push(w.clone()),
            Some(names) if names.contains(&&w.name) => {
                // An interrupted roll left the old one beside the new one: finish it (the new
                // one must pass the same gate before the old one goes).
                let old: Vec<&String> = names.into_iter().filter(|n| **n != w.name).collect();
                if let Some((first, rest)) = old.split_first() {
                    c.replace.push((w.clone(), (*first).clone()));
                    c.delete.extend(rest.iter().map(|n| (*n).clone()));
                }
            }
            Some(mut names) => {
                // The oldest is the one serving; newer ones are leftovers of a failed roll.
                let old = names.remove(0).clone();
                c.delete.extend(names.into_iter().cloned());
                c.replace.push((w.clone(), old));
            }
        }
    }
    // Beyond the count: highest index first.
    for (_, names) in by_index.into_iter().rev() {
        c.delete.extend(names.into_iter().cloned());
    }
    c
}

pub use crate::aws::instances::{canonical, PortRule};

pub const PROTOCOLS: [&str; 5] = ["tcp", "udp", "all", "icmp", "icmpv6"];

impl PortRule {
    /// A rule from the configuration: null `cidrs` and `ipv6_cidrs` together mean everyone;
    /// one of them set means only it.
    pub fn from_config(
        from_port: i64,
        to_port: i64,
        protocol: &str,
        cidrs: Option<Vec<String>>,
        ipv6_cidrs: Option<Vec<String>>,
    ) -> PortRule {
        let (cidrs, ipv6_cidrs) = match (cidrs, ipv6_cidrs) {
            (None, None) => (vec!["0.0.0.0/0".into()], vec!["::/0".into()]),
            (c, i) => (c.unwrap_or_default(), i.unwrap_or_default()),
        };
        PortRule {
            from_port,
            to_port,
            protocol: protocol.to_string(),
            cidrs,
            ipv6_cidrs,
        }
    }

    /// Whether the rule lets anyone reach TCP port 22.
    pub fn opens_ssh(&self) -> bool {
        matches!(self.protocol.as_str(), "tcp" | "all")
            && self.from_port <= 22
            && 22 <= self.to_port
            && !(self.cidrs.is_empty() && self.ipv6_cidrs.is_empty())
    }

    /// Problems with the rule, each a sentence naming the field.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if !PROTOCOLS.contains(&self.protocol.as_str()) {
            p.push(format!(
                "protocol {:?} must be one of {}.",
                self.protocol,
                PROTOCOLS.join(", ")
            ));
        }
        let icmp = self.protocol.starts_with("icmp");
        let lo = if icmp { -1 } else { 0 };
        for (k, v) in [("from_port", self.from_port), ("to_port", self.to_port)] {
            if !(lo..=65535).contains(&v) {
                p.push(format!("{k} {v} is not a port ({lo}–65535)."));
            }
        }
        if self.from_port > self.to_port {
            p.push(format!(
                "from_port {} is above to_port {}.",
                self.from_port, self.to_port
            ));
        }
        if self.protocol == "all" && (self.from_port, self.to_port) != (0, 65535) {
            p.push("protocol \"all\" needs from_port 0 and to_port 65535.".into());
        }
        for c in &self.cidrs {
            if !valid_cidr(c, false) {
                p.push(format!(
                    "cidrs: {c:?} is not an IPv4 CIDR block such as 203.0.113.0/24."
                ));
            }
        }
        for c in &self.ipv6_cidrs {
            if !valid_cidr(c, true) {
                p.push(format!(
                    "ipv6_cidrs: {c:?} is not an IPv6 CIDR block such as 2001:db8::/32."
                ));
            }
        }
        if self.opens_ssh() {
            p.push(format!(
                "ports {}-{} ({}) include 22. hastack instances never open SSH: use SSM Session Manager (`aws ssm start-session`) for a shell.",
                self.from_port, self.to_port, self.protocol
            ));
        }
        p
    }
}

fn valid_cidr(c: &str, v6: bool) -> bool {
    let Some((addr, len)) = c.split_once('/') else {
        return false;
    };
    let Ok(len) = len.parse::<u8>() else {
        return false;
    };
    if v6 {
        addr.parse::<std::net::Ipv6Addr>().is_ok() && len <= 128
    } else {
        addr.parse::<std::net::Ipv4Addr>().is_ok() && len <= 32
    }
}

/// Indices of rules that repeat an earlier one (same ports, protocol and CIDRs).
pub fn duplicates(rules: &[PortRule]) -> Vec<usize> {
    let canon: Vec<PortRule> = rules
        .iter()
        .map(|r| canonical(std::slice::from_ref(r)).remove(0))
        .collect();
    (0..canon.len())
        .filter(|&i| canon[..i].contains(&canon[i]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(user_data: &str) -> Spec<'_> {
        Spec {
            prefix: "web",
            blueprint_id: "debian_12",
            bundle_id: "nano_3_0",
            user_data,
        }
    }

    fn zones(z: &[&str]) -> Vec<String> {
        z.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn growing_never_moves_an_index() {
        let z = zones(&["us-east-1a", "us-east-1b"]);
        let three = wanted(&spec(""), 3, &z);
        let five = wanted(&spec(""), 5, &z);
        assert_eq!(three[..], five[..3]);
        assert_eq!(
            five.iter().map(|w| w.zone.as_str()).collect::<Vec<_>>(),
            [
                "us-east-1a",
                "us-east-1b",
                "us-east-1a",
                "us-east-1b",
                "us-east-1a"
            ]
        );
    }

    #[test]
    fn names_carry_index_and_revision() {
        let w = wanted(&spec("echo hi"), 2, &zones(&["us-east-1a"]));
        assert!(w[1].name.starts_with("web-1-"), "{}", w[1].name);
        assert_eq!(member_index("web", &w[1].name), Some(1));
        assert_ne!(
            revision(&spec("echo hi"), "us-east-1a"),
            revision(&spec("echo bye"), "us-east-1a")
        );
        for not_member in [
            "web-1",
            "web-x-abcdef",
            "web-01-abcdef",
            "webby-1-abcdef",
            "web-1-abcdeg",
            "other-1-abcdef",
        ] {
            assert_eq!(member_index("web", not_member), None, "{not_member}");
        }
        // A prefix that itself ends in -<digits> does not swallow another group's members.
        assert_eq!(member_index("web-1", "web-1-0-abcdef"), Some(0));
        assert_eq!(member_index("web", "web-1-0-abcdef"), None);
    }

    #[test]
    fn changes_table() {
        let z = zones(&["us-east-1a", "us-east-1b"]);
        let want = wanted(&spec("v2"), 2, &z);
        let old = wanted(&spec("v1"), 3, &z);
        let names = |w: &[Wanted]| w.iter().map(|w| w.name.clone()).collect::<Vec<_>>();
        let cases: Vec<(&str, Vec<String>, Changes)> = vec![
            (
                "nothing exists",
                vec![],
                Changes {
                    create: want.clone(),
                    ..Default::default()
                },
            ),
            ("all current", names(&want), Changes::default()),
            (
                "count down and new revision",
                names(&old),
                Changes {
                    replace: vec![
                        (want[0].clone(), old[0].name.clone()),
                        (want[1].clone(), old[1].name.clone()),
                    ],
                    delete: vec![old[2].name.clone()],
                    ..Default::default()
                },
            ),
            (
                "interrupted roll: old beside new",
                vec![
                    want[0].name.clone(),
                    old[0].name.clone(),
                    want[1].name.clone(),
                ],
                Changes {
                    replace: vec![(want[0].clone(), old[0].name.clone())],
                    ..Default::default()
                },
            ),
            (
                "failed roll: the oldest is replaced under the gate, the broken one goes",
                vec![
                    old[0].name.clone(),
                    wanted(&spec("broken"), 1, &z)[0].name.clone(),
                    want[1].name.clone(),
                ],
                Changes {
                    replace: vec![(want[0].clone(), old[0].name.clone())],
                    delete: vec![wanted(&spec("broken"), 1, &z)[0].name.clone()],
                    ..Default::default()
                },
            ),
            (
                "one deleted out of band",
                vec![want[1].name.clone(), "unrelated".into()],
                Changes {
                    create: vec![want[0].clone()],
                    ..Default::default()
                },
            ),
        ];
        for (case, existing, expect) in cases {
            assert_eq!(changes(&existing, "web", &want), expect, "{case}");
        }
    }

    fn rule(from: i64, to: i64, protocol: &str, cidrs: &[&str]) -> PortRule {
        PortRule {
            from_port: from,
            to_port: to,
            protocol: protocol.into(),
            cidrs: cidrs.iter().map(|s| s.to_string()).collect(),
            ipv6_cidrs: vec![],
        }
    }

    #[test]
    fn port_rules_table() {
        let cases: Vec<(&str, PortRule, Option<&str>)> = vec![
            ("http", rule(80, 80, "tcp", &["0.0.0.0/0"]), None),
            (
                "ssh",
                rule(22, 22, "tcp", &["0.0.0.0/0"]),
                Some("include 22"),
            ),
            (
                "range over ssh",
                rule(20, 25, "tcp", &["10.0.0.0/8"]),
                Some("include 22"),
            ),
            (
                "all protocols",
                rule(0, 65535, "all", &["0.0.0.0/0"]),
                Some("include 22"),
            ),
            (
                "udp 22 is not ssh",
                rule(22, 22, "udp", &["0.0.0.0/0"]),
                None,
            ),
            ("icmp", rule(-1, -1, "icmp", &["0.0.0.0/0"]), None),
            (
                "bad cidr",
                rule(443, 443, "tcp", &["10.0.0/8"]),
                Some("cidrs: \"10.0.0/8\""),
            ),
            (
                "bad mask",
                rule(443, 443, "tcp", &["10.0.0.0/33"]),
                Some("not an IPv4 CIDR"),
            ),
            ("reversed", rule(90, 80, "tcp", &[]), Some("above to_port")),
            (
                "protocol",
                rule(80, 80, "sctp", &[]),
                Some("must be one of"),
            ),
        ];
        for (case, r, want) in cases {
            let p = r.problems().join(" ");
            match want {
                None => assert!(p.is_empty(), "{case}: {p}"),
                Some(w) => assert!(p.contains(w), "{case}: {p}"),
            }
        }
    }

    #[test]
    fn null_cidrs_mean_everyone_and_canonical_order_ignores_cidr_order() {
        let r = PortRule::from_config(80, 80, "tcp", None, None);
        assert_eq!(
            (r.cidrs.as_slice(), r.ipv6_cidrs.as_slice()),
            (&["0.0.0.0/0".to_string()][..], &["::/0".to_string()][..])
        );
        let a = rule(80, 80, "tcp", &["10.0.0.0/8", "192.168.0.0/16"]);
        let b = rule(80, 80, "tcp", &["192.168.0.0/16", "10.0.0.0/8"]);
        assert_eq!(
            canonical(std::slice::from_ref(&a)),
            canonical(std::slice::from_ref(&b))
        );
        assert_eq!(duplicates(&[a, rule(443, 443, "tcp", &[]), b]), [2]);
    }
}
