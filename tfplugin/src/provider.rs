//! The provider contract: its own schema and configuration, plus the types it serves.
use std::sync::Arc;

use async_trait::async_trait;

use crate::diag::Diagnostics;
use crate::function::Function;
use crate::resource::{Context, DataSource, Resource};
use crate::schema::Schema;
use crate::value::Value;

pub struct ConfigureRequest {
    pub ctx: Context,
    pub terraform_version: String,
    /// May contain unknown values when the configuration depends on other resources.
    pub config: Value,
}

#[async_trait]
pub trait Provider: Send + Sync + 'static {
    fn schema(&self) -> Schema;
    fn resources(&self) -> Vec<Arc<dyn Resource>>;
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        Vec::new()
    }
    fn functions(&self) -> Vec<Arc<dyn Function>> {
        Vec::new()
    }
    /// Plan-time checks of the `provider` block; values may be unknown.
    async fn validate_config(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }
    async fn configure(&self, req: ConfigureRequest) -> Diagnostics;
}
