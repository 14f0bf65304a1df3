//! Apply: bring the group's members to what the configuration wants — launch, ports, tags,
//! delete, and the one-at-a-time rolling replacement.
use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::bootstrap;
use super::layout::{self, canonical, PortRule, Spec, Wanted};
use crate::aws::instances::{self, Launch, Member};
use crate::aws::lightsail::{sync_tags, wait_operations};
use crate::aws::ssm;
use crate::aws::Backoff;

/// What the configuration wants of the group.
pub struct Group {
    pub prefix: String,
    pub count: usize,
    pub zones: Vec<String>,
    pub blueprint_id: String,
    pub bundle_id: String,
    pub user_data: String,
    pub ports: Vec<PortRule>,
    pub ssm_role: String,
    pub tags: BTreeMap<String, String>,
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
}

/// One apply's clients, deadline and cancellation.
pub struct Run<'a> {
    pub ls: aws_sdk_lightsail::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub region: String,
    pub cancel: &'a CancellationToken,
    pub deadline: Instant,
}

impl Run<'_> {
    fn left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    async fn wait(&self, ops: &[aws_sdk_lightsail::types::Operation]) -> Result<(), String> {
        wait_operations(&self.ls, ops, self.left(), self.cancel)
            .await
            .map_err(|e| e.to_string())
    }

    /// Sleep before the next poll, or say why waiting is over.
    async fn pause(&self, backoff: &mut Backoff, what: &str) -> Result<(), String> {
        // The last sleep ends at the deadline, and one more look follows it.
        let delay = backoff.next().unwrap_or_default().min(self.left());
        if delay.is_zero() {
            return Err(format!("timed out waiting for {what}"));
        }
        tokio::select! {
            _ = self.cancel.cancelled() => return Err("cancelled (Terraform asked the provider to stop)".into()),
            _ = tokio::time::sleep(delay) => {}
        }
        Ok(())
    }

    /// Make the group what `g` wants. Steps in order: members that stay get started (if
    /// stopped), ports and tags; deletions (highest index first); members that never
    /// registered with SSM are made again together with the missing ones; then replacements,
    /// one at a time.
    pub async fn converge(&self, g: &Group) -> Result<(), String> {
        let members = instances::members(&self.ls, &g.prefix).await?;
        let wanted = layout::wanted(&g.spec(), g.count, &g.zones);
        let names: Vec<String> = members.iter().map(|m| m.name.clone()).collect();
        let plan = layout::changes(&names, &g.prefix, &wanted);
        tracing::info!(
            group = g.prefix,
            create = plan.create.len(),
            replace = plan.replace.len(),
            delete = plan.delete.len(),
            "converging"
        );
        let leaving: Vec<&String> = plan
            .delete
            .iter()
            .chain(plan.replace.iter().map(|(_, old)| old))
            .collect();
        let nodes = ssm::nodes(&self.ssm, &g.prefix).await?;
        // A running member with no managed node never registered (its bootstrap failed or an
        // earlier apply gave up waiting): it cannot be managed, so it is made again.
        let unregistered: Vec<&Wanted> = wanted
            .iter()
            .filter(|w| {
                members.iter().any(|m| {
                    m.name == w.name && m.state == "running" && !nodes.contains_key(&m.private_ip)
                })
            })
            .collect();
        for m in members
            .iter()
            .filter(|m| !leaving.contains(&&m.name))
            .filter(|m| !unregistered.iter().any(|w| w.name == m.name))
        {
            let w = wanted.iter().find(|w| w.name == m.name);
            self.settle(m, w, g).await?;
        }
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
        let create: Vec<Wanted> = plan
            .create
            .iter()
            .cloned()
            .chain(unregistered.into_iter().cloned())
            .collect();
        if !create.is_empty() {
            self.launch(g, &create).await?;
        }
        for (new, old) in &plan.replace {
            if !members.iter().any(|m| m.name == new.name) {
                self.launch(g, std::slice::from_ref(new)).await?;
            }
            let attached = instances::attachments(&self.ls, &[old, &new.name]).await?;
            let serving = attached.iter().filter(|(_, n)| n == old);
            for (lb, _) in serving {
                if !attached.iter().any(|(l, n)| l == lb && *n == new.name) {
                    let out = self
                        .ls
                        .attach_instances_to_load_balancer()
                        .load_balancer_name(lb)
                        .instance_names(&new.name)
                        .send()
                        .await
                        .map_err(|e| crate::aws::describe("AttachInstancesToLoadBalancer", &e).1)?;
                    self.wait(out.operations()).await?;
                }
                self.healthy(&new.name, lb).await?;
            }
            let m = members.iter().find(|m| &m.name == old);
            self.retire(old, m.and_then(|m| nodes.get(&m.private_ip)))
                .await?;
        }
        Ok(())
    }

    /// A member that stays: started again if it was stopped by hand, then its ports and tags,
    /// each changed only when it differs.
    async fn settle(&self, m: &Member, w: Option<&Wanted>, g: &Group) -> Result<(), String> {
        if m.state == "stopped" {
            let out = self
                .ls
                .start_instance()
                .instance_name(&m.name)
                .send()
                .await
                .map_err(|e| crate::aws::describe("StartInstance", &e).1)?;
            self.wait(out.operations()).await?;
            if let Some(w) = w {
                self.ready(&g.prefix, std::slice::from_ref(w)).await?;
            }
        }
        if canonical(&m.ports) != canonical(&g.ports) {
            let ops = instances::put_ports(&self.ls, &m.name, &g.ports).await?;
            self.wait(&ops).await?;
        }
        sync_tags(
            &self.ls,
            &m.name,
            &g.tags,
            &m.tags,
            self.left(),
            self.cancel,
        )
        .await?;
        Ok(())
    }

    /// Create `members` with one activation: instances (one call per zone), exact public
    /// ports right after, then wait until each runs and its SSM node is Online.
    /// The activation is deleted whatever happens.
    pub async fn launch(&self, g: &Group, members: &[Wanted]) -> Result<(), String> {
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
    ) -> Result<(), String> {
        let user_data =
            bootstrap::render(&self.region, &activation.id, &activation.code, &g.user_data)
                .map_err(|e| e.to_string())?;
        let mut by_zone: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for w in members {
            by_zone.entry(&w.zone).or_default().push(w.name.clone());
        }
        let mut ops = Vec::new();
        for (zone, names) in by_zone {
            ops.extend(
                instances::create(
                    &self.ls,
                    Launch {
                        zone,
                        names,
                        blueprint_id: &g.blueprint_id,
                        bundle_id: &g.bundle_id,
                        user_data: &user_data,
                        tags: &g.tags,
                    },
                )
                .await?,
            );
        }
        // Close Lightsail's default SSH rule at once, without waiting for the create
        // operations; an instance not ready for it yet gets its rules right after them.
        let mut later = Vec::new();
        for w in members {
            match instances::put_ports(&self.ls, &w.name, &g.ports).await {
                Ok(o) => ops.extend(o),
                Err(e) => {
                    tracing::debug!(instance = w.name, error = e, "ports again after create");
                    later.push(w);
                }
            }
        }
        self.wait(&ops).await?;
        let mut ops = Vec::new();
        for w in later {
            ops.extend(instances::put_ports(&self.ls, &w.name, &g.ports).await?);
        }
        self.wait(&ops).await?;
        self.ready(&g.prefix, members).await
    }

    /// Until every member is `running` and its managed node (matched by private IP) Online.
    async fn ready(&self, prefix: &str, members: &[Wanted]) -> Result<(), String> {
        let mut backoff = Backoff::states();
        loop {
            let all = instances::members(&self.ls, prefix).await?;
            let mine: Vec<&Member> = all
                .iter()
                .filter(|m| members.iter().any(|w| w.name == m.name))
                .collect();
            let running = mine.len() == members.len() && mine.iter().all(|m| m.state == "running");
            let waiting: Vec<&str> = if running {
                let nodes = ssm::nodes(&self.ssm, prefix).await?;
                mine.iter()
                    .filter(|m| !nodes.get(&m.private_ip).is_some_and(|n| n.online))
                    .map(|m| m.name.as_str())
                    .collect()
            } else {
                members.iter().map(|w| w.name.as_str()).collect()
            };
            if waiting.is_empty() {
                return Ok(());
            }
            let what = if running {
                format!("the SSM agent of {} to come Online (check the instance's boot log: the bootstrap installs and registers it)", waiting.join(", "))
            } else {
                format!("{} to be running", waiting.join(", "))
            };
            self.pause(&mut backoff, &what).await?;
        }
    }

    /// Until `name` is healthy on load balancer `lb`.
    async fn healthy(&self, name: &str, lb: &str) -> Result<(), String> {
        let mut backoff = Backoff::states();
        loop {
            let health = instances::lb_health(&self.ls, lb)
                .await?
                .unwrap_or_default();
            if health.iter().any(|(n, h)| n == name && h == "healthy") {
                return Ok(());
            }
            self.pause(
                &mut backoff,
                &format!("{name} to be healthy on load balancer {lb}"),
            )
            .await?;
        }
    }

    /// Take a member out: detach it from load balancers (waiting for draining), delete it,
    /// and deregister its managed node.
    pub async fn retire(&self, name: &str, node: Option<&ssm::Node>) -> Result<(), String> {
        for (lb, _) in instances::attachments(&self.ls, &[name]).await? {
            let out = self
                .ls
                .detach_instances_from_load_balancer()
                .load_balancer_name(&lb)
                .instance_names(name)
                .send()
                .await
                .map_err(|e| crate::aws::describe("DetachInstancesFromLoadBalancer", &e).1)?;
            self.wait(out.operations()).await?;
        }
        let ops = instances::delete(&self.ls, name).await?;
        self.wait(&ops).await?;
        if let Some(n) = node {
            ssm::deregister(&self.ssm, &n.id).await?;
        }
        Ok(())
    }

    /// Delete every member at once (destroy): all calls first, then one wait.
    pub async fn destroy(&self, prefix: &str) -> Result<(), String> {
        let members = instances::members(&self.ls, prefix).await?;
        let nodes = ssm::nodes(&self.ssm, prefix).await?;
        let mut ops = Vec::new();
        for m in &members {
            ops.extend(instances::delete(&self.ls, &m.name).await?);
        }
        self.wait(&ops).await?;
        for n in nodes.values() {
            ssm::deregister(&self.ssm, &n.id).await?;
        }
        Ok(())
    }
}
