//! State Manager associations: a Command document with parameters bound to targets (node ids
//! or `tag:K` values). An association is applied to every matching Online node when it is
//! created or updated, and to a node that registers later when its tags match (what makes an
//! instance group's new members configure themselves). Each application runs the document on
//! the node's host like Run Command, but is not listed by ListCommands (as on AWS); its
//! outcome is the node's association status (DescribeInstanceAssociationsStatus).
//!
//! Not emulated: schedules (an association is applied on the events above, not re-applied
//! every 30 minutes), rate control, output to S3.
use std::collections::BTreeMap;

use super::activations::ping_status;
use super::commands::{invocation_status, SendCommand};
use super::error::{fail, required, Result, SsmCode};
use super::Backend;
use crate::Ctx;

#[derive(Clone, Debug)]
pub struct Association {
    pub id: String,
    pub name: String,
    pub association_name: Option<String>,
    pub document_version: Option<String>,
    pub parameters: BTreeMap<String, Vec<String>>,
    pub targets: Vec<(String, Vec<String>)>,
    pub schedule: Option<String>,
    pub version: i64,
    pub created: f64,
    pub updated: f64,
    /// Per node: the association version applied and the command that applied it.
    pub applied: BTreeMap<String, (i64, String)>,
}

/// What CreateAssociation and UpdateAssociation ask for.
#[derive(Clone, Debug, Default)]
pub struct AssociationRequest {
    pub id: String,
    pub name: String,
    pub association_name: Option<String>,
    pub document_version: Option<String>,
    pub parameters: Option<BTreeMap<String, Vec<String>>>,
    pub targets: Option<Vec<(String, Vec<String>)>>,
    pub instance_id: Option<String>,
    pub schedule: Option<String>,
}

/// A node's status for one association.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeStatus {
    pub association_id: String,
    pub association_name: Option<String>,
    pub name: String,
    pub association_version: i64,
    pub document_version: String,
    pub date: f64,
    /// Pending, Success or Failed.
    pub status: &'static str,
    pub detailed: String,
    pub error: Option<String>,
}

fn no_such(id: &str) -> super::error::SsmError {
    fail(
        SsmCode::AssociationDoesNotExist,
        format!("The specified association {id} does not exist."),
    )
}

fn check_targets(targets: &[(String, Vec<String>)]) -> Result<()> {
    if targets.len() > 5 {
        return Err(fail(
            SsmCode::InvalidTarget,
            "At most 5 targets per association.",
        ));
    }
    for (k, v) in targets {
        let ok = (k == "InstanceIds"
            || k.strip_prefix("tag:").is_some_and(|t| !t.is_empty())
            || k == "tag-key")
            && !v.is_empty();
        if !ok {
            return Err(fail(
                SsmCode::InvalidTarget,
                format!("Target key {k:?} is not valid (InstanceIds, tag:<key> or tag-key, with values)."),
            ));
        }
    }
    Ok(())
}

fn valid_association_name(n: &str) -> bool {
    (3..=128).contains(&n.len())
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
}

impl Association {
    fn matches(&self, n: &super::activations::Node) -> bool {
        self.targets.iter().any(|(k, values)| match k.as_str() {
            "InstanceIds" => values.contains(&n.id),
            "tag-key" => values.iter().any(|v| n.tags.contains_key(v)),
            k => k
                .strip_prefix("tag:")
                .is_some_and(|t| n.tags.get(t).is_some_and(|v| values.contains(v))),
        })
    }
}

