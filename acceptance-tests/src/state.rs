//! Reading `terraform show -json`.
use serde_json::Value as Json;

pub struct State {
    json: Json,
}

impl State {
    pub(crate) fn new(json: Json) -> Self {
        State { json }
    }

    /// The whole of `terraform show -json`, as text (to search for what must not be there).
    pub fn raw(&self) -> String {
        self.json.to_string()
    }

    /// The value of output `name`.
    pub fn output(&self, name: &str) -> Option<&Json> {
        self.json.pointer(&format!("/values/outputs/{name}/value"))
    }

    /// Every resource and data source in the root module, as (address, values).
    pub fn resources(&self) -> Vec<(&str, &Json)> {
        self.json
            .pointer("/values/root_module/resources")
            .and_then(Json::as_array)
            .map(|rs| {
                rs.iter()
                    .filter_map(|r| Some((r.get("address")?.as_str()?, r.get("values")?)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The attribute values of one resource.
    pub fn resource(&self, address: &str) -> Option<&Json> {
        self.resources()
            .into_iter()
            .find(|(a, _)| *a == address)
            .map(|(_, v)| v)
    }

    /// Assert an output equals `want`.
    pub fn expect_output(&self, name: &str, want: Json) -> Result<(), String> {
        match self.output(name) {
            Some(v) if *v == want => Ok(()),
            other => Err(format!("output {name}: want {want}, got {other:?}")),
        }
    }
}

/// Attribute-by-attribute comparison, skipping `ignore`.
pub(crate) fn compare(want: &Json, got: &Json, ignore: &[String]) -> Result<(), String> {
    let (Some(w), Some(g)) = (want.as_object(), got.as_object()) else {
        return Err("resource values are not objects".into());
    };
    let mut diffs = Vec::new();
    for (k, wv) in w {
        if ignore.contains(k) {
            continue;
        }
        let gv = g.get(k).unwrap_or(&Json::Null);
        if gv != wv {
            diffs.push(format!("{k}: applied {wv}, imported {gv}"));
        }
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "import verify found differences:\n{}",
            diffs.join("\n")
        ))
    }
}
