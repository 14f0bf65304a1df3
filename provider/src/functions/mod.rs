//! Provider-defined functions.
mod spread_zones;

pub use spread_zones::SpreadZones;
