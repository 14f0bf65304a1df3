//! What the replica groups (`hastack_redis_replica_group`, `hastack_mysql_replica_set`) share:
//! a view of the members with each one's report from a status script run over Run Command,
//! waiting for the group to be healthy, naming the primary, the scripts' safe values, and the
//! private state that remembers the last applied primary.
use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::aws::instances::Member;
use crate::aws::ssm::Node;
use crate::aws::{run, wait_until, AwsError, Backoff, Poll};
use crate::fleet::{layout, Fleet, Group};

/// What the provider remembers between calls (private state): whether `primary` was
/// configured, and which member the last apply left primary.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Private {
    pub configured: bool,
    pub applied_primary: String,
}

impl Private {
    pub fn from_bytes(b: &[u8]) -> Private {
        serde_json::from_slice(b).unwrap_or_default()
    }
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// The plan warning for a primary that moved since the last apply (an automatic failover):
/// `None` when it did not.
pub fn moved(private: &[u8], now: Option<&String>, configured: bool) -> Option<String> {
    let applied = Private::from_bytes(private).applied_primary;
    let now = now?;
    if applied.is_empty() || &applied == now {
        return None;
    }
    let advice = if configured {
        "Nothing changes unless you change `primary` (set it to the new primary to keep things as they are)."
    } else {
        "Nothing changes."
    };
    Some(format!("{now} was promoted: an automatic failover happened since the last apply, which left {applied} primary. {advice}"))
}

/// The group as AWS and its members report it (`S`: one member's status report).
pub struct View<S> {
    pub members: Vec<Member>,
    pub nodes: BTreeMap<String, Node>,
    /// By private IP, for members whose node answered.
    pub status: BTreeMap<String, S>,
}

impl<S> View<S> {
    pub fn name_of(&self, ip: &str) -> Option<String> {
        self.members
            .iter()
            .find(|m| m.private_ip == ip)
            .map(|m| m.name.clone())
    }

    pub fn ips(&self) -> Vec<String> {
        self.members.iter().map(|m| m.private_ip.clone()).collect()
    }

    pub fn node_id(&self, ip: &str) -> String {
        self.nodes.get(ip).map(|n| n.id.clone()).unwrap_or_default()
    }

    pub fn online_nodes(&self) -> Vec<String> {
        self.members
            .iter()
            .filter_map(|m| self.nodes.get(&m.private_ip))
            .filter(|n| n.online)
            .map(|n| n.id.clone())
            .collect()
    }

    /// The zones of the members, by index (for an imported group).
    pub fn zones(&self) -> Vec<String> {
        self.members.iter().fold(Vec::new(), |mut seen, m| {
            if !seen.contains(&m.zone) {
                seen.push(m.zone.clone());
            }
            seen
        })
    }
}

/// A status script and how to read one member's answer.
pub struct Status<'a, S> {
    pub comment: &'a str,
    pub script: &'a str,
    pub parse: fn(&str) -> Option<S>,
}

/// The last line of `stdout` that is a JSON `S`.
pub fn last_json<S: DeserializeOwned>(stdout: &str) -> Option<S> {
    stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l.trim()).ok())
}

