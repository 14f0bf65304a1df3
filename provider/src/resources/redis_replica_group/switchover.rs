//! A planned switchover (`switchover.sh`, run on the new primary), and its safety checks.
use super::node::token_parameter;
use super::View;
use crate::aws::{run, AwsError};
use crate::fleet::{Fleet, Group};
use crate::resources::replica;

const SCRIPT: &str = include_str!("switchover.sh");

pub fn render(
    group: &str,
    region: &str,
    old: &str,
    new: &str,
    others: &[String],
) -> Result<String, AwsError> {
    let (token, others) = (token_parameter(group), others.join(" "));
    Ok(replica::render(
        SCRIPT,
        &[
            ("GROUP", group),
            ("REGION", region),
            ("TOKEN_PARAM", &token),
            ("OLD", old),
            ("NEW", new),
            ("OTHERS", &others),
        ],
    )?)
}

/// Switch the primary from `old` to `new` (private IPs of members of `v`).
pub async fn run(f: &Fleet<'_>, g: &Group, v: &View, old: &str, new: &str) -> Result<(), AwsError> {
    let node = v.nodes.get(new).filter(|n| n.online).ok_or_else(|| {
        AwsError::Wait(format!(
            "cannot switch over to {new}: its SSM node is not Online"
        ))
    })?;
    let others: Vec<String> = v
        .ips()
        .into_iter()
        .filter(|ip| ip != old && ip != new)
        .collect();
    let script = render(&g.prefix, &f.region, old, new, &others)?;
    tracing::info!(group = g.prefix, old, new, "switchover");
    let invs = run::run(
        &f.ssm,
        run::Script {
            nodes: std::slice::from_ref(&node.id),
            comment: "hastack redis switchover",
            script: &script,
            // Its steps are bounded (5 s per call, 100 polls each); a slow machine gets room.
            timeout_s: 180,
        },
        f.deadline,
        f.cancel,
    )
    .await?;
    run::all_succeeded("redis switchover", invs).map(|_| ())
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_every_placeholder() {
        let s = super::render(
            "cache",
            "us-east-1",
            "10.0.0.1",
            "10.0.0.2",
            &["10.0.0.3".into()],
        )
        .unwrap();
        assert!(
            s.contains("OLD='10.0.0.1'")
                && s.contains("NEW='10.0.0.2'")
                && s.contains("OTHERS='10.0.0.3'")
        );
        assert!(
            !regex::Regex::new("@[A-Z_0-9]+@").unwrap().is_match(&s),
            "every placeholder is filled"
        );
        assert!(super::render("cache", "us-east-1", "1; reboot", "x", &[]).is_err());
    }
}
