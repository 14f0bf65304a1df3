//! Data sources, one file each.
mod provider_info;

pub use provider_info::ProviderInfo;
