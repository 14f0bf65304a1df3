//! Tagging on the wire.
use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::{parse, tag_map, tags_json, Answer, Tag};
use crate::ssm::Backend;
use crate::Ctx;

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct TagInput {
    resource_type: String,
    resource_id: String,
    tags: Vec<Tag>,
    tag_keys: Vec<String>,
}

pub fn add_tags_to_resource(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: TagInput = parse(input)?;
    b.add_tags(&i.resource_type, &i.resource_id, tag_map(i.tags))?;
    Ok(json!({}))
}

pub fn remove_tags_from_resource(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: TagInput = parse(input)?;
    b.remove_tags(&i.resource_type, &i.resource_id, &i.tag_keys)?;
    Ok(json!({}))
}

pub fn list_tags_for_resource(b: &mut Backend, _ctx: &Ctx<'_>, input: &Json) -> Answer {
    let i: TagInput = parse(input)?;
    let t = b.list_tags(&i.resource_type, &i.resource_id)?;
    Ok(json!({"TagList": tags_json(&t)}))
}
