//! Generated protobuf types. Only the `server` layer touches these.
#![allow(clippy::all, missing_docs)]
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}
pub mod goplugin {
    tonic::include_proto!("plugin");
}
