//! Plan time: configuration checks (naming the attribute), defaults that need the region,
//! and whether the member list will change.
use tfplugin::resource::{PlanRequest, PlanResponse};
use tfplugin::{AttributePath, Diagnostics, Value};

use super::layout::{self, PortRule};
use crate::config::Configured;
use crate::resources::common::{map_value, merged_tags, num, strings, text};

pub const MAX_COUNT: i64 = 100;

/// Checks that need no AWS call (also run by `terraform validate`).
pub fn validate(c: &Value) -> Diagnostics {
    let mut d = Diagnostics::new();
    if let Some(p) = text(c.get("name_prefix")) {
        if !layout::valid_prefix(&p) {
            d.attribute_error(
                AttributePath::root("name_prefix"),
                "Invalid name prefix",
                format!("{p:?} must be 1–{} letters, digits, '-', '_' or '.', starting with a letter or digit.", layout::MAX_PREFIX),
            );
        }
    }
    if let Some(n) = num(c.get("instance_count")) {
        if !(1..=MAX_COUNT).contains(&n) {
            d.attribute_error(
                AttributePath::root("instance_count"),
                "Invalid instance count",
                format!("instance_count is {n}; it must be 1 to {MAX_COUNT}. To remove the group, remove the resource."),
            );
        }
    }
    if let Some(zones) = c.get("availability_zones").elements() {
        if zones.is_empty() {
            d.attribute_error(
                AttributePath::root("availability_zones"),
                "No availability zones",
                "availability_zones must list at least one zone (or be left out for every zone of the region).",
            );
        }
        let mut seen = Vec::new();
        for (i, z) in zones.iter().enumerate() {
            if let Some(z) = z.as_str() {
                if seen.contains(&z) {
                    d.attribute_error(
                        AttributePath::root("availability_zones").index(i as i64),
                        "Duplicate availability zone",
                        format!("{z} is listed twice."),
                    );
                }
                seen.push(z);
            }
        }
    }
    for key in ["blueprint_id", "bundle_id", "ssm_role"] {
        if text(c.get(key)).is_some_and(|v| v.trim().is_empty()) {
            d.attribute_error(
                AttributePath::root(key),
                "Empty value",
                format!("{key} must not be empty."),
            );
        }
    }
    if let Some(role) = text(c.get("ssm_role")) {
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
    for (i, r) in c
        .get("public_ports")
        .elements()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let Some(rule) = PortRule::from_value(r) else {
            continue;
        };
        for p in rule.problems() {
            let summary = if rule.opens_ssh() && p.contains("include 22") {
                "Port 22 must stay closed"
            } else {
                "Invalid port rule"
            };
            d.attribute_error(
                AttributePath::root("public_ports").index(i as i64),
                summary,
                format!("public_ports[{i}]: {p}"),
            );
        }
    }
    d
}

/// The zones of `region` as Lightsail lists them.
#[tracing::instrument(skip_all, fields(region = region))]
pub async fn region_zones(
    c: &aws_sdk_lightsail::Client,
    region: &str,
) -> Result<Vec<String>, String> {
    let out = c
        .get_regions()
        .include_availability_zones(true)
        .send()
        .await
        .map_err(|e| crate::aws::describe("GetRegions", &e).1)?;
    let r = out
        .regions()
        .iter()
        .find(|r| r.name().map(|n| n.as_str()) == Some(region))
        .ok_or_else(|| format!("GetRegions does not list region {region}"))?;
    Ok(r.availability_zones()
        .iter()
        .filter_map(|z| z.zone_name().map(str::to_string))
        .collect())
}

