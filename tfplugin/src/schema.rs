//! Schemas: what a provider, resource or data source accepts and stores.
//!
//! Descriptions are Markdown; docs are generated from them. Plan behaviour that the
//! protocol does not carry (replace on change, keep prior value for unknown) lives here
//! too, next to the attribute it concerns.
use std::collections::BTreeMap;

use crate::value::Type;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Schema {
    pub version: i64,
    pub block: Block,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Block {
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
    pub description: String,
    pub deprecated: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    Single,
    List,
    Set,
    Map,
    /// Blocks only: a single block that is never null.
    Group,
}

#[derive(Clone, Debug, PartialEq)]
pub enum AttributeType {
    Type(Type),
    Nested {
        nesting: Nesting,
        attributes: Vec<Attribute>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    pub name: String,
    pub ty: AttributeType,
    pub description: String,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    pub write_only: bool,
    /// Deprecation message; empty when not deprecated.
    pub deprecation: String,
    /// A change of this attribute replaces the resource.
    pub requires_replace: bool,
    /// When the plan would make this computed attribute unknown, keep the prior value.
    pub use_state_for_unknown: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NestedBlock {
    pub type_name: String,
    pub block: Block,
    pub nesting: Nesting,
    pub min_items: i64,
    pub max_items: i64,
}

impl Attribute {
    pub fn new(name: impl Into<String>, ty: Type) -> Self {
        Attribute {
            name: name.into(),
            ty: AttributeType::Type(ty),
            description: String::new(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            write_only: false,
            deprecation: String::new(),
            requires_replace: false,
            use_state_for_unknown: false,
        }
    }
    pub fn nested(name: impl Into<String>, nesting: Nesting, attributes: Vec<Attribute>) -> Self {
        let mut a = Attribute::new(name, Type::Dynamic);
        a.ty = AttributeType::Nested {
            nesting,
            attributes,
        };
        a
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }
    pub fn computed(mut self) -> Self {
        self.computed = true;
        self
    }
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self
    }
    pub fn deprecated(mut self, msg: impl Into<String>) -> Self {
        self.deprecation = msg.into();
        self
    }
    pub fn description(mut self, md: impl Into<String>) -> Self {
        self.description = md.into();
        self
    }
    pub fn requires_replace(mut self) -> Self {
        self.requires_replace = true;
        self
    }
    pub fn use_state_for_unknown(mut self) -> Self {
        self.use_state_for_unknown = true;
        self
    }

    /// The value type Terraform uses for this attribute.
    pub fn value_type(&self) -> Type {
        match &self.ty {
            AttributeType::Type(t) => t.clone(),
            AttributeType::Nested {
                nesting,
                attributes,
            } => {
                let obj = Type::Object {
                    attrs: attributes
                        .iter()
                        .map(|a| (a.name.clone(), a.value_type()))
                        .collect(),
                    optional: attributes
                        .iter()
                        .filter(|a| a.optional)
                        .map(|a| a.name.clone())
                        .collect(),
                };
                wrap(*nesting, obj)
            }
        }
    }
}

fn wrap(nesting: Nesting, obj: Type) -> Type {
    match nesting {
        Nesting::Single | Nesting::Group => obj,
        Nesting::List => Type::list(obj),
        Nesting::Set => Type::set(obj),
        Nesting::Map => Type::map(obj),
    }
}

impl NestedBlock {
    pub fn new(type_name: impl Into<String>, nesting: Nesting, block: Block) -> Self {
        NestedBlock {
            type_name: type_name.into(),
            block,
            nesting,
            min_items: 0,
            max_items: 0,
        }
    }
    pub fn max_items(mut self, n: i64) -> Self {
        self.max_items = n;
        self
    }
    pub fn value_type(&self) -> Type {
        wrap(self.nesting, self.block.value_type())
    }
}

impl Block {
    pub fn new(description: impl Into<String>) -> Self {
        Block {
            description: description.into(),
            ..Default::default()
        }
    }
    pub fn attribute(mut self, a: Attribute) -> Self {
        self.attributes.push(a);
        self
    }
    pub fn block(mut self, b: NestedBlock) -> Self {
        self.blocks.push(b);
        self
    }

    /// The object type of a value of this block.
    pub fn value_type(&self) -> Type {
        let mut attrs: BTreeMap<String, Type> = self
            .attributes
            .iter()
            .map(|a| (a.name.clone(), a.value_type()))
            .collect();
        for b in &self.blocks {
            attrs.insert(b.type_name.clone(), b.value_type());
        }
        Type::Object {
            attrs,
            optional: Default::default(),
        }
    }

    pub fn find_attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
}

impl Schema {
    pub fn new(version: i64, block: Block) -> Self {
        Schema { version, block }
    }
    pub fn value_type(&self) -> Type {
        self.block.value_type()
    }
}

/// What identifies one instance of a managed resource, independent of its state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IdentitySchema {
    pub version: i64,
    pub attributes: Vec<IdentityAttribute>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct IdentityAttribute {
    pub name: String,
    pub ty: Type,
    pub required_for_import: bool,
    pub optional_for_import: bool,
    pub description: String,
}

impl IdentitySchema {
    pub fn value_type(&self) -> Type {
        Type::object(
            self.attributes
                .iter()
                .map(|a| (a.name.clone(), a.ty.clone())),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_value_type_includes_nested_attributes_and_blocks() {
        let b = Block::new("")
            .attribute(Attribute::new("name", Type::String).required())
            .attribute(Attribute::nested(
                "ports",
                Nesting::List,
                vec![
                    Attribute::new("from", Type::Number).required(),
                    Attribute::new("cidrs", Type::list(Type::String)).optional(),
                ],
            ))
            .block(NestedBlock::new(
                "timeouts",
                Nesting::Single,
                Block::new("").attribute(Attribute::new("create", Type::String).optional()),
            ));
        let t = b.value_type();
        assert_eq!(
            String::from_utf8(t.to_json_bytes()).unwrap(),
            r#"["object",{"name":"string","ports":["list",["object",{"cidrs":["list","string"],"from":"number"},["cidrs"]]],"timeouts":["object",{"create":"string"}]}]"#
        );
    }
}
