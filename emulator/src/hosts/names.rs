//! Names that resolve: load balancers' DNS names go into a marked block of a hosts file (the
//! machine's `/etc/hosts` and every host's own), so anything using the system resolver finds
//! them. The block is rewritten in place (the file may be a bind mount) and removed at shutdown.
use std::path::Path;

pub const BEGIN: &str = "# hastack-local load balancers (begin; rewritten by hastack-local)";
pub const END: &str = "# hastack-local load balancers (end)";

/// The block for `entries` (name, address); empty when there are none.
pub fn block(entries: &[(String, String)]) -> String {
    if entries.is_empty() {
        return String::new();
    }
    let mut out = format!("{BEGIN}\n");
    for (name, ip) in entries {
        out.push_str(&format!("{ip} {name}\n"));
    }
    out.push_str(END);
    out.push('\n');
    out
}

/// `text` without any block, then with `new_block` appended.
pub fn replace_block(text: &str, new_block: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in text.lines() {
        if line == BEGIN {
            inside = true;
        } else if line == END {
            inside = false;
        } else if !inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push_str(new_block);
    out
}

/// Rewrite the block of the hosts file at `path` in place (no rename: /etc/hosts may be a
/// bind mount); nothing is written when the content would not change.
pub fn write_block(path: &Path, new_block: &str) -> std::io::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let next = replace_block(&text, new_block);
    if next != text {
        std::fs::write(path, next)?;
    }
    Ok(())
}

/// The shell that applies the block file `/run/hastack/host/lb-hosts` to a host's /etc/hosts.
pub const APPLY_IN_HOST: &str = r#"set -e
f=/run/hastack/host/lb-hosts
{ sed '/^# hastack-local load balancers (begin/,/^# hastack-local load balancers (end)/d' /etc/hosts; cat "$f" 2>/dev/null || true; } > /etc/hosts.hastack
cat /etc/hosts.hastack > /etc/hosts
rm -f /etc/hosts.hastack"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_block_is_replaced_and_removed_leaving_the_rest() {
        let base = "127.0.0.1 localhost\n::1 localhost\n";
        let b1 = block(&[(
            "a-lb.us-east-1.elb.amazonaws.com".into(),
            "198.18.255.2".into(),
        )]);
        let with = replace_block(base, &b1);
        assert_eq!(
            with,
            format!("{base}{BEGIN}\n198.18.255.2 a-lb.us-east-1.elb.amazonaws.com\n{END}\n")
        );
        let b2 = block(&[("b.elb.amazonaws.com".into(), "198.18.255.3".into())]);
        let moved = replace_block(&with, &b2);
        assert!(!moved.contains("a-lb") && moved.contains("198.18.255.3 b.elb"));
        assert_eq!(
            replace_block(&moved, &block(&[])),
            base,
            "removal restores the file"
        );
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("hosts");
        std::fs::write(&p, base).unwrap();
        write_block(&p, &b1).unwrap();
        write_block(&p, "").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), base);
    }
}
