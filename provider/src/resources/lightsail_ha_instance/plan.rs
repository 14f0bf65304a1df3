//! Plan time: configuration checks (naming the attribute), defaults that need the region,
//! whether the member list will change, and members to heal.
use tfplugin::typed::{Plan, Planned};
use tfplugin::{Attr, AttributePath, Diagnostics, Known};

use super::model::{Model, Port};
use super::state;
use crate::aws::AwsError;
use crate::config::Configured;
use crate::fleet::layout::{self, duplicates};
use crate::resources::common::{check_tags, merged_tags};

pub const MAX_COUNT: i64 = 100;

/// Checks that need no AWS call (also run by `terraform validate`).
pub fn validate(c: &Model) -> Diagnostics {
    let mut d = Diagnostics::new();
    if let Some(p) = c.name_prefix.value() {
        if !layout::valid_prefix(p) {
            d.attribute_error(
                AttributePath::root("name_prefix"),
                "Invalid name prefix",
                format!("{p:?} must be 1–{} letters, digits, '-', '_' or '.', starting with a letter or digit.", layout::MAX_PREFIX),
            );
        }
    }
    if let Some(n) = c.instance_count.value() {
        let whole = n.as_i64().filter(|n| (1..=MAX_COUNT).contains(n));
        if whole.is_none() {
            d.attribute_error(
                AttributePath::root("instance_count"),
                "Invalid instance count",
                format!("instance_count is {n}; it must be a whole number from 1 to {MAX_COUNT}. To remove the group, remove the resource."),
            );
        }
    }
    if let Some(zones) = c.availability_zones.value() {
        if zones.is_empty() {
            d.attribute_error(
                AttributePath::root("availability_zones"),
                "No availability zones",
                "availability_zones must list at least one zone (or be left out for every zone of the region).",
            );
        }
        let mut region: Option<&str> = None;
        for (i, z) in zones.iter().enumerate() {
            let at = AttributePath::root("availability_zones").index(i as i64);
            match zone_region(z) {
                None => d.attribute_error(
                    at.clone(),
                    "Invalid availability zone",
                    format!("{z:?} is not an availability zone name such as \"us-east-1a\"."),
                ),
                Some(r) => match region {
                    Some(first) if first != r => d.attribute_error(
                        at.clone(),
                        "Availability zones in several regions",
                        format!("{z} is in {r}, the zones before it in {first}: every zone must be in the provider's region."),
                    ),
                    _ => region = Some(r),
                },
            }
            if zones[..i].contains(z) {
                d.attribute_error(
                    AttributePath::root("availability_zones").index(i as i64),
                    "Duplicate availability zone",
                    format!("{z} is listed twice."),
                );
            }
        }
    }
    for (key, v) in [
        ("blueprint_id", &c.blueprint_id),
        ("bundle_id", &c.bundle_id),
        ("ssm_role", &c.ssm_role),
    ] {
        if v.value().is_some_and(|v| v.trim().is_empty()) {
            d.attribute_error(
                AttributePath::root(key),
                "Empty value",
                format!("{key} must not be empty."),
            );
        }
    }
    for (key, what, example) in [
        ("blueprint_id", "blueprint", "debian_12"),
        ("bundle_id", "bundle", "nano_3_0"),
    ] {
        let v = if key == "bundle_id" {
            &c.bundle_id
        } else {
            &c.blueprint_id
        };
        if let Some(id) = v.value().filter(|v| !v.trim().is_empty() && !valid_id(v)) {
            d.attribute_error(
                AttributePath::root(key),
                format!("Invalid {what} ID"),
                format!("{id:?} is not a Lightsail {what} ID such as {example:?} (letters, digits, '_', '-' or '.', at most 255)."),
            );
        }
    }
    if let Some(u) = c.user_data.value() {
        let rendered = boot_script_len(u);
        if rendered > MAX_USER_DATA {
            d.attribute_error(
                AttributePath::root("user_data"),
                "User data too long",
                format!("user_data is {} bytes; with hastack's bootstrap (which carries it gzipped and base64-encoded) the boot script would be {rendered} bytes, and Lightsail takes at most {MAX_USER_DATA}. Keep user_data under about {} bytes of gzip, e.g. by downloading the rest at boot.", u.len(), max_user_data()),
            );
        }
    }
    if let Some(role) = c.ssm_role.value() {
        let ok = role.len() <= 64
            && role
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "+=,.@_-/".contains(ch));
        if !ok {
            d.attribute_error(
                AttributePath::root("ssm_role"),
                "Invalid SSM role",
                format!("{role:?} must be an IAM role name (at most 64 of A–Z, a–z, 0–9 and +=,.@_-/), not an ARN."),
            );
        }
    }
    if let Some(s) = c.replace_unhealthy_after.value() {
        if let Err(e) = tfplugin::timeouts::parse_duration(s) {
            d.attribute_error(
                AttributePath::root("replace_unhealthy_after"),
                "Invalid duration",
                format!(
                    "{s:?} is not a duration: {e}. Use e.g. \"5m\", or \"0\" to turn healing off."
                ),
            );
        }
    }
    if let Some(tags) = c.tags.value() {
        check_tags(tags, AttributePath::root("tags"), &mut d);
    }
    if let Some(list) = c.sidecars.value() {
        for (i, problem) in crate::sidecar::problems(list) {
            d.attribute_error(
                AttributePath::root("sidecars").index(i as i64),
                "Invalid sidecar",
                format!("sidecars[{i}]: {problem}"),
            );
        }
    }
    let ports = c.public_ports.value().cloned().unwrap_or_default();
    let mut rules = Vec::new();
    for (i, p) in ports.iter().enumerate() {
        let at = AttributePath::root("public_ports").index(i as i64);
        let Some(rule) = p.rule() else {
            d.attribute_error(
                at,
                "Invalid port rule",
                format!("public_ports[{i}]: from_port and to_port must be whole numbers."),
            );
            continue;
        };
        for problem in rule.problems() {
            let summary = if rule.opens_ssh() && problem.contains("include 22") {
                "Port 22 must stay closed"
            } else {
                "Invalid port rule"
            };
            d.attribute_error(at.clone(), summary, format!("public_ports[{i}]: {problem}"));
        }
        rules.push(rule);
    }
    for i in duplicates(&rules) {
        d.attribute_error(
            AttributePath::root("public_ports").index(i as i64),
            "Duplicate port rule",
            format!("public_ports[{i}] repeats an earlier rule with the same ports, protocol and CIDRs."),
        );
    }
    d
}

