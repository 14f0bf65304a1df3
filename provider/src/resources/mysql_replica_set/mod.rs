//! `hastack_mysql_replica_set`: a MariaDB primary with replicas across zones; etcd on the
//! first members holds the leader lease and an agent on every member (`agent.py`) promotes a
//! replica when the primary dies. The member fleet makes the instances; Run Command configures
//! them (`node.sh`), manages users (`users.sh`) and reads the agents (`status.sh`).
mod model;
mod node;
mod plan;
mod schema;

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use tfplugin::timeouts::{Operation, Timeouts};
use tfplugin::typed::*;
use tfplugin::{Attr, Diagnostics, Known, Schema};
use tokio_util::sync::CancellationToken;

use crate::aws::{params, AwsError};
use crate::config::Configured;
use crate::fleet::{Fleet, Group, LoadBalancerGate};
use crate::resources::common::{aws_error, error, merged_tags, own_tags};
use crate::resources::replica::{self, Private};
use crate::sidecar::Sidecar;
use model::{MemberState, Model};
use node::{AgentStatus, Settings};
use schema::defaults;

pub use schema::schema;

const TYPE: &str = "hastack_mysql_replica_set";
const SWITCHOVER: &str = include_str!("switchover.sh");

pub struct MysqlReplicaSet;

type View = replica::View<AgentStatus>;

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

const STATUS: replica::Status<'static, AgentStatus> = replica::Status {
    comment: "hastack mysql status",
    script: node::STATUS,
    parse: replica::last_json,
};

/// The member holding the lease with writes on, or else the leader most agents name.
fn primary_ip(v: &View) -> Option<String> {
    let writable: Vec<&String> = v
        .status
        .iter()
        .filter(|(_, s)| s.role == "primary" && s.writable)
        .map(|(ip, _)| ip)
        .collect();
    if let [one] = writable[..] {
        return Some(one.clone());
    }
    let mut votes: BTreeMap<&str, usize> = BTreeMap::new();
    for s in v.status.values().filter(|s| !s.leader.is_empty()) {
        *votes.entry(&s.leader).or_default() += 1;
    }
    let best = votes.values().copied().max()?;
    votes
        .into_iter()
        .find(|(_, n)| *n == best)
        .map(|(ip, _)| ip.to_string())
}

/// Why the set is not yet healthy with `primary` primary (`None`: it is).
fn unhealthy(v: &View, primary: &str) -> Option<String> {
    unhealthy_among(v, primary, &v.ips())
}

/// As [`unhealthy`], for the members at `ips` only (a member being moved away is not waited for).
fn unhealthy_among(v: &View, primary: &str, ips: &[String]) -> Option<String> {
    for m in v.members.iter().filter(|m| ips.contains(&m.private_ip)) {
        let Some(s) = v.status.get(&m.private_ip) else {
            return Some(format!("{}'s agent to answer", m.name));
        };
        if !s.mariadb_up {
            return Some(format!(
                "MariaDB on {} to answer ({})",
                m.name, s.last_error
            ));
        }
        if m.private_ip == primary {
            if s.role != "primary" || !s.writable {
                return Some(format!(
                    "{} to hold the lease with writes on (it is {}: {})",
                    m.name, s.role, s.last_error
                ));
            }
            if !s.semisync_on || s.semisync_clients < 1 {
                return Some(format!(
                    "semi-synchronous replication on {} (clients {})",
                    m.name, s.semisync_clients
                ));
            }
        } else if s.role != "replica" || s.io != "Yes" || s.sql != "Yes" || s.master_host != primary
        {
            return Some(format!(
                "{} to replicate from {primary} (it is {}, IO {}, SQL {}, from {:?}: {})",
                m.name, s.role, s.io, s.sql, s.master_host, s.last_error
            ));
        }
    }
    None
}

async fn look(f: &Fleet<'_>, g: &Group) -> Result<View, AwsError> {
    replica::look(f, g, &STATUS).await
}

