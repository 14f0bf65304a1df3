//! The managed-resource contract: a small trait plus optional extension traits,
//! one request and one response struct per call.
use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::diag::{AttributePath, Diagnostics};
use crate::schema::{IdentitySchema, Schema};
use crate::value::Value;

/// What every call gets besides its own data.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// Cancelled when Terraform calls StopProvider (e.g. on Ctrl-C). Long waits must watch it.
    pub cancel: CancellationToken,
}

pub struct ValidateRequest {
    pub ctx: Context,
    /// May contain unknown values.
    pub config: Value,
}

pub struct PlanRequest {
    pub ctx: Context,
    pub config: Value,
    /// Null when the resource is being created.
    pub prior_state: Value,
    /// Null when the resource is being destroyed.
    pub planned_state: Value,
    pub prior_private: Vec<u8>,
}

#[derive(Default)]
pub struct PlanResponse {
    pub planned_state: Value,
    pub requires_replace: Vec<AttributePath>,
    pub planned_private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

pub struct CreateRequest {
    pub ctx: Context,
    pub config: Value,
    pub planned_state: Value,
    pub planned_private: Vec<u8>,
}

pub struct UpdateRequest {
    pub ctx: Context,
    pub config: Value,
    pub prior_state: Value,
    pub planned_state: Value,
    pub planned_private: Vec<u8>,
}

/// The outcome of create and update.
#[derive(Default)]
pub struct ApplyResponse {
    /// The new state; when there are errors, whatever was created so far (or Null).
    pub state: Value,
    pub private: Vec<u8>,
    pub identity: Option<Value>,
    pub diagnostics: Diagnostics,
}

pub struct DeleteRequest {
    pub ctx: Context,
    pub prior_state: Value,
    pub prior_private: Vec<u8>,
}

#[derive(Default)]
pub struct DeleteResponse {
    pub diagnostics: Diagnostics,
}

pub struct ReadRequest {
    pub ctx: Context,
    pub state: Value,
    pub private: Vec<u8>,
    pub identity: Option<Value>,
}

/// Whether the remote object still exists.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadResult {
    Found(Value),
    Gone,
}

pub struct ReadResponse {
    pub result: ReadResult,
    pub private: Vec<u8>,
    pub identity: Option<Value>,
    pub diagnostics: Diagnostics,
}

impl ReadResponse {
    pub fn found(state: Value, private: Vec<u8>) -> Self {
        ReadResponse {
            result: ReadResult::Found(state),
            private,
            identity: None,
            diagnostics: Diagnostics::new(),
        }
    }
    pub fn gone() -> Self {
        ReadResponse {
            result: ReadResult::Gone,
            private: Vec::new(),
            identity: None,
            diagnostics: Diagnostics::new(),
        }
    }
}

/// A managed resource type.
#[async_trait]
pub trait Resource: Send + Sync {
    /// The full type name, e.g. `hastack_lightsail_load_balancer`.
    fn type_name(&self) -> &str;
    fn schema(&self) -> Schema;

    /// Plan-time validation beyond what the schema expresses. Values may be unknown.
    async fn validate(&self, _req: ValidateRequest) -> Diagnostics {
        Diagnostics::new()
    }
    async fn create(&self, req: CreateRequest) -> ApplyResponse;
    async fn read(&self, req: ReadRequest) -> ReadResponse;
    async fn update(&self, req: UpdateRequest) -> ApplyResponse;
    async fn delete(&self, req: DeleteRequest) -> DeleteResponse;

    fn identity_schema(&self) -> Option<IdentitySchema> {
        None
    }
    fn as_import(&self) -> Option<&dyn ImportState> {
        None
    }
    fn as_upgrade(&self) -> Option<&dyn UpgradeState> {
        None
    }
    fn as_modify_plan(&self) -> Option<&dyn ModifyPlan> {
        None
    }
}

pub struct ImportRequest {
    pub ctx: Context,
    /// The `id` of an import block or `terraform import`; empty when importing by identity.
    pub id: String,
    pub identity: Option<Value>,
}

#[derive(Default)]
pub struct ImportResponse {
    /// A partial state that Read completes. Null with no errors means "not found".
    pub state: Value,
    pub private: Vec<u8>,
    pub identity: Option<Value>,
    pub diagnostics: Diagnostics,
}

/// Resources that can be imported.
#[async_trait]
pub trait ImportState: Send + Sync {
    async fn import(&self, req: ImportRequest) -> ImportResponse;
}

pub struct UpgradeRequest {
    /// The schema version the state was written with.
    pub version: i64,
    /// The stored state as JSON, in that version's shape.
    pub raw_state: serde_json::Value,
}

#[derive(Default)]
pub struct UpgradeResponse {
    /// The state in the current schema's shape (JSON, decoded against the current schema).
    pub state: serde_json::Value,
    pub diagnostics: Diagnostics,
}

/// Resources whose schema version went up: move old state to the current shape.
pub trait UpgradeState: Send + Sync {
    fn upgrade(&self, req: UpgradeRequest) -> UpgradeResponse;
}

/// Resources that adjust the plan beyond the schema's own rules.
#[async_trait]
pub trait ModifyPlan: Send + Sync {
    async fn modify_plan(&self, req: PlanRequest) -> PlanResponse;
}

/// A data source.
#[async_trait]
pub trait DataSource: Send + Sync {
    fn type_name(&self) -> &str;
    fn schema(&self) -> Schema;
    async fn validate(&self, _req: ValidateRequest) -> Diagnostics {
        Diagnostics::new()
    }
    async fn read(&self, req: DataSourceReadRequest) -> DataSourceReadResponse;
}

pub struct DataSourceReadRequest {
    pub ctx: Context,
    pub config: Value,
}

#[derive(Default)]
pub struct DataSourceReadResponse {
    pub state: Value,
    pub diagnostics: Diagnostics,
}
