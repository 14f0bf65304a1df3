//! `hastack_redis_replica_group`: a Redis primary with replicas across zones, Sentinel on every
//! member. The member fleet makes the instances; Run Command configures them (`node.sh`) and
//! reads them (`status.sh`); Sentinel, not Terraform, promotes a replica when the primary dies.
mod model;
mod node;
mod plan;
mod schema;
mod switchover;

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use tfplugin::timeouts::{Operation, Timeouts};
use tfplugin::typed::*;
use tfplugin::{Attr, Diagnostics, Known, Schema};
use tokio_util::sync::CancellationToken;

use crate::aws::{params, run, AwsError};
use crate::config::Configured;
use crate::fleet::{Fleet, Group, LoadBalancerGate};
use crate::resources::common::{aws_error, error, merged_tags, own_tags};
use crate::resources::replica::{self, Private};
use crate::sidecar::Sidecar;
use model::{MemberState, Model};
use node::{NodeStatus, Settings};
use schema::defaults;

pub use schema::schema;

const TYPE: &str = "hastack_redis_replica_group";

pub struct RedisReplicaGroup;

fn text(a: &Attr<String>) -> String {
    a.value().cloned().unwrap_or_default()
}

fn group(m: &Model, defaults: &BTreeMap<String, String>) -> Group {
    Group {
        prefix: text(&m.name),
        count: m.count().unwrap_or(3).max(0) as usize,
        zones: m.availability_zones.value().cloned().unwrap_or_default(),
        blueprint_id: text(&m.blueprint_id),
        bundle_id: text(&m.bundle_id),
        ssm_role: text(&m.ssm_role),
        tags: merged_tags(defaults, m.tags.value()),
        ..Default::default()
    }
}

type View = replica::View<NodeStatus>;

/// The primary most Sentinels name.
fn primary_ip(v: &View) -> Option<String> {
    let reports: Vec<NodeStatus> = v.status.values().cloned().collect();
    node::agreed_primary(&reports)
}

/// Why the group is not yet what it should be with `primary` primary (`None`: it is).
fn unhealthy(v: &View, primary: &str) -> Option<String> {
    let n = v.members.len() as i64;
    for m in &v.members {
        let Some(s) = v.status.get(&m.private_ip) else {
            return Some(format!("{} to answer", m.name));
        };
        let want = if m.private_ip == primary {
            "primary"
        } else {
            "replica"
        };
        if s.role != want {
            return Some(format!("{} to be {want} (it is {})", m.name, s.role));
        }
        if want == "replica" && s.link_status != "up" {
            return Some(format!("{}'s replication link to come up", m.name));
        }
        if !s.sentinel_up || s.sentinel_primary != primary {
            return Some(format!("{}'s Sentinel to watch {primary}", m.name));
        }
        if s.sentinel_sentinels != n || s.sentinel_replicas != n - 1 {
            return Some(format!(
                "{}'s Sentinel to know {n} sentinels and {} replicas (it knows {} and {})",
                m.name,
                n - 1,
                s.sentinel_sentinels,
                s.sentinel_replicas
            ));
        }
    }
    None
}

/// Observe the members and run the status script on every Online node.
async fn look(f: &Fleet<'_>, g: &Group) -> Result<View, AwsError> {
    let script = node::status(&g.prefix, &f.region)?;
    replica::look(f, g, &status_of(&script)).await
}

/// [`look`] for reads that record each member's role (see [`replica::look_settled`]).
async fn look_settled(f: &Fleet<'_>, g: &Group) -> Result<View, AwsError> {
    let script = node::status(&g.prefix, &f.region)?;
    replica::look_settled(f, g, &status_of(&script)).await
}

fn status_of(script: &str) -> replica::Status<'_, NodeStatus> {
    replica::Status {
        comment: "hastack redis status",
        script,
        parse: replica::last_json,
    }
}

/// Poll until the group is healthy with `primary` primary.
async fn wait_healthy(f: &Fleet<'_>, g: &Group, primary: &str) -> Result<View, AwsError> {
    let script = node::status(&g.prefix, &f.region)?;
    replica::wait_healthy(f, g, &status_of(&script), |v| unhealthy(v, primary)).await
}