/// Ids of every bundle or blueprint (`bundles` chooses), following pages.
async fn catalogue(c: &aws_sdk_lightsail::Client, bundles: bool) -> Result<Vec<String>, String> {
    let mut ids = Vec::new();
    let mut token = None;
    loop {
        let next = if bundles {
            let out = c
                .get_bundles()
                .set_page_token(token)
                .send()
                .await
                .map_err(|e| crate::aws::describe("GetBundles", &e).1)?;
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
                .map_err(|e| crate::aws::describe("GetBlueprints", &e).1)?;
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

/// Fill what needs the provider's configuration, check what needs AWS, and decide whether
/// `instances` stays as it is.
pub async fn modify(cfg: Option<&Configured>, req: PlanRequest) -> PlanResponse {
    let mut planned = req.planned_state;
    let mut d = Diagnostics::new();
    if planned.is_null() {
        return PlanResponse {
            planned_state: planned,
            planned_private: req.prior_private,
            ..Default::default()
        };
    }
    let prior = &req.prior_state;
    if let (Some(p), Some(slot)) = (text(planned.get("name_prefix")), planned.get_mut("id")) {
        *slot = Value::string(p);
    }
    // Null CIDR lists mean everyone: say so in the plan.
    if let Some(Value::List(rules)) = planned.get_mut("public_ports") {
        for r in rules.iter_mut() {
            let both_null = r.get("cidrs").is_null() && r.get("ipv6_cidrs").is_null();
            for (k, all) in [("cidrs", "0.0.0.0/0"), ("ipv6_cidrs", "::/0")] {
                if let Some(slot) = r.get_mut(k) {
                    if slot.is_null() {
                        *slot = Value::List(if both_null {
                            vec![Value::string(all)]
                        } else {
                            vec![]
                        });
                    }
                }
            }
        }
    }
    if let Some(cfg) = cfg {
        let tags = planned.get("tags").clone();
        if tags.is_wholly_known() {
            if let Some(slot) = planned.get_mut("tags_all") {
                *slot = map_value(&merged_tags(&cfg.default_tags, &tags));
            }
        }
        check_with_aws(cfg, &req.config, prior, &mut planned, &mut d).await;
    }
    // `instances` stays only when the members already are exactly the wanted ones.
    let keep = !prior.is_null()
        && matches!((planned_members(&planned), current_members(prior)), (Some(a), Some(b)) if a == b);
    if let Some(slot) = planned.get_mut("instances") {
        *slot = if keep {
            prior.get("instances").clone()
        } else {
            Value::unknown()
        };
    }
    PlanResponse {
        planned_state: planned,
        planned_private: req.prior_private,
        diagnostics: d,
        ..Default::default()
    }
}

/// Zones (defaulted, and each of the provider's region), bundle and blueprint exist.
/// Only what changed is checked; AWS failing to answer leaves the check to apply.
async fn check_with_aws(
    cfg: &Configured,
    config: &Value,
    prior: &Value,
    planned: &mut Value,
    d: &mut Diagnostics,
) {
    let c = crate::aws::lightsail::client(cfg);
    let region = cfg.sdk.region().map(|r| r.to_string()).unwrap_or_default();
    let changed = |k: &str, planned: &Value| prior.is_null() || prior.get(k) != planned.get(k);
    let config_zones = config.get("availability_zones");
    if config_zones.is_null() && !prior.get("availability_zones").is_null() {
        if let Some(slot) = planned.get_mut("availability_zones") {
            *slot = prior.get("availability_zones").clone();
        }
    } else if config_zones.is_null()
        || (config_zones.is_wholly_known() && changed("availability_zones", planned))
    {
        match region_zones(&c, &region).await {
            Ok(zones) if config_zones.is_null() => {
                if let Some(slot) = planned.get_mut("availability_zones") {
                    *slot = Value::List(zones.iter().map(Value::string).collect());
                }
            }
            Ok(zones) => {
                for (i, z) in strings(config_zones).iter().enumerate() {
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
            Err(e) => tracing::warn!(error = e, "cannot list zones at plan time"),
        }
    }
    for (key, bundles, what) in [
        ("bundle_id", true, "bundle"),
        ("blueprint_id", false, "blueprint"),
    ] {
        let Some(id) = text(planned.get(key)) else {
            continue;
        };
        if !changed(key, planned) {
            continue;
        }
        match catalogue(&c, bundles).await {
            Ok(ids) if !ids.contains(&id) => {
                let mut some = ids.clone();
                some.truncate(8);
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
            Err(e) => tracing::warn!(error = e, "cannot list {what}s at plan time"),
        }
    }
}

/// The member names the plan wants, or `None` while something they depend on is unknown.
fn planned_members(planned: &Value) -> Option<Vec<String>> {
    let zones = strings(planned.get("availability_zones"));
    let count = num(planned.get("instance_count"))?;
    if zones.is_empty() || !planned.get("user_data").is_wholly_known() {
        return None;
    }
    let g = super::state::group(planned, &Default::default());
    Some(
        layout::wanted(&g.spec(), count.max(0) as usize, &zones)
            .into_iter()
            .map(|w| w.name)
            .collect(),
    )
}

/// The members in state that are fine as they are (running, registered with SSM).
fn current_members(prior: &Value) -> Option<Vec<String>> {
    prior
        .get("instances")
        .elements()?
        .iter()
        .map(|i| {
            let ok = i.get("state").as_str() == Some("running")
                && i.get("ssm_instance_id")
                    .as_str()
                    .is_some_and(|s| !s.is_empty());
            ok.then(|| text(i.get("name")))?
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(role: &str, count: i64) -> Value {
        Value::object([
            ("name_prefix", Value::string("web")),
            ("instance_count", Value::number(count)),
            ("ssm_role", Value::string(role)),
        ])
    }

    #[test]
    fn validate_names_the_attribute() {
        let cases = [
            ("fine", config("hastack-ssm", 2), None),
            (
                "arn is not a name",
                config("arn:aws:iam::123456789012:role/x", 2),
                Some("ssm_role"),
            ),
            ("count 0", config("r", 0), Some("instance_count")),
            ("count 101", config("r", 101), Some("instance_count")),
        ];
        for (case, c, attr) in cases {
            let d = validate(&c);
            let got: Vec<String> = d
                .iter()
                .filter_map(|x| x.attribute.as_ref().map(|p| format!("{p:?}")))
                .collect();
            match attr {
                None => assert!(!d.has_errors(), "{case}: {got:?}"),
                Some(a) => assert!(got.iter().any(|g| g.contains(a)), "{case}: {got:?}"),
            }
        }
    }
}
