//! `ssm_document_params`: SSM document content and Run Command / Session parameters, through
//! hastack-local's checks and templating: `parse_content` (as CreateDocument and SendCommand
//! do), `check_parameters` (allowedValues, allowedPattern, required), `render_script` (the
//! `aws:runShellScript` steps with `{{ name }}` filled) and, for Session documents, the
//! preferences and `fill_parameters` of a command session.
//!
//! Input: the first line is the parameters as JSON (`{"name": ["value", …]}`; a string is one
//! value); the rest is the document's content.
use std::collections::BTreeMap;

use hastack_local::ssm::commands::{check_parameters, render_script};
use hastack_local::ssm::documents::parse_content;
use hastack_local::ssm::sessions::Preferences;
use serde_json::Value as Json;

fn parameters(line: &[u8]) -> BTreeMap<String, Vec<String>> {
    let Ok(Json::Object(m)) = serde_json::from_slice::<Json>(line) else {
        return BTreeMap::new();
    };
    m.into_iter()
        .map(|(k, v)| {
            let values = match v {
                Json::Array(a) => a
                    .into_iter()
                    .map(|x| {
                        x.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| x.to_string())
                    })
                    .collect(),
                Json::String(s) => vec![s],
                other => vec![other.to_string()],
            };
            (k, values)
        })
        .collect()
}

pub fn run(data: &[u8]) {
    let (first, content) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b""[..], data),
    };
    let params = parameters(first);
    let Ok(content) = std::str::from_utf8(content) else {
        return;
    };
    match parse_content(content, "JSON", "Command") {
        Ok(doc) => {
            let checked = check_parameters(&doc, &params);
            let (script, workdir, timeout) = render_script(&doc, &params);
            crate::note(|| {
                format!("command: {checked:?}\n  script: {script:?}\n  workdir: {workdir:?} timeout: {timeout}")
            });
            assert!((1..=172_800).contains(&timeout), "timeout {timeout}");
        }
        Err(e) => crate::note(|| format!("not a Command document: {e:?}")),
    }
    match parse_content(content, "JSON", "Session") {
        Ok(doc) => {
            let prefs = Preferences::from_content(&doc);
            let session = Preferences::for_commands(prefs, &doc, &params);
            crate::note(|| format!("session: {session:?} as {}", session.run_as_user()));
        }
        Err(e) => crate::note(|| format!("not a Session document: {e:?}")),
    }
}