/// [`look`] for reads that record each member's role (see [`replica::look_settled`]).
async fn look_settled(f: &Fleet<'_>, g: &Group) -> Result<View, AwsError> {
    replica::look_settled(f, g, &STATUS).await
}

async fn wait_healthy(f: &Fleet<'_>, g: &Group, primary: &str) -> Result<View, AwsError> {
    replica::wait_healthy(f, g, &STATUS, |v| unhealthy(v, primary)).await
}

/// RFC 3339 (UTC, seconds) of `epoch` seconds.
fn rfc3339(epoch: f64) -> String {
    let secs = epoch.max(0.0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// The SecureString of each user (`m`'s, or after an import the ones the primary has).
fn passwords(set: &str, m: &Model, found: &[String]) -> BTreeMap<String, String> {
    let configured: Vec<String> = m
        .users
        .value()
        .map(|us| us.iter().map(|u| u.name.clone()).collect())
        .unwrap_or_else(|| found.to_vec());
    let mut out: BTreeMap<String, String> = configured
        .iter()
        .map(|u| (u.clone(), node::user_parameter(set, u)))
        .collect();
    out.insert("replication".into(), node::repl_parameter(set));
    out
}

fn state(
    prior: &Model,
    v: &View,
    defaults: &BTreeMap<String, String>,
    region_zones: &[String],
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
                ssm_instance_id: v.node_id(&m.private_ip),
                role: if s.role.is_empty() {
                    "down".into()
                } else {
                    s.role
                },
                gtid_position: s.gtid,
                lag_seconds: s.lag,
            }
        })
        .collect();
    let current = primary_ip(v)
        .and_then(|ip| v.name_of(&ip))
        .unwrap_or_default();
    let last = v
        .status
        .values()
        .map(|s| s.last_failover)
        .fold(0.0, f64::max);
    let actual = v
        .members
        .first()
        .map(|m| m.tags.clone())
        .unwrap_or_default();
    let zones = match prior.availability_zones.value().filter(|z| !z.is_empty()) {
        Some(z) => z.clone(),
        None if !region_zones.is_empty() => region_zones.to_vec(),
        None => v.zones(),
    };
    let or_member = |a: &Attr<String>, f: fn(&crate::aws::instances::Member) -> &String| match (
        a,
        v.members.first(),
    ) {
        (Known::Known(None), Some(m)) => Attr::some(f(m).clone()),
        (a, _) => a.clone(),
    };
    Model {
        id: Attr::some(name.clone()),
        name: Attr::some(name.clone()),
        engine: Attr::some(
            prior
                .engine
                .value()
                .cloned()
                .unwrap_or_else(|| "mariadb".into()),
        ),
        instance_count: Attr::some((v.members.len() as i64).into()),
        availability_zones: Attr::some(zones),
        blueprint_id: or_member(&prior.blueprint_id, |m| &m.blueprint_id),
        bundle_id: or_member(&prior.bundle_id, |m| &m.bundle_id),
        ssm_role: prior.ssm_role.clone(),
        primary: match prior.primary.value() {
            Some(p) => Attr::some(p.clone()),
            None => Attr::some(current.clone()),
        },
        automatic_failover_enabled: prior.automatic_failover_enabled.clone(),
        failure_detection_timeout: prior.failure_detection_timeout.clone(),
        failover_block_period: prior.failover_block_period.clone(),
        databases: prior.databases.clone(),
        users: prior.users.clone(),
        parameters: prior.parameters.clone(),
        tags: own_tags(&actual, prior.tags.value(), defaults),
        tags_all: Attr::some(actual),
        members: Attr::some(members),
        current_primary: Attr::some(current),
        last_failover: Attr::some(if last > 0.0 {
            rfc3339(last)
        } else {
            String::new()
        }),
        writer_endpoint: Attr::some("127.0.0.1:3306".into()),
        reader_endpoint: Attr::some("127.0.0.1:3307".into()),
        password_parameters: Attr::some(passwords(
            &name,
            prior,
            &primary_ip(v)
                .and_then(|ip| v.status.get(&ip))
                .map(|s| s.app_users.clone())
                .unwrap_or_default(),
        )),
        sidecar: Attr::some(Sidecar {
            name: name.clone(),
            engine: "mariadb".into(),
            backends: v.ips(),
            auth_parameter: String::new(),
        }),
        timeouts: prior.timeouts.clone(),
    }
}