impl Backend {
    pub fn create_association(
        &mut self,
        ctx: &Ctx<'_>,
        req: AssociationRequest,
    ) -> Result<Association> {
        let name = required(&req.name, "Name")?.to_string();
        let mut targets = req.targets.unwrap_or_default();
        if let Some(i) = req.instance_id.filter(|i| !i.is_empty()) {
            if !targets.is_empty() {
                return Err(fail(
                    SsmCode::Validation,
                    "InstanceId and Targets cannot both be given.",
                ));
            }
            if self.associations.values().any(|a| {
                a.name == name && a.targets == [("InstanceIds".to_string(), vec![i.clone()])]
            }) {
                return Err(fail(
                    SsmCode::AssociationAlreadyExists,
                    "The specified association already exists.",
                ));
            }
            targets = vec![("InstanceIds".into(), vec![i])];
        }
        if targets.is_empty() {
            return Err(super::error::missing("Targets"));
        }
        check_targets(&targets)?;
        if let Some(n) = req
            .association_name
            .as_deref()
            .filter(|n| !valid_association_name(n))
        {
            return Err(fail(
                SsmCode::Validation,
                format!("AssociationName {n:?} must be 3-128 letters, digits, '_', '-' or '.'."),
            ));
        }
        let parameters = req.parameters.unwrap_or_default();
        self.check_association_document(&name, req.document_version.as_deref(), &parameters)?;
        let a = Association {
            id: uuid::Uuid::new_v4().to_string(),
            name,
            association_name: req.association_name,
            document_version: req.document_version,
            parameters,
            targets,
            schedule: req.schedule,
            version: 1,
            created: ctx.now,
            updated: ctx.now,
            applied: BTreeMap::new(),
        };
        self.associations.insert(a.id.clone(), a.clone());
        self.apply_association(ctx, &a.id, None);
        Ok(self.associations[&a.id].clone())
    }

    /// A new version of the association (what the request leaves out stays), applied again.
    pub fn update_association(
        &mut self,
        ctx: &Ctx<'_>,
        req: AssociationRequest,
    ) -> Result<Association> {
        let id = required(&req.id, "AssociationId")?.to_string();
        let mut a = self
            .associations
            .get(&id)
            .cloned()
            .ok_or_else(|| no_such(&id))?;
        if let Some(t) = req.targets {
            check_targets(&t)?;
            a.targets = t;
        }
        if let Some(p) = req.parameters {
            a.parameters = p;
        }
        if req.document_version.is_some() {
            a.document_version = req.document_version;
        }
        if let Some(n) = req.association_name {
            if !valid_association_name(&n) {
                return Err(fail(
                    SsmCode::Validation,
                    format!(
                        "AssociationName {n:?} must be 3-128 letters, digits, '_', '-' or '.'."
                    ),
                ));
            }
            a.association_name = Some(n);
        }
        if req.schedule.is_some() {
            a.schedule = req.schedule;
        }
        if !req.name.is_empty() && req.name != a.name {
            a.name = req.name;
        }
        self.check_association_document(&a.name, a.document_version.as_deref(), &a.parameters)?;
        a.version += 1;
        a.updated = ctx.now;
        self.associations.insert(id.clone(), a);
        self.apply_association(ctx, &id, None);
        Ok(self.associations[&id].clone())
    }

    pub fn association(&self, id: &str) -> Result<Association> {
        let id = required(id, "AssociationId")?;
        self.associations
            .get(id)
            .cloned()
            .ok_or_else(|| no_such(id))
    }

    pub fn delete_association(&mut self, id: &str) -> Result<()> {
        let id = required(id, "AssociationId")?;
        self.associations
            .remove(id)
            .map(|_| ())
            .ok_or_else(|| no_such(id))
    }

    /// The document must be a Command document, with these parameters.
    fn check_association_document(
        &self,
        name: &str,
        version: Option<&str>,
        params: &BTreeMap<String, Vec<String>>,
    ) -> Result<()> {
        let doc = super::documents::find(self, name).ok_or_else(|| {
            fail(
                SsmCode::InvalidDocument,
                format!("Document {name} does not exist"),
            )
        })?;
        if doc.document_type != "Command" {
            return Err(fail(
                SsmCode::InvalidDocument,
                format!(
                    "{name} is a {} document: associations run Command documents",
                    doc.document_type
                ),
            ));
        }
        let v = super::documents::resolve_version(&doc, version)?;
        let content =
            super::documents::parse_content(&doc.versions[v - 1].content, "JSON", "Command")?;
        super::commands::check_parameters(&content, params)
    }

