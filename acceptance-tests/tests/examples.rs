//! Every example under examples/ applies (and destroys) cleanly against hastack-local, with an
//! empty plan afterwards: the examples in the docs are runnable, not decoration.
use acceptance_tests::emulator::Emulator;
use acceptance_tests::{Step, TestCase};

const REQUIRED_PROVIDERS: &str =
    "terraform {\n  required_providers {\n    hastack = { source = \"hastack/hastack\" }\n  }\n}\n";

fn example(path: &str) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(path);
    let text = std::fs::read_to_string(&root).unwrap_or_else(|e| panic!("{}: {e}", root.display()));
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
    let e = Emulator::start();
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
    ] {
        if name == "lightsail_lb_attachment" {
            instances(&e, &["web-1", "web-2"]);
        }
        e.env()
            .iter()
            .fold(TestCase::new(&format!("example_{name}")), |tc, (k, v)| {
                tc.env(k, v)
            })
            .step(Step::new(example(path)))
            .run();
    }
}

/// The instances the attachment example names, made through the API.
fn instances(e: &Emulator, names: &[&str]) {
    let conf = aws_sdk_lightsail::Config::builder()
        .behavior_version_latest()
        .region(aws_sdk_lightsail::config::Region::new("us-east-1"))
        .endpoint_url(format!("http://127.0.0.1:{}", e.port))
        .credentials_provider(aws_credential_types::Credentials::new(
            "AKIAHASTACKLOCAL0001",
            "hastack-local-secret",
            None,
            None,
            "test",
        ))
        .build();
    let c = aws_sdk_lightsail::Client::from_conf(conf);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(
        c.create_instances()
            .set_instance_names(Some(names.iter().map(|s| s.to_string()).collect()))
            .availability_zone("us-east-1a")
            .blueprint_id("debian_12")
            .bundle_id("nano_3_0")
            .send(),
    )
    .unwrap();
}
