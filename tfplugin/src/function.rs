//! Provider-defined functions (`provider::NAME::fn(...)`).
use crate::value::{Type, Value};

#[derive(Clone, Debug)]
pub struct Parameter {
    pub name: String,
    pub ty: Type,
    pub description: String,
    pub allow_null: bool,
    pub allow_unknown: bool,
}

impl Parameter {
    pub fn new(name: impl Into<String>, ty: Type, description: impl Into<String>) -> Self {
        Parameter {
            name: name.into(),
            ty,
            description: description.into(),
            allow_null: false,
            allow_unknown: false,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Signature {
    pub parameters: Vec<Parameter>,
    pub variadic: Option<Parameter>,
    pub returns: Type,
    pub summary: String,
    /// Markdown.
    pub description: String,
    pub deprecation: String,
}

/// A function failed; `argument` is the index of the argument at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{text}")]
pub struct FunctionError {
    pub text: String,
    pub argument: Option<i64>,
}

impl FunctionError {
    pub fn argument(index: i64, text: impl Into<String>) -> Self {
        FunctionError {
            text: text.into(),
            argument: Some(index),
        }
    }
    pub fn general(text: impl Into<String>) -> Self {
        FunctionError {
            text: text.into(),
            argument: None,
        }
    }
}

pub trait Function: Send + Sync {
    fn name(&self) -> &str;
    fn signature(&self) -> Signature;
    /// Arguments arrive decoded against the signature's types (variadic ones as a trailing list).
    fn call(&self, args: Vec<Value>) -> Result<Value, FunctionError>;
}
