//! Environment access through a trait so tests inject a map (never `set_var`).
pub use tfplugin::plugin::env::{Env, MapEnv, OsEnv};