fn state(
    prior: &Model,
    v: &View,
    defaults: &BTreeMap<String, String>,
    region_zones: &[String],
    token: &str,
) -> Model {
    let name = text(&prior.name);
    let members: Vec<MemberState> = v
        .members
        .iter()
        .map(|m| {
            let s = v.status.get(&m.private_ip).cloned().unwrap_or_default();
            MemberState {
                name: m.name.clone(),
                zone: m.zone.clone(),
                private_ip: m.private_ip.clone(),
                ssm_instance_id: v
                    .nodes
                    .get(&m.private_ip)
                    .map(|n| n.id.clone())
                    .unwrap_or_default(),
                role: if s.role.is_empty() {
                    "down".into()
                } else {
                    s.role
                },
                replication_offset: s.offset,
                link_status: s.link_status,
            }
        })
        .collect();
    let current = primary_ip(v)
        .and_then(|ip| v.name_of(&ip))
        .unwrap_or_default();
    let actual = v
        .members
        .first()
        .map(|m| m.tags.clone())
        .unwrap_or_default();
    let zones = match prior.availability_zones.value().filter(|z| !z.is_empty()) {
        Some(z) => z.clone(),
        None if !region_zones.is_empty() => region_zones.to_vec(),
        // Imported: the members' zones, by index.
        None => v.zones(),
    };
    Model {
        id: Attr::some(name.clone()),
        name: Attr::some(name.clone()),
        instance_count: Attr::some((v.members.len() as i64).into()),
        availability_zones: Attr::some(zones),
        blueprint_id: match (&prior.blueprint_id, v.members.first()) {
            (Known::Known(None), Some(m)) => Attr::some(m.blueprint_id.clone()),
            (p, _) => p.clone(),
        },
        bundle_id: match (&prior.bundle_id, v.members.first()) {
            (Known::Known(None), Some(m)) => Attr::some(m.bundle_id.clone()),
            (p, _) => p.clone(),
        },
        ssm_role: prior.ssm_role.clone(),
        primary: match prior.primary.value() {
            Some(p) => Attr::some(p.clone()),
            None => Attr::some(current.clone()),
        },
        sentinel: prior.sentinel.clone(),
        min_replicas_to_write: prior.min_replicas_to_write.clone(),
        min_replicas_max_lag: prior.min_replicas_max_lag.clone(),
        appendonly: prior.appendonly.clone(),
        maxmemory_policy: prior.maxmemory_policy.clone(),
        auth_token_wo: Attr::null(),
        auth_token_wo_version: prior.auth_token_wo_version.clone(),
        auth_token_update_strategy: prior.auth_token_update_strategy.clone(),
        parameters: prior.parameters.clone(),
        tags: own_tags(&actual, prior.tags.value(), defaults),
        tags_all: Attr::some(actual),
        members: Attr::some(members),
        current_primary: Attr::some(current),
        sentinel_endpoints: Attr::some(v.ips().iter().map(|ip| format!("{ip}:26379")).collect()),
        writer_endpoint: Attr::some("127.0.0.1:6379".into()),
        auth_token_parameter: Attr::some(node::token_parameter(&name)),
        sidecar: Attr::some(Sidecar {
            name: name.clone(),
            engine: "redis".into(),
            backends: v.ips(),
            auth_parameter: token.to_string(),
        }),
        timeouts: prior.timeouts.clone(),
    }
}

/// Write the auth token where the members read it, and return the version they use: the
/// configured token when `auth_token_wo_version` changed (a rotation), a generated one when the
/// version changed with no token given or when none exists yet, else the version there is.
async fn write_token(
    f: &Fleet<'_>,
    group: &str,
    config: &Model,
    prior: Option<&Model>,
) -> Result<i64, AwsError> {
    let name = node::token_parameter(group);
    let changed = prior.is_none_or(|p| {
        !config.auth_token_wo_version.is_null()
            && p.auth_token_wo_version != config.auth_token_wo_version
    });
    let existing = params::version(&f.ssm, &name).await?;
    let put = |token: String, what: &'static str| {
        let name = name.clone();
        async move {
            params::put_secure(
                &f.ssm,
                &name,
                &token,
                &format!("Redis auth token of {group} ({what})"),
                true,
            )
            .await
        }
    };
    match (config.auth_token_wo.value(), existing) {
        (Some(token), _) if changed => put(token.clone(), "hastack").await,
        (Some(token), None) => put(token.clone(), "hastack").await,
        (None, Some(_)) if changed && prior.is_some() => {
            put(params::generate(32)?, "generated by hastack").await
        }
        (None, None) => put(params::generate(32)?, "generated by hastack").await,
        (_, Some(v)) => Ok(v),
    }
}

/// The token parameter with the version members use (`name:version`): what the sidecar reads,
/// so that a rotation changes the sidecar and apps re-read it.
async fn pinned_token(f: &Fleet<'_>, group: &str) -> Result<String, AwsError> {
    let name = node::token_parameter(group);
    Ok(match params::version(&f.ssm, &name).await? {
        Some(v) => format!("{name}:{v}"),
        None => name,
    })
}