/// The region of an availability zone name (`us-east-1a` is in `us-east-1`), or `None` when
/// `z` is not one.
fn zone_region(z: &str) -> Option<&str> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(r"^([a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+)[a-z]$")
            .expect("valid regex")
    });
    re.captures(z).and_then(|c| c.get(1)).map(|m| m.as_str())
}

/// What a Lightsail blueprint or bundle ID can be (`debian_12`, `nano_3_0`).
fn valid_id(id: &str) -> bool {
    (1..=255).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
}

/// The most user data Lightsail (as EC2) takes: 16 KiB.
pub const MAX_USER_DATA: usize = 16 * 1024;

/// How long a member's boot script is with `user_data` in it (the activation at its longest).
fn boot_script_len(user_data: &str) -> usize {
    let id = "0".repeat(36);
    let code = "A".repeat(64);
    crate::fleet::bootstrap::render("ap-southeast-5", &id, &code, user_data)
        .map(|s| s.len())
        .unwrap_or(usize::MAX)
}

/// The most gzipped user data that fits (base64 makes 3 bytes 4, plus a newline every 76).
fn max_user_data() -> usize {
    let room = MAX_USER_DATA.saturating_sub(boot_script_len(""));
    room / 77 * 76 * 3 / 4
}

/// The zones of `region` as Lightsail lists them.
#[tracing::instrument(skip_all, fields(region = region))]
pub async fn region_zones(
    c: &aws_sdk_lightsail::Client,
    region: &str,
) -> Result<Vec<String>, AwsError> {
    let out = c
        .get_regions()
        .include_availability_zones(true)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("GetRegions", &e))?;
    let r = out
        .regions()
        .iter()
        .find(|r| r.name().map(|n| n.as_str()) == Some(region))
        .ok_or_else(|| AwsError::not_found(format!("region {region} in GetRegions")))?;
    Ok(r.availability_zones()
        .iter()
        .filter_map(|z| z.zone_name().map(str::to_string))
        .collect())
}