/// Write each password that does not exist yet, or whose version changed: the user's
/// `password_wo` from the configuration (write-only, so only `config` has it), else a generated
/// one.
async fn write_passwords(
    f: &Fleet<'_>,
    set: &str,
    config: &Model,
    planned: &Model,
    prior: Option<&Model>,
) -> Result<(), AwsError> {
    let mut wanted = vec![(node::repl_parameter(set), false, None)];
    for u in planned.users.value().cloned().unwrap_or_default() {
        let before = prior
            .and_then(|p| p.users.value())
            .and_then(|us| us.iter().find(|o| o.name == u.name).cloned());
        let bumped = before.is_some_and(|b| b.password_version != u.password_version);
        let given = config
            .users
            .value()
            .and_then(|us| us.iter().find(|o| o.name == u.name))
            .and_then(|o| o.password_wo.clone());
        wanted.push((node::user_parameter(set, &u.name), bumped, given));
    }
    for (name, bumped, given) in wanted {
        if bumped || params::version(&f.ssm, &name).await?.is_none() {
            let (value, origin) = match given {
                Some(v) => (v, "given in password_wo"),
                None => (params::generate(32)?, "generated by hastack"),
            };
            params::put_secure(
                &f.ssm,
                &name,
                &value,
                &format!("MariaDB password of replica set {set} ({origin})"),
                true,
            )
            .await?;
        }
    }
    Ok(())
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

async fn switchover(f: &Fleet<'_>, g: &Group, v: &View, to: &str) -> Result<(), AwsError> {
    tracing::info!(set = g.prefix, to, "switchover");
    let script = replica::render(
        SWITCHOVER,
        &[
            ("SET", &g.prefix),
            ("ETCD_MEMBERS", &node::etcd_members(&v.ips()).join(" ")),
        ],
    )?;
    replica::run_on(f, v, &[to.to_string()], "hastack mysql switchover", &script)
        .await
        .map(|_| ())
}

/// A member's move to a new instance, for [`replica::move_members`]: a new member replacing
/// an etcd member joins the running etcd cluster, and its predecessor leaves it.
struct Move {
    settings: Settings,
}

#[async_trait]
impl replica::Mover for Move {
    type Status = AgentStatus;

    async fn look(&self, f: &Fleet<'_>, g: &Group) -> Result<View, AwsError> {
        look(f, g).await
    }

    fn primary(&self, v: &View) -> Option<String> {
        primary_ip(v)
    }

    fn can_take_over(&self, s: &AgentStatus) -> bool {
        s.role == "replica" && s.io == "Yes" && s.sql == "Yes"
    }

    async fn switchover(
        &self,
        f: &Fleet<'_>,
        g: &Group,
        v: &View,
        _from: &str,
        to: &str,
    ) -> Result<(), AwsError> {
        switchover(f, g, v, to).await?;
        wait_healthy(f, g, to).await.map(|_| ())
    }

    async fn configure(
        &self,
        f: &Fleet<'_>,
        g: &Group,
        v: &View,
        keep: &[String],
        primary: &str,
        joining: &str,
    ) -> Result<View, AwsError> {
        let join = node::etcd_members(keep)
            .contains(&joining.to_string())
            .then_some(joining);
        let script = node::setup(&g.prefix, &f.region, keep, primary, join, &self.settings)?;
        replica::run_on(f, v, keep, "hastack mysql setup", &script).await?;
        replica::wait_healthy(f, g, &STATUS, |v| {
            unhealthy_among(
                v,
                &primary_ip(v).unwrap_or_else(|| primary.to_string()),
                keep,
            )
        })
        .await
    }

    async fn release(
        &self,
        f: &Fleet<'_>,
        v: &View,
        keep: &[String],
        joining: &str,
    ) -> Result<(), AwsError> {
        let Some(first) = node::etcd_members(keep).iter().find(|ip| *ip != joining) else {
            return Ok(());
        };
        let script = node::prune(keep)?;
        replica::run_on(
            f,
            v,
            std::slice::from_ref(first),
            "hastack mysql etcd prune",
            &script,
        )
        .await
        .map(|_| ())
    }
}

impl MysqlReplicaSet {
    async fn converge(f: &Fleet<'_>, c: &ApplyCall<'_>, g: &mut Group) -> Result<(), AwsError> {
        if g.zones.is_empty() {
            g.zones =
                crate::resources::lightsail_ha_instance::region_zones(&f.ls, &f.region).await?;
        }
        write_passwords(f, &g.prefix, c.config, &c.planned, c.prior).await?;
        // A shrink that would delete the primary: hand over to the first member first.
        let before = look(f, g).await?;
        if let Some(ip) = primary_ip(&before) {
            let leaving = before
                .members
                .iter()
                .find(|m| m.private_ip == ip)
                .is_some_and(|m| m.index >= g.count);
            if let (true, Some(first)) = (leaving, before.members.iter().find(|m| m.index == 0)) {
                switchover(f, g, &before, &first.private_ip).await?;
            }
        }
        let mover = Move {
            settings: Settings::of(&c.planned),
        };
        let moved = replica::move_members(f, g, &mover).await?;
        f.converge(g, &LoadBalancerGate).await?;
        let v = look(f, g).await?;
        let wanted = c
            .planned
            .primary
            .value()
            .and_then(|p| replica::resolve(&v.members, &g.prefix, p))
            .or_else(|| v.members.iter().min_by_key(|m| m.index))
            .map(|m| m.private_ip.clone())
            .ok_or_else(|| AwsError::Wait("the set has no members".into()))?;
        let current = primary_ip(&v).unwrap_or_else(|| wanted.clone());
        let script = node::setup(
            &g.prefix,
            &f.region,
            &v.ips(),
            &current,
            None,
            &Settings::of(&c.planned),
        )?;
        replica::run_on(f, &v, &v.ips(), "hastack mysql setup", &script).await?;
        // A planned switchover: `primary` set and changed, or set and the members moved (the
        // move hands the primary to whichever replica can take it).
        let switch = c.config.primary.value().is_some()
            && (moved
                || c.prior
                    .is_none_or(|p| p.primary.value() != c.config.primary.value()));
        // No primary (automatic failover off or blocked, the old one gone): naming a member in
        // `primary` promotes by hand. The agents elect the most advanced member, which then
        // hands over to the named one: nothing acknowledged is lost, as in an automatic
        // failover (the election waits for every live member). (At create the named
        // member simply starts the set.)
        if switch && c.prior.is_some() && primary_ip(&look(f, g).await?).is_none() {
            tracing::info!(set = g.prefix, to = wanted, "no primary: promoting by hand");
            switchover(f, g, &v, &wanted).await?;
        }
        // Healthy around whichever member holds the lease (the agents, not this apply, decide).
        let v = replica::wait_healthy(f, g, &STATUS, |v| {
            unhealthy(v, &primary_ip(v).unwrap_or_else(|| current.clone()))
        })
        .await?;
        let current = primary_ip(&v).unwrap_or(current);
        let drop: Vec<String> = c
            .prior
            .and_then(|p| p.users.value().cloned())
            .unwrap_or_default()
            .into_iter()
            .filter(|u| {
                !c.planned
                    .users
                    .value()
                    .is_some_and(|us| us.iter().any(|n| n.name == u.name))
            })
            .map(|u| u.name)
            .collect();
        let users = node::users(&g.prefix, &f.region, &c.planned, &drop)?;
        replica::run_on(
            f,
            &v,
            std::slice::from_ref(&current),
            "hastack mysql users",
            &users,
        )
        .await?;
        for name in &drop {
            params::delete(&f.ssm, &node::user_parameter(&g.prefix, name)).await?;
        }
        if switch && wanted != current {
            switchover(f, g, &v, &wanted).await?;
            wait_healthy(f, g, &wanted).await?;
        }
        Ok(())
    }

    async fn apply(&self, c: ApplyCall<'_>) -> Applied<Model> {
        let timeout = Timeouts::of(&c.planned.timeouts, c.op, &defaults());
        let f = Fleet::new(c.cfg, c.cancel, timeout);
        let mut g = group(&c.planned, &c.cfg.default_tags);
        let mut diagnostics = Diagnostics::new();
        if let Err(e) = Self::converge(&f, &c, &mut g).await {
            diagnostics.extend(aws_error(c.summary, &e));
        }
        let read = Fleet::new(c.cfg, c.cancel, Duration::from_secs(120));
        match look_settled(&read, &g).await {
            Ok(v) if !v.members.is_empty() => {
                let mut prior = c.planned.clone();
                if c.config.primary.is_null() {
                    prior.primary = Attr::null();
                }
                let s = state(&prior, &v, &c.cfg.default_tags, &g.zones);
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
                    "MariaDB members vanished",
                    format!("{} has no instances after apply.", g.prefix),
                ),
            ),
            Err(e) => {
                diagnostics.extend(aws_error("Error reading the MariaDB replica set", &e));
                Applied::failed(Some(c.planned), diagnostics)
            }
        }
    }
}

