//! `tfplugin`: a Terraform plugin protocol 6 server.
//!
//! Layers: [`plugin`] (go-plugin handshake, AutoMTLS, transport) → `server::grpc` (tonic
//! handlers) → `server::convert` (protobuf ↔ native) → `server::core` (what each call means)
//! → the [`Provider`], [`Resource`] and [`Function`] traits a provider implements.
#![forbid(unsafe_code)]

#[cfg(feature = "testing")]
pub mod client;
pub mod diag;
pub mod function;
pub mod plugin;
pub mod proto;
pub mod provider;
pub mod resource;
pub mod schema;
pub mod server;
pub mod timeouts;
pub mod typed;
pub mod value;

pub use diag::{AttributePath, Diagnostic, Diagnostics, PathStep, Severity};
pub use function::{Function, FunctionError, Parameter, Signature};
pub use provider::{ConfigureRequest, Provider};
pub use resource::{Context, ReadResult, Resource};
pub use schema::{
    Attribute, Block, IdentityAttribute, IdentitySchema, NestedBlock, Nesting, Schema,
};
pub use value::{Attr, Known, Type, Value, ValueError};