/// Observe the members and run the status script on every Online node (at most a minute).
pub async fn look<S>(f: &Fleet<'_>, g: &Group, st: &Status<'_, S>) -> Result<View<S>, AwsError> {
    let (members, nodes) = f.observe(g).await?;
    let mut v = View {
        members,
        nodes,
        status: BTreeMap::new(),
    };
    let ids = v.online_nodes();
    if ids.is_empty() {
        return Ok(v);
    }
    let deadline = f
        .deadline
        .min(tokio::time::Instant::now() + Duration::from_secs(60));
    let invs = match run::run_within(
        &f.ssm,
        run::Script {
            nodes: &ids,
            comment: st.comment,
            script: st.script,
            timeout_s: 30,
        },
        deadline,
        f.cancel,
    )
    .await?
    {
        run::Ran::All(invs) => invs,
        // A member whose status has not come back in a minute (a busy or unreachable host)
        // has not reported, like a member whose node is offline: waits look again, until
        // their own deadline; the apply's deadline itself is still an error.
        run::Ran::Partly { done, error } if tokio::time::Instant::now() < f.deadline => {
            tracing::warn!(
                reported = done.len(),
                members = ids.len(),
                "status not reported by every member: {error}"
            );
            done
        }
        run::Ran::Partly { error, .. } => return Err(error),
    };
    for inv in invs.iter().filter(|i| i.succeeded()) {
        let ip = v
            .nodes
            .values()
            .find(|n| n.id == inv.node)
            .map(|n| n.ip.clone());
        if let (Some(ip), Some(s)) = (ip, (st.parse)(&inv.stdout)) {
            v.status.insert(ip, s);
        }
    }
    Ok(v)
}

/// [`look`] for a read that records roles: a member whose node is Online but whose status did
/// not come back (its command failed on a transient API or host error, or its host was too busy
/// to answer in time) is looked at again, up to four times (1, 2, 3 and 4 s apart), instead of
/// being recorded `down` at once. A member keeps its answer from an earlier look when a later
/// one misses it (seconds apart, it is still the freshest word), so every member need not answer
/// the same look; a member silent in all of them is reported as it is.
pub async fn look_settled<S>(
    f: &Fleet<'_>,
    g: &Group,
    st: &Status<'_, S>,
) -> Result<View<S>, AwsError> {
    let mut v = look(f, g, st).await?;
    for pause in 1..=4 {
        if v.status.len() >= v.online_nodes().len() || tokio::time::Instant::now() >= f.deadline {
            break;
        }
        tokio::time::sleep(Duration::from_secs(pause)).await;
        let mut next = look(f, g, st).await?;
        carry_over(&mut next, v.status);
        v = next;
    }
    Ok(v)
}

/// Into `v`, the `earlier` answers of members that are still Online there and did not answer.
fn carry_over<S>(v: &mut View<S>, earlier: BTreeMap<String, S>) {
    for (ip, s) in earlier {
        let online = v.nodes.get(&ip).is_some_and(|n| n.online)
            && v.members.iter().any(|m| m.private_ip == ip);
        if online {
            v.status.entry(ip).or_insert(s);
        }
    }
}

/// Poll until `unhealthy` finds nothing wrong with the group.
pub async fn wait_healthy<S>(
    f: &Fleet<'_>,
    g: &Group,
    st: &Status<'_, S>,
    unhealthy: impl Fn(&View<S>) -> Option<String>,
) -> Result<View<S>, AwsError> {
    wait_until(f.deadline, f.cancel, Backoff::states(), || async {
        let v = look(f, g, st).await?;
        Ok(match unhealthy(&v) {
            None => Poll::Done(v),
            Some(what) => Poll::Pending(what),
        })
    })
    .await
}

