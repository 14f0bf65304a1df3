//! The conformance tests' plugin under test.
pub use tfplugin::client::*;

pub const BIN: &str = env!("CARGO_BIN_EXE_tfplugin-conformance-provider");

pub fn launch(extra_env: &[(&str, &str)]) -> Plugin {
    tfplugin::client::launch(BIN, extra_env)
}
