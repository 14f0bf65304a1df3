//! The protocol layers: `grpc` (tonic handlers) → `convert` (protobuf ↔ native) → `core`.
pub mod convert;
pub mod core;
pub mod grpc;
