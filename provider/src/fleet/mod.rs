//! The member fleet: SSM-registered Lightsail instances across zones, port 22 closed, kept at
//! what a resource wants — launch (one activation, one CreateInstances per zone, exact ports at
//! once), Online wait, ports and tags in place, retire, one-at-a-time replacement behind a
//! health gate, and healing of members that stay unreachable past a grace period.
//!
//! Resources give it a [`Group`] (their own user data rides inside hastack's bootstrap) and a
//! [`Gate`] that says when a new member may take over from an old one.
pub mod bootstrap;
pub mod heal;
pub mod layout;

use std::collections::BTreeMap;
use std::time::Duration;

use std::future::Future;

use async_trait::async_trait;
use aws_sdk_lightsail::types::Operation;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::aws::instances::{self, Launch, Member, PortRule};
use crate::aws::lightsail::{sync_tags, wait_healthy, wait_operations};
use crate::aws::run;
use crate::aws::ssm::{self, Node};
use crate::aws::{wait_until, AwsError, Backoff, Poll};
use layout::{canonical, Spec, Wanted};

/// What a resource wants of its fleet.
#[derive(Clone, Debug, Default)]
pub struct Group {
    pub prefix: String,
    pub count: usize,
    pub zones: Vec<String>,
    pub blueprint_id: String,
    pub bundle_id: String,
    /// The resource's own boot script, run after hastack's bootstrap registered the node.
    pub user_data: String,
    pub ports: Vec<PortRule>,
    pub ssm_role: String,
    pub tags: BTreeMap<String, String>,
    /// Replace a member whose SSM agent has not answered, or that a load balancer has
    /// reported unhealthy, for this long (`None`: never).
    pub heal_after: Option<Duration>,
    /// Since when (seconds since the epoch) a load balancer has reported each member
    /// unhealthy, as the resource's refreshes recorded it ([`heal::Watch`]).
    pub unhealthy_since: BTreeMap<String, f64>,
    /// The members the plan decided to heal ([`Fleet::to_heal`] at plan time): an apply
    /// replaces exactly these, never one the plan did not announce.
    pub heal: Vec<String>,
    /// A Run Command script each new member runs once its node is Online, before any gate
    /// (e.g. the data-tier sidecar), so it serves with it from its first request.
    pub setup: Option<String>,
}

impl Group {
    pub fn spec(&self) -> Spec<'_> {
        Spec {
            prefix: &self.prefix,
            blueprint_id: &self.blueprint_id,
            bundle_id: &self.bundle_id,
            user_data: &self.user_data,
        }
    }

    /// Which instance names are this group's members, and their index.
    pub fn index_of(&self) -> impl Fn(&str) -> Option<usize> + Sync + '_ {
        move |name| layout::member_index(&self.prefix, name)
    }
}

/// When a new member may take over from the one it replaces.
#[async_trait]
pub trait Gate: Send + Sync {
    /// Wait until `new` can serve in place of a member that served on `load_balancers`.
    async fn passed(
        &self,
        f: &Fleet<'_>,
        new: &str,
        load_balancers: &[String],
    ) -> Result<(), AwsError>;
}

/// The web tier's gate: the new member is attached to every load balancer the old one served
/// and healthy on each.
pub struct LoadBalancerGate;

#[async_trait]
impl Gate for LoadBalancerGate {
    async fn passed(
        &self,
        f: &Fleet<'_>,
        new: &str,
        load_balancers: &[String],
    ) -> Result<(), AwsError> {
        let attached = instances::attachments(&f.ls, &[new]).await?;
        for lb in load_balancers {
            if !attached.iter().any(|a| &a.load_balancer == lb) {
                let ops = instances::attach(&f.ls, lb, vec![new.to_string()]).await?;
                f.wait(&ops).await?;
            }
            wait_healthy(&f.ls, lb, Some(&[new]), f.deadline, f.cancel).await?;
        }
        Ok(())
    }
}

/// A member past its grace: why it is replaced.
#[derive(Clone, Debug, PartialEq)]
pub struct Sick {
    pub name: String,
    pub why: String,
}