/// Ids of every bundle or blueprint (`bundles` chooses), following pages.
#[tracing::instrument(skip_all, fields(bundles = bundles))]
async fn catalogue(c: &aws_sdk_lightsail::Client, bundles: bool) -> Result<Vec<String>, AwsError> {
    let mut ids = Vec::new();
    let mut token = None;
    loop {
        let next = if bundles {
            let out = c
                .get_bundles()
                .set_page_token(token)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("GetBundles", &e))?;
            ids.extend(
                out.bundles()
                    .iter()
                    .filter_map(|b| b.bundle_id().map(str::to_string)),
            );
            out.next_page_token
        } else {
            let out = c
                .get_blueprints()
                .set_page_token(token)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("GetBlueprints", &e))?;
            ids.extend(
                out.blueprints()
                    .iter()
                    .filter_map(|b| b.blueprint_id().map(str::to_string)),
            );
            out.next_page_token
        };
        token = next;
        if token.is_none() {
            return Ok(ids);
        }
    }
}

/// Fill what needs the provider's configuration, check what needs AWS, decide whether
/// `instances` stays as it is, and plan members to heal.
pub async fn modify(req: Plan<'_, Configured, Model>) -> Planned<Model> {
    let mut planned = req.planned;
    let mut d = Diagnostics::new();
    let prior = req.prior.as_ref();
    if let Known::Known(Some(p)) = &planned.name_prefix {
        planned.id = Attr::some(p.clone());
    }
    // Null CIDR lists mean everyone: say so in the plan.
    if let Known::Known(Some(ports)) = &mut planned.public_ports {
        for p in ports.iter_mut() {
            let both_null = p.cidrs.is_none() && p.ipv6_cidrs.is_none();
            fill(p, both_null);
        }
    }
    let mut heal = Vec::new();
    if let Some(cfg) = req.client {
        if let Known::Known(tags) = &planned.tags {
            planned.tags_all = Attr::some(merged_tags(&cfg.default_tags, tags.as_ref()));
        }
        check_with_aws(cfg, &req.config, prior, &mut planned, &mut d).await;
        if let Some(prior) = prior {
            heal = to_heal(cfg, prior, &planned, &req.private).await;
        }
    }
    for s in &heal {
        d.attribute_warning(
            AttributePath::root("instances"),
            "Member to replace",
            format!(
                "{} will be replaced: {}. Set replace_unhealthy_after = \"0\" to turn healing off.",
                s.name, s.why
            ),
        );
    }
    // `instances` stays only when the members already are exactly the wanted ones.
    let keep = heal.is_empty()
        && matches!((planned_members(&planned), prior.and_then(current_members)), (Some(a), Some(b)) if a == b);
    planned.instances = if keep {
        prior.map(|p| p.instances.clone()).unwrap_or_default()
    } else {
        Known::Unknown
    };
    // The apply replaces exactly the members announced here (and no other one, whatever the
    // clock says by then).
    let mut watch = crate::fleet::heal::Watch::from_private(&req.private);
    watch.heal = heal.iter().map(|s| s.name.clone()).collect();
    Planned {
        planned,
        requires_replace: Vec::new(),
        private: watch.to_private(),
        diagnostics: d,
    }
}

fn fill(p: &mut Port, both_null: bool) {
    if p.cidrs.is_none() {
        p.cidrs = Some(if both_null {
            vec!["0.0.0.0/0".into()]
        } else {
            vec![]
        });
    }
    if p.ipv6_cidrs.is_none() {
        p.ipv6_cidrs = Some(if both_null {
            vec!["::/0".into()]
        } else {
            vec![]
        });
    }
}