#[async_trait]
impl TypedResource for MysqlReplicaSet {
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
            summary: "Error creating the MariaDB replica set",
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
                let mut prior = req.state.clone();
                if !Private::from_bytes(&req.private).configured {
                    prior.primary = Attr::null();
                }
                ReadOutcome::found(
                    state(&prior, &v, &req.client.default_tags, &[]),
                    req.private,
                )
            }
            Err(e) => ReadOutcome::failed(
                req.state,
                req.private,
                aws_error("Error reading the MariaDB replica set", &e),
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
            summary: "Error updating the MariaDB replica set",
        })
        .await
    }

    async fn delete(&self, req: Delete<'_, Configured, Model>) -> Diagnostics {
        let timeout = Timeouts::of(&req.state.timeouts, Operation::Delete, &defaults());
        let f = Fleet::new(req.client, &req.ctx.cancel, timeout);
        let g = group(&req.state, &req.client.default_tags);
        if let Err(e) = f.destroy(&g).await {
            return aws_error("Error deleting the MariaDB replica set", &e);
        }
        for name in passwords(&g.prefix, &req.state, &[]).values() {
            if let Err(e) = params::delete(&f.ssm, name).await {
                return aws_error(
                    "Error deleting the MariaDB replica set's password parameters",
                    &e,
                );
            }
        }
        Diagnostics::new()
    }

    /// Import by name: every instance named `<name>-<index>-<revision>` is a member.
    async fn import(&self, req: Import<'_, Configured>) -> Imported<Model> {
        let name = req.id.clone();
        let check = plan::validate(&Model {
            name: Attr::some(name.clone()),
            ..Default::default()
        });
        let mut d = Diagnostics::new();
        if check.has_errors() {
            d.error("Invalid import ID", format!("{name:?} is not a replica set name (1–40 letters, digits, '-' or '_', starting with a letter)."));
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
                ..Default::default()
            }),
            identity: None,
            diagnostics: d,
        }
    }
}

/// Registered with the provider.
pub fn new(data: crate::Shared) -> std::sync::Arc<dyn tfplugin::Resource> {
    Typed::serve(MysqlReplicaSet, data)
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_dates() {
        assert_eq!(super::rfc3339(0.0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_796_157_296.4), "2026-12-01T20:34:56Z");
        assert_eq!(super::rfc3339(951_782_400.0), "2000-02-29T00:00:00Z");
    }
}