struct ApplyCall<'a> {
    cfg: &'a Configured,
    cancel: &'a CancellationToken,
    config: &'a Model,
    planned: Model,
    prior: Option<&'a Model>,
    op: Operation,
    summary: &'static str,
}

impl RedisReplicaGroup {
    /// Make the group what `c` plans; the auth token version the members use.
    async fn converge(f: &Fleet<'_>, c: &ApplyCall<'_>, g: &mut Group) -> Result<i64, AwsError> {
        if g.zones.is_empty() {
            g.zones =
                crate::resources::lightsail_ha_instance::region_zones(&f.ls, &f.region).await?;
        }
        let token_version = write_token(f, &g.prefix, c.config, c.prior).await?;
        let mut settings = Settings::of(&c.planned);
        settings.token_version = token_version;
        // A shrink that would delete the primary: hand over to the first member first.
        let before = look(f, g).await?;
        if let Some(ip) = primary_ip(&before) {
            let leaving = before
                .members
                .iter()
                .find(|m| m.private_ip == ip)
                .is_some_and(|m| m.index >= g.count);
            if leaving {
                if let Some(first) = before.members.iter().find(|m| m.index == 0) {
                    switchover::run(f, g, &before, &ip, &first.private_ip).await?;
                }
            }
        }
        f.converge(g, &LoadBalancerGate).await?;
        let v = look(f, g).await?;
        // The primary: the one Sentinel follows, or (a new group) the configured or first one.
        let wanted = c
            .planned
            .primary
            .value()
            .and_then(|p| replica::resolve(&v.members, &g.prefix, p))
            .or_else(|| v.members.iter().min_by_key(|m| m.index))
            .map(|m| m.private_ip.clone())
            .ok_or_else(|| AwsError::Wait("the group has no members".into()))?;
        let current = primary_ip(&v).unwrap_or_else(|| wanted.clone());
        let script = node::setup(&g.prefix, &f.region, &v.ips(), &current, &settings)?;
        let invs = run::run(
            &f.ssm,
            run::Script {
                nodes: &v.online_nodes(),
                comment: "hastack redis setup",
                script: &script,
                timeout_s: 300,
            },
            f.deadline,
            f.cancel,
        )
        .await?;
        run::all_succeeded("redis setup", invs)?;
        let v = wait_healthy(f, g, &current).await?;
        // A planned switchover: only when `primary` was set and changed.
        let switch = c.config.primary.value().is_some()
            && c.prior
                .is_none_or(|p| p.primary.value() != c.config.primary.value());
        if switch && wanted != current {
            switchover::run(f, g, &v, &current, &wanted).await?;
            wait_healthy(f, g, &wanted).await?;
        }
        Ok(token_version)
    }

    async fn apply(&self, c: ApplyCall<'_>) -> Applied<Model> {
        let timeout = Timeouts::of(&c.planned.timeouts, c.op, &defaults());
        let f = Fleet::new(c.cfg, c.cancel, timeout);
        let mut g = group(&c.planned, &c.cfg.default_tags);
        let mut diagnostics = Diagnostics::new();
        let converged = Self::converge(&f, &c, &mut g).await;
        if let Err(e) = &converged {
            diagnostics.extend(aws_error(c.summary, e));
        }
        // What exists now, also after an error (so Terraform keeps every member in state).
        let read = Fleet::new(c.cfg, c.cancel, Duration::from_secs(120));
        let pinned = match converged {
            Ok(v) => Ok(format!("{}:{v}", node::token_parameter(&g.prefix))),
            // Not known when the apply failed early: ask Parameter Store.
            Err(_) => pinned_token(&read, &g.prefix).await,
        };
        let token = match pinned {
            Ok(t) => t,
            Err(e) => {
                diagnostics.extend(aws_error(
                    "Error reading the Redis auth token parameter",
                    &e,
                ));
                node::token_parameter(&g.prefix)
            }
        };
        match look_settled(&read, &g).await {
            Ok(v) if !v.members.is_empty() => {
                let mut prior = c.planned.clone();
                if c.config.primary.is_null() {
                    prior.primary = Attr::null();
                }
                let s = state(&prior, &v, &c.cfg.default_tags, &g.zones, &token);
                let private = Private {
                    configured: !c.config.primary.is_null(),
                    applied_primary: text(&s.current_primary),
                };
                Applied {
                    state: Some(s),
                    private: private.to_bytes(),
                    identity: None,
                    diagnostics,
                }
            }
            Ok(_) if diagnostics.has_errors() => Applied::failed(None, diagnostics),
            Ok(_) => Applied::failed(
                None,
                error(
                    "Redis members vanished",
                    format!("{} has no instances after apply.", g.prefix),
                ),
            ),
            Err(e) => {
                diagnostics.extend(aws_error("Error reading the Redis replica group", &e));
                Applied::failed(Some(c.planned), diagnostics)
            }
        }
    }
}