/// Members past the grace at `now` (seconds since the epoch), of those running: their SSM
/// node is not Online and its agent has not answered (`LastPingDateTime`) since before
/// `now - grace`, or a load balancer has reported them unhealthy since before then.
pub fn sick(
    members: &[Member],
    nodes: &BTreeMap<String, Node>,
    unhealthy_since: &BTreeMap<String, f64>,
    grace: Duration,
    now: f64,
) -> Vec<Sick> {
    let grace_s = grace.as_secs_f64();
    members
        .iter()
        // A member stopped by hand is started again, not replaced.
        .filter(|m| m.state == "running")
        .filter_map(|m| {
            // Silence and ill health count from the member's creation at the earliest: a
            // replacement (same name) never inherits its predecessor's time.
            let node = nodes
                .get(&m.private_ip)
                .filter(|n| !n.online)
                .and_then(|n| Some((n, now - n.last_ping?.max(m.created_at))))
                .filter(|(_, silent)| *silent >= grace_s)
                .map(|(n, silent)| {
                    format!(
                        "its SSM node {} has been {} for {silent:.0}s (grace {}s)",
                        n.id,
                        n.ping_status,
                        grace.as_secs()
                    )
                });
            let lb = unhealthy_since
                .get(&m.name)
                .map(|since| now - since.max(m.created_at))
                .filter(|for_s| *for_s >= grace_s)
                .map(|for_s| {
                    format!(
                        "a load balancer has reported it unhealthy for {for_s:.0}s (grace {}s)",
                        grace.as_secs()
                    )
                });
            node.or(lb).map(|why| Sick {
                name: m.name.clone(),
                why,
            })
        })
        .collect()
}

/// One apply's clients, deadline and cancellation.
pub struct Fleet<'a> {
    pub ls: aws_sdk_lightsail::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub region: String,
    pub cancel: &'a CancellationToken,
    pub deadline: Instant,
}

pub fn now_epoch() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// How long after its launch a member may still be registering with SSM: until then a member
/// without a managed node is waited for (an interrupted apply launched it); after, it is made
/// again (its bootstrap failed).
const REGISTRATION_GRACE: Duration = Duration::from_secs(600);

/// The operations whose calls [`Fleet::settled`] makes again when they end `Failed`.
const IDEMPOTENT: [&str; 4] = [
    "PutInstancePublicPorts",
    "DeleteInstance",
    "DetachInstancesFromLoadBalancer",
    "StartInstance",
];
/// How many more times.
const AGAIN: u32 = 2;

