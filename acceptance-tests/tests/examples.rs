//! Every example under examples/ applies (and destroys) cleanly against hastack-local, with an
//! empty plan afterwards: the examples in the docs are runnable, not decoration.
mod common;

use acceptance_tests::emulator::Emulator;
use acceptance_tests::Step;

const REQUIRED_PROVIDERS: &str =
    "terraform {\n  required_providers {\n    hastack = { source = \"hastack/hastack\" }\n  }\n}\n";

/// The example at `path`: one file, or every `.tf` file of a folder.
fn example(path: &str) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(path);
    let read = |p: &std::path::Path| {
        std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    };
    let text = if root.is_dir() {
        let mut files: Vec<_> = std::fs::read_dir(&root)
            .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "tf"))
            .collect();
        files.sort();
        assert!(
            files.len() > 1,
            "{}: expected several .tf files",
            root.display()
        );
        files.iter().map(|p| read(p)).collect::<Vec<_>>().join("\n")
    } else {
        read(&root)
    };
    if text.contains("required_providers") {
        text
    } else {
        format!("{REQUIRED_PROVIDERS}{text}")
    }
}

#[test]
fn examples_apply_cleanly() {
    if !acceptance_tests::enabled() {
        return;
    }
    // The instance group needs hosts (its members must register with SSM); without them it is
    // left to say so and the rest still runs.
    let (_guard, e) = match common::hosts_emulator() {
        Some((g, e)) => (Some(g), e),
        None => (None, Emulator::start()),
    };
    for (name, path) in [
        ("spread_zones", "spread-zones/main.tf"),
        ("provider", "provider/provider.tf"),
        (
            "lightsail_load_balancer",
            "resources/hastack_lightsail_load_balancer/resource.tf",
        ),
        (
            "lightsail_lb_attachment",
            "resources/hastack_lightsail_lb_attachment/resource.tf",
        ),
        (
            "lightsail_ha_instance",
            "resources/hastack_lightsail_ha_instance/resource.tf",
        ),
        // Ops tier.
        (
            "ssm_session_policy",
            "resources/hastack_ssm_session_policy/resource.tf",
        ),
        (
            "cloudwatch_log_pipeline",
            "resources/hastack_cloudwatch_log_pipeline/resource.tf",
        ),
        // The web tier with its operations (log pipeline, session policy): every file of the
        // folder, as `terraform apply` there reads them.
        ("web_tier", "web-tier"),
    ] {
        if (name == "lightsail_ha_instance" || name == "web_tier") && _guard.is_none() {
            acceptance_tests::cannot_run(
                &format!("example {name}"),
                "hastack-local has no hosts here",
            );
            continue;
        }
        if name == "lightsail_lb_attachment" {
            instances(&e, &["web-1", "web-2"]);
        }
        common::with_emulator(&format!("example_{name}"), &e)
            .step(Step::new(example(path)))
            .run();
    }
}

/// The instances the attachment example names, made through the API.
fn instances(e: &Emulator, names: &[&str]) {
    common::block_on(
        common::lightsail_on(e.port)
            .create_instances()
            .set_instance_names(Some(names.iter().map(|s| s.to_string()).collect()))
            .availability_zone("us-east-1a")
            .blueprint_id("debian_12")
            .bundle_id("nano_3_0")
            .send(),
    )
    .unwrap();
}

/// Every `.tf`, `.tftest.hcl` and `.tfmock.hcl` file under examples/ is formatted as
/// `terraform fmt` would write it, and every `.tf` file is applied by some test: here, in the
/// resource tests (`resource_example`) or in ha_webapp.rs (the module and environments).
#[test]
fn examples_are_formatted_and_each_is_applied_somewhere() {
    if !acceptance_tests::enabled() {
        return;
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut w = acceptance_tests::Workdir::new("examples_fmt", vec![]).expect("workdir");
    let dir = root.canonicalize().expect("examples dir");
    let (code, out, err) = w.terraform_output(&[
        "fmt",
        "-check",
        "-recursive",
        "-diff",
        "-no-color",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(
        code,
        Some(0),
        "terraform fmt -check: files to format:\n{out}\n{err}"
    );

    // Where each example is applied (path prefixes under examples/).
    let applied_by = [
        ("spread-zones/", "examples.rs"),
        ("provider/", "examples.rs"),
        ("web-tier/", "examples.rs"),
        ("resources/hastack_lightsail_", "examples.rs"),
        ("resources/hastack_ssm_session_policy/", "examples.rs"),
        ("resources/hastack_cloudwatch_log_pipeline/", "examples.rs"),
        (
            "resources/hastack_mysql_replica_set/",
            "mysql_replica_set.rs",
        ),
        (
            "resources/hastack_redis_replica_group/",
            "redis_replica_group.rs",
        ),
        ("modules/ha-webapp/", "ha_webapp.rs"),
        ("environments/", "ha_webapp.rs"),
    ];
    let mut files = Vec::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                if !p.file_name().unwrap().to_string_lossy().starts_with('.') {
                    stack.push(p);
                }
            } else if p.extension().is_some_and(|x| x == "tf") {
                files.push(p.strip_prefix(&dir).unwrap().to_string_lossy().to_string());
            }
        }
    }
    assert!(
        files.len() >= 20,
        "only {} example files found",
        files.len()
    );
    let orphans: Vec<&String> = files
        .iter()
        .filter(|f| !applied_by.iter().any(|(prefix, _)| f.starts_with(prefix)))
        .collect();
    assert!(
        orphans.is_empty(),
        "examples no test applies (add them to a test and to this list): {orphans:?}"
    );
}