#[async_trait]
impl TypedResource for RedisReplicaGroup {
    type Model = Model;
    type Client = Configured;

    fn type_name(&self) -> &'static str {
        TYPE
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate(&self, req: Validate<'_, Model>) -> Diagnostics {
        plan::validate(&req.config)
    }

    async fn modify_plan(&self, req: Plan<'_, Configured, Model>) -> Planned<Model> {
        plan::modify(req).await
    }

    async fn create(&self, req: Create<'_, Configured, Model>) -> Applied<Model> {
        self.apply(ApplyCall {
            cfg: req.client,
            cancel: &req.ctx.cancel,
            config: &req.config,
            planned: req.planned,
            prior: None,
            op: Operation::Create,
            summary: "Error creating the Redis replica group",
        })
        .await
    }

    async fn read(&self, req: Read<'_, Configured, Model>) -> ReadOutcome<Model> {
        let timeout = Timeouts::of(&req.state.timeouts, Operation::Read, &defaults());
        let f = Fleet::new(req.client, &req.ctx.cancel, timeout);
        let g = group(&req.state, &req.client.default_tags);
        match look_settled(&f, &g).await {
            Ok(v) if v.members.is_empty() => ReadOutcome::gone(),
            Ok(v) => {
                let private = Private::from_bytes(&req.private);
                let mut prior = req.state.clone();
                // Unset `primary` follows reality; a configured one stays what was applied.
                if !private.configured {
                    prior.primary = Attr::null();
                }
                // The token version the sidecar reads is what the last apply pinned; an
                // import asks Parameter Store.
                let pinned = prior
                    .sidecar
                    .value()
                    .map(|s| s.auth_parameter.clone())
                    .filter(|p| !p.is_empty());
                let token = match pinned {
                    Some(t) => t,
                    None => match pinned_token(&f, &g.prefix).await {
                        Ok(t) => t,
                        Err(e) => {
                            return ReadOutcome::failed(
                                req.state,
                                req.private,
                                aws_error("Error reading the Redis auth token parameter", &e),
                            )
                        }
                    },
                };
                let s = state(&prior, &v, &req.client.default_tags, &[], &token);
                ReadOutcome::found(s, req.private)
            }
            Err(e) => ReadOutcome::failed(
                req.state,
                req.private,
                aws_error("Error reading the Redis replica group", &e),
            ),
        }
    }

    async fn update(&self, req: Update<'_, Configured, Model>) -> Applied<Model> {
        self.apply(ApplyCall {
            cfg: req.client,
            cancel: &req.ctx.cancel,
            config: &req.config,
            planned: req.planned,
            prior: Some(&req.prior),
            op: Operation::Update,
            summary: "Error updating the Redis replica group",
        })
        .await
    }

    async fn delete(&self, req: Delete<'_, Configured, Model>) -> Diagnostics {
        let timeout = Timeouts::of(&req.state.timeouts, Operation::Delete, &defaults());
        let f = Fleet::new(req.client, &req.ctx.cancel, timeout);
        let g = group(&req.state, &req.client.default_tags);
        let name = node::token_parameter(&g.prefix);
        match f.destroy(&g).await {
            Ok(()) => match params::delete(&f.ssm, &name).await {
                Ok(()) => Diagnostics::new(),
                Err(e) => aws_error("Error deleting the Redis auth token parameter", &e),
            },
            Err(e) => aws_error("Error deleting the Redis replica group", &e),
        }
    }

    /// Import by name: every instance named `<name>-<index>-<revision>` is a member.
    async fn import(&self, req: Import<'_, Configured>) -> Imported<Model> {
        let mut d = Diagnostics::new();
        let name = req.id.clone();
        let valid = plan::validate(&Model {
            name: Attr::some(name.clone()),
            ..Default::default()
        });
        if valid.has_errors() {
            d.error("Invalid import ID", format!("{name:?} is not a replica group name (1–40 letters, digits, '-' or '_', starting with a letter)."));
            return Imported {
                state: None,
                identity: None,
                diagnostics: d,
            };
        }
        Imported {
            state: Some(Model {
                id: Attr::some(name.clone()),
                name: Attr::some(name),
                timeouts: Known::Known(None),
                ..Default::default()
            }),
            identity: None,
            diagnostics: d,
        }
    }
}

/// Registered with the provider.
pub fn new(data: crate::Shared) -> std::sync::Arc<dyn tfplugin::Resource> {
    Typed::serve(RedisReplicaGroup, data)
}