impl<'a> Fleet<'a> {
    /// The fleet for one call: clients, deadline `timeout` from now, cancellation.
    pub fn new(
        cfg: &crate::config::Configured,
        cancel: &'a CancellationToken,
        timeout: Duration,
    ) -> Fleet<'a> {
        Fleet {
            ls: crate::aws::lightsail::client(cfg),
            ssm: ssm::client(cfg),
            region: cfg.region(),
            cancel,
            deadline: Instant::now() + timeout,
        }
    }

    async fn wait(&self, ops: &[Operation]) -> Result<(), AwsError> {
        wait_operations(&self.ls, ops, self.deadline, self.cancel).await
    }

    /// Delete the activations of group `g` that interrupted launches left (`left`, or all found
    /// when `None`).
    async fn delete_left_activations(
        &self,
        g: &Group,
        left: Option<Vec<ssm::LeftActivation>>,
    ) -> Result<(), AwsError> {
        let left = match left {
            Some(l) => l,
            None => ssm::activations(&self.ssm, &g.prefix).await?,
        };
        for a in left {
            tracing::warn!(
                activation = a.id,
                "deleting an activation an interrupted apply left"
            );
            ssm::delete_activation(&self.ssm, &a.id).await?;
        }
        Ok(())
    }

    /// Wait for members an earlier apply launched to run with their node Online, no longer than
    /// the registration grace of the youngest (`created`: their launch times). `false` when
    /// the grace ran out first.
    async fn came_up(
        &self,
        g: &Group,
        members: &[Wanted],
        created: impl Iterator<Item = f64>,
    ) -> Result<bool, AwsError> {
        let youngest = created.fold(0.0, f64::max);
        let left = (youngest + REGISTRATION_GRACE.as_secs_f64() - now_epoch()).max(0.0);
        let grace_ends = Instant::now() + Duration::from_secs_f64(left);
        tracing::info!(
            members = members.len(),
            grace_left_s = left,
            "waiting for members an earlier apply launched"
        );
        let within_grace = Fleet {
            ls: self.ls.clone(),
            ssm: self.ssm.clone(),
            region: self.region.clone(),
            cancel: self.cancel,
            deadline: self.deadline.min(grace_ends),
        };
        match within_grace.ready(g, members).await {
            Ok(()) => Ok(true),
            Err(AwsError::TimedOut { .. }) if grace_ends < self.deadline => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Make an idempotent call and wait for its operations; when one ends `Failed`, make the
    /// same call again (at most [`AGAIN`] more times) rather than fail the apply. The call has
    /// the same input each time, so a retry cannot do more than the first attempt meant to.
    async fn settled<F, Fut>(&self, call: F) -> Result<(), AwsError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Vec<Operation>, AwsError>>,
    {
        let mut again = 0;
        loop {
            let ops = call().await?;
            match self.wait(&ops).await {
                Err(e) if again < AGAIN && e.is_failed_operation(&IDEMPOTENT) => {
                    again += 1;
                    tracing::warn!(error = %e, again, "operation failed: making the call again");
                }
                done => return done,
            }
        }
    }

    /// The group's members (by index, oldest first) and its managed nodes (by private IP).
    pub async fn observe(
        &self,
        g: &Group,
    ) -> Result<(Vec<Member>, BTreeMap<String, Node>), AwsError> {
        let members = instances::members(&self.ls, &g.index_of()).await?;
        let nodes = if members.is_empty() {
            BTreeMap::new()
        } else {
            ssm::nodes(&self.ssm, &g.prefix).await?
        };
        Ok((members, nodes))
    }

    /// `prior` updated with what the load balancers report of `members` now.
    pub async fn watch(
        &self,
        members: &[Member],
        prior: heal::Watch,
    ) -> Result<heal::Watch, AwsError> {
        let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
        let mut w = prior;
        let attached = if names.is_empty() {
            Vec::new()
        } else {
            instances::attachments(&self.ls, &names).await?
        };
        w.observe(&attached, now_epoch());
        Ok(w)
    }

    /// Members to heal now.
    pub fn to_heal(
        &self,
        g: &Group,
        members: &[Member],
        nodes: &BTreeMap<String, Node>,
    ) -> Vec<Sick> {
        g.heal_after
            .map(|grace| sick(members, nodes, &g.unhealthy_since, grace, now_epoch()))
            .unwrap_or_default()
    }

    /// Make the group what `g` wants. Steps in order: members that stay get started (if
    /// stopped), ports and tags; deletions (highest index first); members that never
    /// registered with SSM are made again together with the missing ones; members past the
    /// heal grace are replaced behind `gate`; then replacements, one at a time behind `gate`.
    pub async fn converge(&self, g: &Group, gate: &dyn Gate) -> Result<(), AwsError> {
        let (members, nodes) = self.observe(g).await?;
        let wanted = layout::wanted(&g.spec(), g.count, &g.zones);
        let names: Vec<String> = members.iter().map(|m| m.name.clone()).collect();
        let plan = layout::changes(&names, &g.prefix, &wanted);
        tracing::info!(
            group = g.prefix,
            create = plan.create.len(),
            replace = plan.replace.len(),
            delete = plan.delete.len(),
            heal = g.heal.len(),
            "converging"
        );
        let leaving: Vec<&String> = plan
            .delete
            .iter()
            .chain(plan.replace.iter().map(|(_, old)| old))
            .collect();
        // A member launched less than REGISTRATION_GRACE ago that is still pending, or has no
        // managed node yet while an activation of the group can still take a registration,
        // may be booting (an interrupted apply launched it): it is waited for, not made again.
        // Otherwise a running member without a node cannot register any more (its bootstrap
        // failed, its node was deregistered): it cannot be managed, so it is made again. A
        // node that registered and went silent is the heal's business, not this.
        let left = ssm::activations(&self.ssm, &g.prefix).await?;
        let may_register = left.iter().any(|a| a.usable);
        let now = now_epoch();
        let young = |m: &Member| {
            now - m.created_at < REGISTRATION_GRACE.as_secs_f64()
                && (m.state == "pending" || may_register)
        };
        let mut unregistered: Vec<Wanted> = wanted
            .iter()
            .filter(|w| {
                members.iter().any(|m| {
                    m.name == w.name
                        && m.state == "running"
                        && !nodes.contains_key(&m.private_ip)
                        && !young(m)
                })
            })
            .cloned()
            .collect();
        let booting: Vec<(&Member, &Wanted)> = wanted
            .iter()
            .filter(|w| !leaving.contains(&&w.name) && !g.heal.contains(&w.name))
            .filter_map(|w| {
                let m = members.iter().find(|m| m.name == w.name)?;
                let unregistered_yet = m.state == "running" && !nodes.contains_key(&m.private_ip);
                (young(m) && (m.state == "pending" || unregistered_yet)).then_some((m, w))
            })
            .collect();
        // What the plan announced, of what still exists, stays, and is not made again anyway.
        let healing: Vec<&Wanted> = wanted
            .iter()
            .filter(|w| g.heal.contains(&w.name) && !leaving.contains(&&w.name))
            .filter(|w| !unregistered.iter().any(|u| u.name == w.name))
            .filter(|w| {
                members
                    .iter()
                    .any(|m| m.name == w.name && m.state == "running")
            })
            .collect();
        for m in members
            .iter()
            .filter(|m| !leaving.contains(&&m.name))
            .filter(|m| {
                !unregistered
                    .iter()
                    .chain(healing.iter().copied())
                    .chain(booting.iter().map(|(_, w)| *w))
                    .any(|w| w.name == m.name)
            })
        {
            let w = wanted.iter().find(|w| w.name == m.name);
            self.settle(m, w, g).await?;
        }
        if !booting.is_empty() {
            let names: Vec<Wanted> = booting.iter().map(|(_, w)| (*w).clone()).collect();
            if self
                .came_up(g, &names, booting.iter().map(|(m, _)| m.created_at))
                .await?
            {
                // Their ports and tags once they run (a pending instance may refuse them).
                for (m, w) in &booting {
                    self.settle(m, Some(w), g).await?;
                }
            } else {
                tracing::warn!(
                    members = names.len(),
                    "members an earlier apply launched did not register within their grace: replacing them"
                );
                unregistered.extend(names);
            }
        }
        // No launch of ours runs now, and the booting members are up: an activation of the
        // group is one an interrupted apply left. Its code must not stay usable.
        self.delete_left_activations(g, Some(left)).await?;
        for name in &plan.delete {
            let m = members.iter().find(|m| &m.name == name);
            self.retire(name, m.and_then(|m| nodes.get(&m.private_ip)))
                .await?;
        }
        for w in &unregistered {
            tracing::warn!(
                instance = w.name,
                "member never registered with SSM: replacing it"
            );
            self.retire(&w.name, None).await?;
        }
        let create: Vec<Wanted> = plan.create.iter().cloned().chain(unregistered).collect();
        if !create.is_empty() {
            self.launch(g, &create).await?;
        }
        for w in healing {
            tracing::warn!(
                instance = w.name,
                "healing: replacing a member the plan announced"
            );
            let serving: Vec<String> = instances::attachments(&self.ls, &[&w.name])
                .await?
                .into_iter()
                .map(|a| a.load_balancer)
                .collect();
            let m = members.iter().find(|m| m.name == w.name);
            self.retire(&w.name, m.and_then(|m| nodes.get(&m.private_ip)))
                .await?;
            self.launch(g, std::slice::from_ref(w)).await?;
            gate.passed(self, &w.name, &serving).await?;
        }
        for (new, old) in &plan.replace {
            if !members.iter().any(|m| m.name == new.name) {
                self.launch(g, std::slice::from_ref(new)).await?;
            }
            let serving: Vec<String> = instances::attachments(&self.ls, &[old])
                .await?
                .into_iter()
                .map(|a| a.load_balancer)
                .collect();
            gate.passed(self, &new.name, &serving).await?;
            let m = members.iter().find(|m| &m.name == old);
            self.retire(old, m.and_then(|m| nodes.get(&m.private_ip)))
                .await?;
        }
        Ok(())
    }

    /// A member that stays: started again if it was stopped by hand, then its ports and tags,
    /// each changed only when it differs.
    async fn settle(&self, m: &Member, w: Option<&Wanted>, g: &Group) -> Result<(), AwsError> {
        if m.state == "stopped" {
            self.settled(|| instances::start(&self.ls, &m.name)).await?;
            if let Some(w) = w {
                self.ready(g, std::slice::from_ref(w)).await?;
            }
        }
        if canonical(&m.ports) != canonical(&g.ports) {
            self.settled(|| instances::put_ports(&self.ls, &m.name, &g.ports))
                .await?;
        }
        sync_tags(
            &self.ls,
            &m.name,
            &g.tags,
            &m.tags,
            self.deadline,
            self.cancel,
        )
        .await
    }

    /// [`Fleet::launch_once`]; when a CreateInstance operation ends `Failed`, delete what the
    /// launch made (and any node it registered) and launch again, at most [`AGAIN`] more
    /// times. All of the launch goes again, not only the failed member: the others were cut
    /// off before their ports, boot and setup were seen through.
    pub async fn launch(&self, g: &Group, members: &[Wanted]) -> Result<(), AwsError> {
        let mut again = 0;
        loop {
            match self.launch_once(g, members).await {
                Err(e) if again < AGAIN && e.is_failed_operation(&["CreateInstance"]) => {
                    again += 1;
                    tracing::warn!(error = %e, again, "a launch failed: deleting its members and launching them again");
                    let (existing, nodes) = self.observe(g).await?;
                    for m in existing
                        .iter()
                        .filter(|m| members.iter().any(|w| w.name == m.name))
                    {
                        self.retire(&m.name, nodes.get(&m.private_ip)).await?;
                    }
                }
                done => return done,
            }
        }
    }

    /// Create `members` with one activation: instances (one call per zone), exact public
    /// ports right after, then wait until each runs and its SSM node is Online.
    /// The activation is deleted whatever happens.
    async fn launch_once(&self, g: &Group, members: &[Wanted]) -> Result<(), AwsError> {
        let activation = ssm::create_activation(
            &self.ssm,
            &g.prefix,
            &g.ssm_role,
            members.len() as i32,
            &g.tags,
        )
        .await?;
        let result = self.launch_with(g, members, &activation).await;
        let deleted = ssm::delete_activation(&self.ssm, &activation.id).await;
        result.and(deleted)
    }

    async fn launch_with(
        &self,
        g: &Group,
        members: &[Wanted],
        activation: &ssm::Activation,
    ) -> Result<(), AwsError> {
        let user_data =
            bootstrap::render(&self.region, &activation.id, &activation.code, &g.user_data)
                .map_err(|e| AwsError::Wait(e.to_string()))?;
        let mut by_zone: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for w in members {
            by_zone.entry(&w.zone).or_default().push(w.name.clone());
        }
        let mut ops = Vec::new();
        for (zone, names) in by_zone {
            let launch = Launch {
                zone,
                names,
                blueprint_id: &g.blueprint_id,
                bundle_id: &g.bundle_id,
                user_data: &user_data,
                tags: &g.tags,
            };
            ops.extend(instances::create(&self.ls, launch).await?);
        }
        // Close Lightsail's default SSH rule at once, without waiting for the create
        // operations; an instance not ready for it yet gets its rules right after them.
        let mut later = Vec::new();
        for w in members {
            match instances::put_ports(&self.ls, &w.name, &g.ports).await {
                Ok(o) => ops.extend(o),
                Err(e) => {
                    tracing::debug!(instance = w.name, error = %e, "ports again after create");
                    later.push(w);
                }
            }
        }
        if let Err(e) = self.wait(&ops).await {
            if !e.is_failed_operation(&IDEMPOTENT) {
                return Err(e);
            }
            // A port change ended `Failed`: let the launches finish, then set every member's
            // rules again.
            tracing::warn!(error = %e, "operation failed: setting the new members' ports again");
            let launches: Vec<Operation> = ops
                .into_iter()
                .filter(|o| o.operation_type().map(|t| t.as_str()) == Some("CreateInstance"))
                .collect();
            self.wait(&launches).await?;
            later = members.iter().collect();
        }
        // All calls, then one wait (a failed operation: all again).
        if !later.is_empty() {
            self.settled(|| async {
                let mut ops = Vec::new();
                for w in &later {
                    ops.extend(instances::put_ports(&self.ls, &w.name, &g.ports).await?);
                }
                Ok(ops)
            })
            .await?;
        }
        self.ready(g, members).await?;
        match &g.setup {
            Some(script) => {
                let names: Vec<&str> = members.iter().map(|w| w.name.as_str()).collect();
                self.run_on(g, &names, "hastack member setup", script).await
            }
            None => Ok(()),
        }
    }

    /// Run `script` on the managed nodes of members `names` and fail unless it succeeds on each.
    pub async fn run_on(
        &self,
        g: &Group,
        names: &[&str],
        comment: &str,
        script: &str,
    ) -> Result<(), AwsError> {
        let all = instances::members(&self.ls, &g.index_of()).await?;
        let nodes = ssm::nodes(&self.ssm, &g.prefix).await?;
        let ids: Vec<String> = all
            .iter()
            .filter(|m| names.contains(&m.name.as_str()))
            .filter_map(|m| nodes.get(&m.private_ip).map(|n| n.id.clone()))
            .collect();
        if ids.is_empty() {
            return Ok(());
        }
        let invs = run::run(
            &self.ssm,
            run::Script {
                nodes: &ids,
                comment,
                script,
                timeout_s: 300,
            },
            self.deadline,
            self.cancel,
        )
        .await?;
        run::all_succeeded(comment, invs).map(|_| ())
    }

    /// Until every member is `running` and its managed node (matched by private IP) Online.
    async fn ready(&self, g: &Group, members: &[Wanted]) -> Result<(), AwsError> {
        wait_until(self.deadline, self.cancel, Backoff::states(), || async {
            let all = instances::members(&self.ls, &g.index_of()).await?;
            let mine: Vec<&Member> = all
                .iter()
                .filter(|m| members.iter().any(|w| w.name == m.name))
                .collect();
            let running = mine.len() == members.len() && mine.iter().all(|m| m.state == "running");
            if !running {
                let names: Vec<&str> = members.iter().map(|w| w.name.as_str()).collect();
                return Ok(Poll::Pending(format!("{} to be running", names.join(", "))));
            }
            let nodes = ssm::nodes(&self.ssm, &g.prefix).await?;
            let waiting: Vec<&str> = mine
                .iter()
                .filter(|m| !nodes.get(&m.private_ip).is_some_and(|n| n.online))
                .map(|m| m.name.as_str())
                .collect();
            Ok(if waiting.is_empty() {
                Poll::Done(())
            } else {
                Poll::Pending(format!("the SSM agent of {} to come Online (check the instance's boot log: the bootstrap installs and registers it)", waiting.join(", ")))
            })
        })
        .await
    }

    /// Take a member out: detach it from load balancers (waiting for draining), delete it,
    /// and deregister its managed node.
    pub async fn retire(&self, name: &str, node: Option<&Node>) -> Result<(), AwsError> {
        for a in instances::attachments(&self.ls, &[name]).await? {
            let detach = || instances::detach(&self.ls, &a.load_balancer, vec![name.to_string()]);
            match self.settled(detach).await {
                Err(e) if e.is_not_found() => {}
                done => done?,
            }
        }
        self.settled(|| instances::delete(&self.ls, name)).await?;
        if let Some(n) = node {
            ssm::deregister(&self.ssm, &n.id).await?;
        }
        Ok(())
    }

    /// Delete every member at once (destroy): all calls first, then one wait.
    pub async fn destroy(&self, g: &Group) -> Result<(), AwsError> {
        // Nodes are listed even with no member left: a destroy retried after a failed
        // deregistration still removes them.
        let nodes = ssm::nodes(&self.ssm, &g.prefix).await?;
        self.settled(|| async {
            let mut ops = Vec::new();
            // Again after a failed operation: not the members whose delete is under way.
            for m in instances::members(&self.ls, &g.index_of())
                .await?
                .iter()
                .filter(|m| !["shutting-down", "terminated"].contains(&m.state.as_str()))
            {
                ops.extend(instances::delete(&self.ls, &m.name).await?);
            }
            Ok(ops)
        })
        .await?;
        for n in nodes.values() {
            ssm::deregister(&self.ssm, &n.id).await?;
        }
        self.delete_left_activations(g, None).await
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A running member for tests (also used by `resources::replica`'s).
    pub(crate) fn member(name: &str, ip: &str) -> Member {
        Member {
            index: 0,
            name: name.into(),
            zone: "us-east-1a".into(),
            arn: String::new(),
            private_ip: ip.into(),
            public_ip: String::new(),
            state: "running".into(),
            created_at: 0.0,
            blueprint_id: String::new(),
            bundle_id: String::new(),
            ports: vec![],
            tags: BTreeMap::new(),
        }
    }

    /// A managed node keyed by its IP, for tests (also used by `resources::replica`'s).
    pub(crate) fn node(ip: &str, online: bool, last_ping: f64) -> (String, Node) {
        (
            ip.to_string(),
            Node {
                id: format!("mi-{ip}"),
                ip: ip.into(),
                online,
                ping_status: if online { "Online" } else { "ConnectionLost" }.into(),
                last_ping: Some(last_ping),
            },
        )
    }

    #[test]
    fn a_replacement_does_not_inherit_its_predecessors_time() {
        let mut m = member("a", "10.0.0.1");
        m.created_at = 900.0;
        let nodes: BTreeMap<String, Node> = [node("10.0.0.1", false, 100.0)].into();
        let lb: BTreeMap<String, f64> = [("a".to_string(), 100.0)].into();
        // Unhealthy and silent "since 100", but the member exists only since 900.
        assert!(sick(&[m.clone()], &nodes, &lb, Duration::from_secs(300), 1000.0).is_empty());
        assert_eq!(
            sick(&[m], &nodes, &lb, Duration::from_secs(300), 1300.0).len(),
            1
        );
    }

    #[test]
    fn a_stopped_member_is_not_sick() {
        let mut m = member("a", "10.0.0.1");
        m.state = "stopped".into();
        let nodes: BTreeMap<String, Node> = [node("10.0.0.1", false, 0.0)].into();
        assert!(sick(
            &[m],
            &nodes,
            &BTreeMap::new(),
            Duration::from_secs(1),
            1000.0
        )
        .is_empty());
    }

    #[test]
    fn sick_only_after_the_grace() {
        let members = [
            member("a", "10.0.0.1"),
            member("b", "10.0.0.2"),
            member("c", "10.0.0.3"),
        ];
        let nodes: BTreeMap<String, Node> = [
            node("10.0.0.1", true, 990.0),
            node("10.0.0.2", false, 950.0),
            node("10.0.0.3", false, 700.0),
        ]
        .into();
        let none = BTreeMap::new();
        let got = sick(&members, &nodes, &none, Duration::from_secs(300), 1000.0);
        assert_eq!(
            got.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
            ["c"]
        );
        assert!(got[0].why.contains("ConnectionLost"), "{}", got[0].why);
        assert_eq!(
            sick(&members, &nodes, &none, Duration::from_secs(30), 1000.0).len(),
            2
        );
        // The load balancer side: unhealthy since 600 (past a 300 s grace) or 900 (not yet).
        let lb: BTreeMap<String, f64> = [("a".to_string(), 600.0), ("b".to_string(), 900.0)].into();
        let got = sick(&members, &nodes, &lb, Duration::from_secs(300), 1000.0);
        assert_eq!(
            got.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
            ["a", "c"]
        );
        assert!(got[0].why.contains("unhealthy for 400s"), "{}", got[0].why);
    }
}