/// How a replica group moves one member to a new instance (see [`move_members`]).
#[async_trait]
pub trait Mover: Sync {
    type Status: Send + Sync;
    async fn look(&self, f: &Fleet<'_>, g: &Group) -> Result<View<Self::Status>, AwsError>;
    /// The primary's address.
    fn primary(&self, v: &View<Self::Status>) -> Option<String>;
    /// Whether a member reporting `s` can take over from the primary now.
    fn can_take_over(&self, s: &Self::Status) -> bool;
    /// A planned switchover from `from` to `to`, waiting until `to` is the healthy primary.
    async fn switchover(
        &self,
        f: &Fleet<'_>,
        g: &Group,
        v: &View<Self::Status>,
        from: &str,
        to: &str,
    ) -> Result<(), AwsError>;
    /// Configure the members at `keep` (by index; `joining` is the new one) around `primary`
    /// and wait until the group is healthy.
    async fn configure(
        &self,
        f: &Fleet<'_>,
        g: &Group,
        v: &View<Self::Status>,
        keep: &[String],
        primary: &str,
        joining: &str,
    ) -> Result<View<Self::Status>, AwsError>;
    /// What to undo before the old instance goes (e.g. its etcd membership).
    async fn release(
        &self,
        _f: &Fleet<'_>,
        _v: &View<Self::Status>,
        _keep: &[String],
        _joining: &str,
    ) -> Result<(), AwsError> {
        Ok(())
    }
}

/// Move the members whose instance must change (bundle, blueprint or zone) to new instances,
/// one at a time, every replica first and the primary last, after a switchover away from it.
/// Each new member is configured and the group healthy before its predecessor is deleted, so
/// the group keeps a primary and its replicas throughout. Whether any member moved.
pub async fn move_members<M: Mover>(f: &Fleet<'_>, g: &Group, m: &M) -> Result<bool, AwsError> {
    let (members, _) = f.observe(g).await?;
    let names: Vec<String> = members.iter().map(|m| m.name.clone()).collect();
    let wanted = layout::wanted(&g.spec(), g.count, &g.zones);
    let mut pairs = layout::changes(&names, &g.prefix, &wanted).replace;
    if pairs.is_empty() {
        return Ok(false);
    }
    let v = m.look(f, g).await?;
    let primary = m.primary(&v).and_then(|ip| v.name_of(&ip));
    // The primary last (a stable sort keeps the index order otherwise).
    pairs.sort_by_key(|(_, old)| Some(old) == primary.as_ref());
    for (new, old) in pairs {
        tracing::info!(
            group = g.prefix,
            old,
            new = new.name,
            "moving a member to a new instance"
        );
        let v = m.look(f, g).await?;
        let mut current = m.primary(&v).ok_or_else(|| {
            AwsError::Wait(format!("{} has no primary to move {old} under", g.prefix))
        })?;
        if v.name_of(&current).as_deref() == Some(old.as_str()) {
            let to = v
                .members
                .iter()
                .filter(|x| x.name != old)
                .find(|x| {
                    v.status
                        .get(&x.private_ip)
                        .is_some_and(|s| m.can_take_over(s))
                })
                .map(|x| x.private_ip.clone())
                .ok_or_else(|| {
                    AwsError::Wait(format!("no healthy replica to take over from {old}"))
                })?;
            m.switchover(f, g, &v, &current, &to).await?;
            current = to;
        }
        if !v.members.iter().any(|x| x.name == new.name) {
            f.launch(g, std::slice::from_ref(&new)).await?;
        }
        let v = m.look(f, g).await?;
        let keep: Vec<String> = v
            .members
            .iter()
            .filter(|x| x.name != old)
            .map(|x| x.private_ip.clone())
            .collect();
        let joining = v
            .members
            .iter()
            .find(|x| x.name == new.name)
            .map(|x| x.private_ip.clone())
            .ok_or_else(|| AwsError::Wait(format!("{} did not come up", new.name)))?;
        let v = m.configure(f, g, &v, &keep, &current, &joining).await?;
        m.release(f, &v, &keep, &joining).await?;
        let gone = v.members.iter().find(|x| x.name == old);
        f.retire(&old, gone.and_then(|x| v.nodes.get(&x.private_ip)))
            .await?;
    }
    Ok(true)
}

/// Run `script` on the members at `ips` and fail unless it succeeds on each.
pub async fn run_on<S>(
    f: &Fleet<'_>,
    v: &View<S>,
    ips: &[String],
    comment: &str,
    script: &str,
) -> Result<Vec<run::Invocation>, AwsError> {
    let ids: Vec<String> = ips
        .iter()
        .filter_map(|ip| v.nodes.get(ip))
        .filter(|n| n.online)
        .map(|n| n.id.clone())
        .collect();
    if ids.len() != ips.len() {
        return Err(AwsError::Wait(format!(
            "{comment}: the SSM node of {} of {} members is not Online",
            ips.len() - ids.len(),
            ips.len()
        )));
    }
    let invs = run::run(
        &f.ssm,
        run::Script {
            nodes: &ids,
            comment,
            script,
            timeout_s: 600,
        },
        f.deadline,
        f.cancel,
    )
    .await?;
    run::all_succeeded(comment, invs)
}

/// Which member `primary` (a member's name, or `<name>-<index>`) means.
pub fn resolve<'m>(members: &'m [Member], group: &str, primary: &str) -> Option<&'m Member> {
    members.iter().find(|m| {
        m.name == primary
            || primary
                .strip_prefix(group)
                .and_then(|r| r.strip_prefix('-'))
                .and_then(|i| i.parse::<usize>().ok())
                == Some(m.index)
    })
}

