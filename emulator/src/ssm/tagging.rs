//! Tags of SSM resources after creation (AddTagsToResource, RemoveTagsFromResource,
//! ListTagsForResource). hastack-local tags documents; other resource types answer
//! InvalidResourceType, as SSM does for types it cannot tag.
use std::collections::BTreeMap;

use super::error::{fail, required, Result, SsmCode};
use super::Backend;

/// SSM's limit on tags per resource.
const MAX_TAGS: usize = 1000;

impl Backend {
    fn tags_of(&mut self, resource_type: &str, id: &str) -> Result<&mut BTreeMap<String, String>> {
        let id = required(id, "ResourceId")?;
        match required(resource_type, "ResourceType")? {
            "Document" => self
                .documents
                .get_mut(id)
                .map(|d| &mut d.tags)
                .ok_or_else(|| fail(SsmCode::InvalidResourceId, "The resource ID is not valid. Verify that you entered the correct ID and try again.")),
            other => Err(fail(
                SsmCode::InvalidResourceType,
                format!("The resource type {other} is not valid or not supported by hastack-local (it tags documents)."),
            )),
        }
    }

    pub fn add_tags(
        &mut self,
        resource_type: &str,
        id: &str,
        tags: BTreeMap<String, String>,
    ) -> Result<()> {
        if tags.is_empty() {
            return Err(super::error::missing("Tags"));
        }
        if let Some(k) = tags
            .keys()
            .find(|k| k.is_empty() || k.len() > 128 || k.to_ascii_lowercase().starts_with("aws:"))
        {
            return Err(fail(
                SsmCode::Validation,
                format!("Tag key {k:?} is not valid."),
            ));
        }
        let have = self.tags_of(resource_type, id)?;
        let mut all = have.clone();
        all.extend(tags);
        if all.len() > MAX_TAGS {
            return Err(fail(
                SsmCode::TooManyTagsError,
                format!("The resource would have more than {MAX_TAGS} tags."),
            ));
        }
        *have = all;
        Ok(())
    }

    pub fn remove_tags(&mut self, resource_type: &str, id: &str, keys: &[String]) -> Result<()> {
        let have = self.tags_of(resource_type, id)?;
        for k in keys {
            have.remove(k);
        }
        Ok(())
    }

    pub fn list_tags(&mut self, resource_type: &str, id: &str) -> Result<BTreeMap<String, String>> {
        self.tags_of(resource_type, id).map(|t| t.clone())
    }
}