/// Members past the heal grace, as AWS reports them now (none when AWS does not answer).
async fn to_heal(
    cfg: &Configured,
    prior: &Model,
    planned: &Model,
    private: &[u8],
) -> Vec<crate::fleet::Sick> {
    let mut g = state::group(planned, &cfg.default_tags);
    g.unhealthy_since = crate::fleet::heal::Watch::from_private(private).unhealthy_since;
    if g.heal_after.is_none() || prior.instances.value().is_none() {
        return Vec::new();
    }
    let cancel = tokio_util::sync::CancellationToken::new();
    let f = super::fleet(cfg, &cancel, std::time::Duration::from_secs(60));
    match f.observe(&g).await {
        Ok((members, nodes)) => f.to_heal(&g, &members, &nodes),
        Err(e) => {
            tracing::warn!(error = %e, "cannot check members' health at plan time");
            Vec::new()
        }
    }
}

/// Zones (defaulted, and each of the provider's region), bundle and blueprint exist.
/// Only what changed is checked; AWS failing to answer leaves the check to apply.
async fn check_with_aws(
    cfg: &Configured,
    config: &Model,
    prior: Option<&Model>,
    planned: &mut Model,
    d: &mut Diagnostics,
) {
    let c = crate::aws::lightsail::client(cfg);
    let region = cfg.region();
    let prior_zones = prior.map(|p| &p.availability_zones);
    let config_zones = &config.availability_zones;
    if config_zones.is_null() && prior_zones.is_some_and(|z| z.value().is_some()) {
        planned.availability_zones = prior_zones.cloned().unwrap_or_default();
    } else if config_zones.is_null()
        || (config_zones.value().is_some() && prior_zones != Some(&planned.availability_zones))
    {
        match region_zones(&c, &region).await {
            Ok(zones) => match config_zones.value() {
                None => planned.availability_zones = Attr::some(zones),
                Some(want) => {
                    for (i, z) in want.iter().enumerate() {
                        if !zones.contains(z) {
                            d.attribute_error(
                                AttributePath::root("availability_zones").index(i as i64),
                                "Availability zone not in the provider's region",
                                format!(
                                    "{z} is not a zone of {region}; its zones are {}.",
                                    zones.join(", ")
                                ),
                            );
                        }
                    }
                }
            },
            Err(e) => tracing::warn!(error = %e, "cannot list zones at plan time"),
        }
    }
    for (key, bundles, what) in [
        ("bundle_id", true, "bundle"),
        ("blueprint_id", false, "blueprint"),
    ] {
        let (now, before) = if bundles {
            (&planned.bundle_id, prior.map(|p| &p.bundle_id))
        } else {
            (&planned.blueprint_id, prior.map(|p| &p.blueprint_id))
        };
        let Some(id) = now.value() else {
            continue;
        };
        if before == Some(now) {
            continue;
        }
        match catalogue(&c, bundles).await {
            Ok(ids) if !ids.contains(id) => {
                let some: Vec<&str> = ids.iter().take(8).map(String::as_str).collect();
                d.attribute_error(
                    AttributePath::root(key),
                    format!("Unknown Lightsail {what}"),
                    format!(
                        "{key} {id:?} is not a {what} of {region}. Some that are: {}.",
                        some.join(", ")
                    ),
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot list {what}s at plan time"),
        }
    }
}

/// The member names the plan wants, or `None` while something they depend on is unknown.
fn planned_members(planned: &Model) -> Option<Vec<String>> {
    let zones = planned.availability_zones.value()?;
    let count = planned.count()?;
    if zones.is_empty() || planned.user_data.is_unknown() {
        return None;
    }
    let g = state::group(planned, &Default::default());
    Some(
        layout::wanted(&g.spec(), count.max(0) as usize, zones)
            .into_iter()
            .map(|w| w.name)
            .collect(),
    )
}

/// The members in state that are fine as they are (running, registered with SSM).
fn current_members(prior: &Model) -> Option<Vec<String>> {
    prior
        .instances
        .value()?
        .iter()
        .map(|i| (i.state == "running" && !i.ssm_instance_id.is_empty()).then(|| i.name.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` letters and digits gzip cannot shrink much (xorshift draws, 6 bits a byte).
    fn noise(n: usize) -> String {
        const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                ABC[(x % 64) as usize] as char
            })
            .collect()
    }
    use std::collections::BTreeMap;

    fn config(role: &str, count: &str) -> Model {
        Model {
            name_prefix: Attr::some("web".into()),
            instance_count: Attr::some(count.parse().unwrap()),
            ssm_role: Attr::some(role.into()),
            ..Default::default()
        }
    }

    fn port(from: i64, to: i64) -> Port {
        Port {
            from_port: from.into(),
            to_port: to.into(),
            protocol: "tcp".into(),
            cidrs: None,
            ipv6_cidrs: None,
        }
    }

    #[test]
    fn validate_names_the_attribute() {
        let many_tags: BTreeMap<String, String> =
            (0..51).map(|i| (format!("k{i}"), "v".into())).collect();
        let cases = [
            ("fine", config("hastack-ssm", "2"), None),
            (
                "arn is not a name",
                config("arn:aws:iam::123456789012:role/x", "2"),
                Some("ssm_role"),
            ),
            ("count 0", config("r", "0"), Some("instance_count")),
            ("count 101", config("r", "101"), Some("instance_count")),
            (
                "fractional count",
                config("r", "2.5"),
                Some("instance_count"),
            ),
            (
                "duplicate port rule",
                Model {
                    public_ports: Attr::some(vec![port(80, 80), port(443, 443), port(80, 80)]),
                    ..config("r", "1")
                },
                Some("public_ports[2]"),
            ),
            (
                "51 tags",
                Model {
                    tags: Attr::some(many_tags),
                    ..config("r", "1")
                },
                Some("tags"),
            ),
            (
                "malformed zone",
                Model {
                    availability_zones: Attr::some(vec!["zone-a".into()]),
                    ..config("r", "1")
                },
                Some("availability_zones[0]"),
            ),
            (
                "zones of two regions",
                Model {
                    availability_zones: Attr::some(vec!["us-east-1a".into(), "eu-west-1b".into()]),
                    ..config("r", "1")
                },
                Some("availability_zones[1]"),
            ),
            (
                "gov zones",
                Model {
                    availability_zones: Attr::some(vec![
                        "us-gov-west-1a".into(),
                        "us-gov-west-1b".into(),
                    ]),
                    ..config("hastack-ssm", "2")
                },
                None,
            ),
            (
                "malformed bundle",
                Model {
                    bundle_id: Attr::some("nano/3.0".into()),
                    ..config("r", "1")
                },
                Some("bundle_id"),
            ),
            (
                "user data over 16 KiB with the bootstrap, even gzipped",
                Model {
                    user_data: Attr::some(noise(2 * max_user_data())),
                    ..config("r", "1")
                },
                Some("user_data"),
            ),
            (
                "user data that fits once gzipped",
                Model {
                    user_data: Attr::some("x".repeat(3 * MAX_USER_DATA)),
                    ..config("hastack-ssm", "1")
                },
                None,
            ),
            (
                "bad heal grace",
                Model {
                    replace_unhealthy_after: Attr::some("soon".into()),
                    ..config("r", "1")
                },
                Some("replace_unhealthy_after"),
            ),
        ];
        for (case, c, attr) in cases {
            let d = validate(&c);
            let got: Vec<String> = d
                .iter()
                .filter_map(|x| x.attribute.as_ref().map(|p| p.to_string()))
                .collect();
            match attr {
                None => assert!(!d.has_errors(), "{case}: {got:?}"),
                Some(a) => assert!(got.iter().any(|g| g.contains(a)), "{case}: {got:?}"),
            }
        }
    }
}