/// Names, addresses, parameter names and setting values: what a script may carry.
pub fn safe(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || " -_./:,=".contains(c))
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{0:?} has characters a node script cannot carry safely")]
pub struct Unsafe(pub String);

impl From<Unsafe> for AwsError {
    fn from(u: Unsafe) -> AwsError {
        AwsError::Wait(u.to_string())
    }
}

pub fn check(values: &[&str]) -> Result<(), Unsafe> {
    match values.iter().find(|v| !safe(v)) {
        Some(v) => Err(Unsafe(v.to_string())),
        None => Ok(()),
    }
}

/// `text` as base64 in lines of 76, for a heredoc.
pub fn b64(text: &str) -> String {
    let e = base64::engine::general_purpose::STANDARD.encode(text);
    e.as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `template` with each `@KEY@` replaced; an error if a value is unsafe or a placeholder is
/// left. Values of keys ending in `_B64` are [`b64`] output (a heredoc's lines) and unchecked.
pub fn render(template: &str, values: &[(&str, &str)]) -> Result<String, Unsafe> {
    check(
        &values
            .iter()
            .filter(|(k, _)| !k.ends_with("_B64"))
            .map(|(_, v)| *v)
            .collect::<Vec<_>>(),
    )?;
    let out = values.iter().fold(template.to_string(), |t, (k, v)| {
        t.replace(&format!("@{k}@"), v)
    });
    match regex::Regex::new("@[A-Z][A-Z_0-9]*@")
        .expect("valid pattern")
        .find(&out)
    {
        Some(m) => Err(Unsafe(format!("placeholder {} left unfilled", m.as_str()))),
        None => Ok(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_fills_checks_and_finds_leftovers() {
        assert_eq!(
            render("a=@A@ b=@B@", &[("A", "1"), ("B", "x.y")]).unwrap(),
            "a=1 b=x.y"
        );
        assert!(render("a=@A@", &[("A", "1'; reboot")]).is_err());
        assert!(render("a=@A@ @C@", &[("A", "1")]).is_err());
        // Shell's "$@" is not a placeholder.
        assert!(render("echo \"$@\" @A@", &[("A", "1")]).is_ok());
    }

    #[test]
    fn carry_over_keeps_earlier_answers_of_online_members_only() {
        use crate::fleet::tests::{member, node};
        let mut v = View {
            members: vec![member("a", "a"), member("b", "b"), member("c", "c")],
            nodes: [
                node("a", true, 0.0),
                node("b", true, 0.0),
                node("c", false, 0.0),
            ]
            .into(),
            status: [("a".to_string(), "a now")].into(),
        };
        // "a" answered again (its new answer stays), "b" missed this look (its earlier answer
        // is kept), "c" went offline (its earlier answer is not), "d" is no member any more.
        let earlier = [
            ("a", "a before"),
            ("b", "b before"),
            ("c", "c before"),
            ("d", "d"),
        ]
        .map(|(k, s)| (k.to_string(), s))
        .into();
        carry_over(&mut v, earlier);
        assert_eq!(
            v.status,
            [("a".to_string(), "a now"), ("b".to_string(), "b before")].into()
        );
    }
}
