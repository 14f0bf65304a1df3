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
    ] {
        e.env()
            .iter()
            .fold(TestCase::new(&format!("example_{name}")), |tc, (k, v)| {
                tc.env(k, v)
            })
            .step(Step::new(example(path)))
            .run();
    }
}