    /// Run the association on the matching Online nodes (`only`: just that node) that have not
    /// had its current version applied.
    fn apply_association(&mut self, ctx: &Ctx<'_>, id: &str, only: Option<&str>) {
        let Some(a) = self.associations.get(id).cloned() else {
            return;
        };
        let nodes: Vec<String> = self
            .nodes
            .values()
            .filter(|n| only.is_none_or(|o| o == n.id))
            .filter(|n| a.matches(n) && ping_status(n, ctx.hosts) == "Online")
            .filter(|n| a.applied.get(&n.id).is_none_or(|(v, _)| *v < a.version))
            .map(|n| n.id.clone())
            .collect();
        if nodes.is_empty() {
            return;
        }
        let sent = self.send_command(
            ctx,
            SendCommand {
                document_name: a.name.clone(),
                document_version: a.document_version.clone(),
                parameters: a.parameters.clone(),
                instance_ids: nodes.clone(),
                targets: vec![],
                timeout_seconds: None,
                comment: format!("State Manager association {id}"),
            },
        );
        if let Ok(c) = sent {
            if let Some(cmd) = self.commands.iter_mut().find(|x| x.id == c.id) {
                cmd.association = Some(id.to_string());
            }
            if let Some(a) = self.associations.get_mut(id) {
                for n in nodes {
                    a.applied.insert(n, (a.version, c.id.clone()));
                }
            }
        }
    }

    /// A node just registered: the associations whose targets match it are applied to it.
    pub fn apply_associations_to(&mut self, ctx: &Ctx<'_>, node: &str) {
        let ids: Vec<String> = self.associations.keys().cloned().collect();
        for id in ids {
            self.apply_association(ctx, &id, Some(node));
        }
    }

    /// The node's status for each association applied to it.
    pub fn node_association_statuses(&self, ctx: &Ctx<'_>, node: &str) -> Result<Vec<NodeStatus>> {
        let node = required(node, "InstanceId")?;
        if !self.nodes.contains_key(node) {
            return Err(fail(
                SsmCode::InvalidInstanceId,
                format!("Instance Id {node} is not valid"),
            ));
        }
        let mut out = Vec::new();
        for a in self.associations.values() {
            let Some((version, cid)) = a.applied.get(node) else {
                continue;
            };
            let Some(c) = self.commands.iter().find(|c| &c.id == cid) else {
                continue;
            };
            let Some(inv) = c.invocations.iter().find(|i| i.instance_id == node) else {
                continue;
            };
            let (status, details, _) = invocation_status(c, inv, ctx);
            let (status, error) = match status {
                "Success" => ("Success", None),
                "Failed" | "TimedOut" | "Cancelled" | "DeliveryTimedOut" => {
                    ("Failed", Some(details.to_string()))
                }
                _ => ("Pending", None),
            };
            out.push(NodeStatus {
                association_id: a.id.clone(),
                association_name: a.association_name.clone(),
                name: a.name.clone(),
                association_version: *version,
                document_version: c.document_version.clone(),
                date: c.requested,
                status,
                detailed: details.to_string(),
                error,
            });
        }
        Ok(out)
    }

    /// Per status, how many nodes the association was applied to are in it.
    pub fn association_overview(
        &self,
        ctx: &Ctx<'_>,
        a: &Association,
    ) -> BTreeMap<&'static str, i64> {
        let mut counts = BTreeMap::new();
        for node in a.applied.keys() {
            if let Ok(st) = self.node_association_statuses(ctx, node) {
                if let Some(s) = st.iter().find(|s| s.association_id == a.id) {
                    *counts.entry(s.status).or_insert(0) += 1;
                }
            }
        }
        counts
    }
}
