//! The plan-time validation sweep shared by `web_tier_validation`, `ops_tier_validation` and
//! `data_tier_validation`: one configuration per block type with one block
//! per bad input, one `terraform validate -json`, and for every case an error diagnostic
//! inside that block whose source line names the attribute. Nothing is created.
#![allow(dead_code)]
use acceptance_tests::Workdir;
use serde_json::Value;

/// (block label, the lines that make it bad, what its error must name, words of the summary).
pub type Case = (&'static str, String, &'static str, &'static str);

/// A case whose lines are a literal.
pub fn case(label: &'static str, lines: &str, attr: &'static str, summary: &'static str) -> Case {
    (label, lines.to_string(), attr, summary)
}

/// `base` without the lines whose attribute `lines` sets (Terraform refuses an attribute set
/// twice), then `lines`.
fn body(base: &str, lines: &str) -> String {
    let key = |l: &str| l.split('=').next().unwrap_or("").trim().to_string();
    let keys: Vec<String> = lines.lines().map(key).collect();
    let kept: Vec<&str> = base.lines().filter(|l| !keys.contains(&key(l))).collect();
    format!("{}\n{lines}", kept.join("\n"))
}

const HEADER: &str =
    "terraform {\n  required_providers {\n    hastack = { source = \"hastack/hastack\" }\n  }\n}\n\n";

/// Validate `kind`'s cases, each its own `resource` block; returns how many.
pub fn sweep(kind: &str, base: &str, cases: &[Case]) -> usize {
    let blocks = cases
        .iter()
        .map(|(label, lines, ..)| {
            (
                format!("resource \"{kind}\" \"{label}\" {{"),
                body(base, lines),
            )
        })
        .collect();
    check(&format!("validation-{kind}"), blocks, "", cases)
}

/// Validate the provider block's cases, each an aliased `provider "hastack"` block with a
/// resource that uses it (Terraform validates only the provider configurations resources
/// use); returns how many.
pub fn sweep_provider(base: &str, cases: &[Case]) -> usize {
    let blocks = cases
        .iter()
        .map(|(label, lines, ..)| {
            (
                "provider \"hastack\" {".to_string(),
                body(base, &format!("  alias = \"{label}\"\n{lines}")),
            )
        })
        .collect();
    let users: String = cases
        .iter()
        .map(|(label, ..)| format!("resource \"hastack_lightsail_load_balancer\" \"{label}\" {{\n  provider      = hastack.{label}\n  name          = \"front\"\n  instance_port = 80\n}}\n\n"))
        .collect();
    check("validation-provider", blocks, &users, cases)
}

/// Write the blocks (header line, body), then `rest`, and run `terraform validate -json`:
/// every case's block has its error, on a line naming the attribute (or, for an attribute
/// left out, naming it in the detail), and no error is outside the blocks.
fn check(name: &str, blocks: Vec<(String, String)>, rest: &str, cases: &[Case]) -> usize {
    let mut hcl = String::from(HEADER);
    // Each block's first and last line (1-based), to place diagnostics.
    let mut spans = Vec::new();
    for (head, body) in &blocks {
        let start = hcl.lines().count() + 1;
        hcl.push_str(&format!("{head}\n{body}\n}}\n\n"));
        spans.push((start, hcl.lines().count() - 1));
    }
    hcl.push_str(rest);
    let mut w = Workdir::new(name, Vec::new()).expect("workdir");
    w.write("main.tf", &hcl);
    let (code, stdout, stderr) = w.terraform_output(&["validate", "-json", "-no-color"]);
    assert_eq!(code, Some(1), "validate must fail: {stdout}{stderr}");
    let out: Value = serde_json::from_str(&stdout).expect("validate -json");
    let diags = out["diagnostics"].as_array().expect("diagnostics");
    let line = |d: &Value| d["range"]["start"]["line"].as_u64().unwrap_or(0) as usize;
    let within = |d: &Value, (a, b): (usize, usize)| (a..=b).contains(&line(d));
    let mut missing = Vec::new();
    for ((label, _, attr, summary), span) in cases.iter().zip(&spans) {
        let found = diags.iter().any(|d| {
            d["severity"] == "error"
                && within(d, *span)
                && (d["snippet"]["code"]
                    .as_str()
                    .is_some_and(|c| c.contains(attr))
                    || d["detail"].as_str().is_some_and(|c| c.contains(attr)))
                && d["summary"].as_str().is_some_and(|s| s.contains(summary))
        });
        if !found {
            let got: Vec<&Value> = diags.iter().filter(|d| within(d, *span)).collect();
            missing.push(format!(
                "{label}: no error on a line naming {attr:?} with summary {summary:?}; diagnostics in its block: {}",
                serde_json::to_string_pretty(&got).unwrap_or_default()
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "{name}: {} of {} cases not refused as they should be:\n{}",
        missing.len(),
        cases.len(),
        missing.join("\n")
    );
    // Nothing else is wrong: no error outside the cases' blocks.
    for d in diags.iter().filter(|d| d["severity"] == "error") {
        assert!(
            spans.iter().any(|s| within(d, *s)),
            "{name}: an error outside the cases: {d}"
        );
    }
    cases.len()
}
