//! Typed resources and data sources: written against their own serde model and the data the
//! provider's `Configure` produced, never against attribute names.
//!
//! [`Typed`] implements [`Resource`] for every [`TypedResource`] (and [`TypedData`] does the
//! same for [`TypedDataSource`]): it answers "provider not configured" in one place, decodes
//! configuration, plan and state into the model, encodes the model back against the schema's
//! type, and keeps every attribute a plan modifier left unchanged exactly as Terraform sent
//! it (so partly unknown collections survive). After a failed apply, values still unknown in
//! the state become null, so what was created is saved.
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::diag::{AttributePath, Diagnostics};
use crate::resource::{
    self, ApplyResponse, Context, CreateRequest, DeleteRequest, DeleteResponse, ImportRequest,
    ImportResponse, ImportState, ModifyPlan, PlanRequest, PlanResponse, ReadRequest, ReadResponse,
    ReadResult, Resource, UpdateRequest, ValidateRequest,
};
use crate::schema::{IdentitySchema, Schema};
use crate::value::{Type, Value};

/// What the provider's `Configure` produced, shared with its resources; empty until then.
pub struct ProviderData<C>(Arc<RwLock<Option<Arc<C>>>>);

impl<C> Clone for ProviderData<C> {
    fn clone(&self) -> Self {
        ProviderData(self.0.clone())
    }
}

impl<C> Default for ProviderData<C> {
    fn default() -> Self {
        ProviderData(Arc::default())
    }
}

impl<C> ProviderData<C> {
    pub fn set(&self, c: C) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(c));
    }

    pub fn get(&self) -> Option<Arc<C>> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The data, or the diagnostic that the provider was not configured.
    pub fn require(&self, what: &str) -> Result<Arc<C>, Diagnostics> {
        self.get().ok_or_else(|| {
            let mut d = Diagnostics::new();
            d.error(
                "Provider not configured",
                format!("The provider was not configured before {what} was used."),
            );
            d
        })
    }
}

pub struct Validate<'a, M> {
    pub ctx: &'a Context,
    /// Values not known yet are `Known::Unknown` (or, in plain fields, left as the default).
    pub config: M,
}

pub struct Plan<'a, C, M> {
    pub ctx: &'a Context,
    /// `None` while the provider is not configured (e.g. its configuration is unknown).
    pub client: Option<&'a C>,
    pub config: M,
    /// `None` when the resource is being created.
    pub prior: Option<M>,
    pub planned: M,
    pub private: Vec<u8>,
}

pub struct Planned<M> {
    pub planned: M,
    pub requires_replace: Vec<AttributePath>,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

pub struct Create<'a, C, M> {
    pub ctx: &'a Context,
    pub client: &'a C,
    pub config: M,
    pub planned: M,
    pub private: Vec<u8>,
}

pub struct Update<'a, C, M> {
    pub ctx: &'a Context,
    pub client: &'a C,
    pub config: M,
    pub prior: M,
    pub planned: M,
    pub private: Vec<u8>,
}

/// The outcome of create and update.
pub struct Applied<M> {
    /// What exists now; with errors, whatever was made so far (`None`: nothing).
    pub state: Option<M>,
    pub private: Vec<u8>,
    pub identity: Option<Value>,
    pub diagnostics: Diagnostics,
}

impl<M> Applied<M> {
    pub fn ok(state: M) -> Self {
        Applied {
            state: Some(state),
            private: Vec::new(),
            identity: None,
            diagnostics: Diagnostics::new(),
        }
    }

    pub fn failed(state: Option<M>, diagnostics: Diagnostics) -> Self {
        Applied {
            state,
            private: Vec::new(),
            identity: None,
            diagnostics,
        }
    }
}

pub struct Read<'a, C, M> {
    pub ctx: &'a Context,
    pub client: &'a C,
    pub state: M,
    pub private: Vec<u8>,
    pub identity: Option<Value>,
}

/// What Read found: the object as it is now, or that it is gone.
pub enum Found<M> {
    Found(M),
    Gone,
}

pub struct ReadOutcome<M> {
    pub result: Found<M>,
    pub private: Vec<u8>,
    pub identity: Option<Value>,
    pub diagnostics: Diagnostics,
}

impl<M> ReadOutcome<M> {
    pub fn found(state: M, private: Vec<u8>) -> Self {
        ReadOutcome {
            result: Found::Found(state),
            private,
            identity: None,
            diagnostics: Diagnostics::new(),
        }
    }

    pub fn gone() -> Self {
        ReadOutcome {
            result: Found::Gone,
            private: Vec::new(),
            identity: None,
            diagnostics: Diagnostics::new(),
        }
    }

    /// Reading failed: keep the state as it was, with the error.
    pub fn failed(state: M, private: Vec<u8>, diagnostics: Diagnostics) -> Self {
        ReadOutcome {
            diagnostics,
            ..ReadOutcome::found(state, private)
        }
    }
}

pub struct Delete<'a, C, M> {
    pub ctx: &'a Context,
    pub client: &'a C,
    pub state: M,
    pub private: Vec<u8>,
}

pub struct Import<'a, C> {
    pub ctx: &'a Context,
    pub client: Option<&'a C>,
    /// The import ID; empty when importing by identity.
    pub id: String,
    pub identity: Option<Value>,
}

pub struct Imported<M> {
    /// A partial state that Read completes.
    pub state: Option<M>,
    pub identity: Option<Value>,
    pub diagnostics: Diagnostics,
}

/// A managed resource written against its model `Model` and the provider's data `Client`.
#[async_trait]
pub trait TypedResource: Send + Sync + 'static {
    type Model: Serialize + DeserializeOwned + Default + Send + Sync + 'static;
    type Client: Send + Sync + 'static;

    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    fn identity_schema(&self) -> Option<IdentitySchema> {
        None
    }

    /// Plan-time checks beyond the schema. Values may be unknown.
    async fn validate(&self, _req: Validate<'_, Self::Model>) -> Diagnostics {
        Diagnostics::new()
    }

    /// Adjust the plan (after the schema's own rules). Default: as proposed.
    async fn modify_plan(&self, req: Plan<'_, Self::Client, Self::Model>) -> Planned<Self::Model> {
        Planned {
            planned: req.planned,
            requires_replace: Vec::new(),
            private: req.private,
            diagnostics: Diagnostics::new(),
        }
    }

    async fn create(&self, req: Create<'_, Self::Client, Self::Model>) -> Applied<Self::Model>;
    async fn read(&self, req: Read<'_, Self::Client, Self::Model>) -> ReadOutcome<Self::Model>;
    async fn update(&self, req: Update<'_, Self::Client, Self::Model>) -> Applied<Self::Model>;
    async fn delete(&self, req: Delete<'_, Self::Client, Self::Model>) -> Diagnostics;
    async fn import(&self, req: Import<'_, Self::Client>) -> Imported<Self::Model>;
}

/// A [`TypedResource`] served as a [`Resource`].
pub struct Typed<R: TypedResource> {
    inner: R,
    data: ProviderData<R::Client>,
    ty: Type,
}

impl<R: TypedResource> Typed<R> {
    pub fn serve(inner: R, data: ProviderData<R::Client>) -> Arc<dyn Resource> {
        let ty = inner.schema().value_type();
        Arc::new(Typed { inner, data, ty })
    }

    fn decode(&self, v: &Value, what: &str) -> Result<R::Model, Diagnostics> {
        decode(v, self.inner.type_name(), what)
    }

    fn encode(&self, m: &R::Model) -> Result<Value, Diagnostics> {
        encode(m, &self.ty, self.inner.type_name())
    }

    fn client(&self) -> Result<Arc<R::Client>, Diagnostics> {
        self.data.require(self.inner.type_name())
    }

    /// The response for an apply outcome.
    fn applied(&self, a: Applied<R::Model>) -> ApplyResponse {
        let mut diagnostics = a.diagnostics;
        let state = match a.state.map(|m| self.encode(&m)) {
            None => Value::Null,
            Some(Ok(v)) if diagnostics.has_errors() => without_unknowns(&v),
            Some(Ok(v)) => v,
            Some(Err(d)) => {
                diagnostics.extend(d);
                Value::Null
            }
        };
        ApplyResponse {
            state,
            private: a.private,
            identity: a.identity,
            diagnostics,
        }
    }
}

fn decode<M: DeserializeOwned>(v: &Value, type_name: &str, what: &str) -> Result<M, Diagnostics> {
    v.to_model().map_err(|e| {
        let mut d = Diagnostics::new();
        if let crate::value::ValueError::NotWholeNumber { .. } = e {
            d.error("Not a whole number", format!("{type_name}: {e}."));
            return d;
        }
        d.error(
            format!("Unreadable {what}"),
            format!("{type_name}: the {what} does not fit the resource's model: {e}. This is a bug in the provider."),
        );
        d
    })
}

fn encode<M: Serialize>(m: &M, ty: &Type, type_name: &str) -> Result<Value, Diagnostics> {
    Value::from_model(m, ty).map_err(|e| {
        let mut d = Diagnostics::new();
        d.error(
            "Unwritable state",
            format!("{type_name}: the model does not fit the schema: {e}. This is a bug in the provider."),
        );
        d
    })
}

/// Unknown values become null: a state that can be saved after a failed apply.
pub fn without_unknowns(v: &Value) -> Value {
    match v {
        Value::Unknown(_) => Value::Null,
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), without_unknowns(v)))
                .collect(),
        ),
        Value::List(l) => Value::List(l.iter().map(without_unknowns).collect()),
        Value::Set(l) => Value::Set(l.iter().map(without_unknowns).collect()),
        Value::Map(m) => Value::Map(
            m.iter()
                .map(|(k, v)| (k.clone(), without_unknowns(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Top-level attributes the modifier did not change keep Terraform's value as it was.
fn keep_unchanged(original: &Value, before: &Value, after: Value) -> Value {
    match after {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    if before.get(&k) == &v {
                        let o = original.get(&k).clone();
                        (k, o)
                    } else {
                        (k, v)
                    }
                })
                .collect(),
        ),
        other => other,
    }
}

fn error_apply(d: Diagnostics) -> ApplyResponse {
    ApplyResponse {
        diagnostics: d,
        ..Default::default()
    }
}

#[async_trait]
impl<R: TypedResource> Resource for Typed<R> {
    fn type_name(&self) -> &str {
        self.inner.type_name()
    }

    fn schema(&self) -> Schema {
        self.inner.schema()
    }

    fn identity_schema(&self) -> Option<IdentitySchema> {
        self.inner.identity_schema()
    }

    async fn validate(&self, req: ValidateRequest) -> Diagnostics {
        match self.decode(&req.config, "configuration") {
            Ok(config) => {
                self.inner
                    .validate(Validate {
                        ctx: &req.ctx,
                        config,
                    })
                    .await
            }
            Err(d) => d,
        }
    }

    async fn create(&self, req: CreateRequest) -> ApplyResponse {
        let client = match self.client() {
            Ok(c) => c,
            Err(d) => return error_apply(d),
        };
        let (config, planned) = match (
            self.decode(&req.config, "configuration"),
            self.decode(&req.planned_state, "plan"),
        ) {
            (Ok(c), Ok(p)) => (c, p),
            (Err(d), _) | (_, Err(d)) => return error_apply(d),
        };
        let a = self
            .inner
            .create(Create {
                ctx: &req.ctx,
                client: &client,
                config,
                planned,
                private: req.planned_private,
            })
            .await;
        self.applied(a)
    }

    async fn read(&self, req: ReadRequest) -> ReadResponse {
        let keep = |d: Diagnostics, req: ReadRequest| ReadResponse {
            result: ReadResult::Found(req.state),
            private: req.private,
            identity: req.identity,
            diagnostics: d,
        };
        let client = match self.client() {
            Ok(c) => c,
            Err(d) => return keep(d, req),
        };
        let state = match self.decode(&req.state, "state") {
            Ok(s) => s,
            Err(d) => return keep(d, req),
        };
        let out = self
            .inner
            .read(Read {
                ctx: &req.ctx,
                client: &client,
                state,
                private: req.private.clone(),
                identity: req.identity.clone(),
            })
            .await;
        let result = match out.result {
            Found::Gone => ReadResult::Gone,
            Found::Found(m) => match self.encode(&m) {
                Ok(v) => ReadResult::Found(v),
                Err(d) => return keep(d, req),
            },
        };
        ReadResponse {
            result,
            private: out.private,
            identity: out.identity,
            diagnostics: out.diagnostics,
        }
    }

    async fn update(&self, req: UpdateRequest) -> ApplyResponse {
        let client = match self.client() {
            Ok(c) => c,
            Err(d) => return error_apply(d),
        };
        let decoded = (
            self.decode(&req.config, "configuration"),
            self.decode(&req.prior_state, "state"),
            self.decode(&req.planned_state, "plan"),
        );
        let (config, prior, planned) = match decoded {
            (Ok(c), Ok(s), Ok(p)) => (c, s, p),
            (Err(d), _, _) | (_, Err(d), _) | (_, _, Err(d)) => return error_apply(d),
        };
        let a = self
            .inner
            .update(Update {
                ctx: &req.ctx,
                client: &client,
                config,
                prior,
                planned,
                private: req.planned_private,
            })
            .await;
        self.applied(a)
    }

    async fn delete(&self, req: DeleteRequest) -> DeleteResponse {
        let client = match self.client() {
            Ok(c) => c,
            Err(d) => return DeleteResponse { diagnostics: d },
        };
        let state = match self.decode(&req.prior_state, "state") {
            Ok(s) => s,
            Err(d) => return DeleteResponse { diagnostics: d },
        };
        DeleteResponse {
            diagnostics: self
                .inner
                .delete(Delete {
                    ctx: &req.ctx,
                    client: &client,
                    state,
                    private: req.prior_private,
                })
                .await,
        }
    }

    fn as_import(&self) -> Option<&dyn ImportState> {
        Some(self)
    }

    fn as_modify_plan(&self) -> Option<&dyn ModifyPlan> {
        Some(self)
    }
}

#[async_trait]
impl<R: TypedResource> ImportState for Typed<R> {
    async fn import(&self, req: ImportRequest) -> ImportResponse {
        let client = self.data.get();
        let out = self
            .inner
            .import(Import {
                ctx: &req.ctx,
                client: client.as_deref(),
                id: req.id,
                identity: req.identity,
            })
            .await;
        let mut diagnostics = out.diagnostics;
        let state = match out.state.map(|m| self.encode(&m)) {
            None => Value::Null,
            Some(Ok(v)) => v,
            Some(Err(d)) => {
                diagnostics.extend(d);
                Value::Null
            }
        };
        ImportResponse {
            state,
            private: Vec::new(),
            identity: out.identity,
            diagnostics,
        }
    }
}

#[async_trait]
impl<R: TypedResource> ModifyPlan for Typed<R> {
    async fn modify_plan(&self, req: PlanRequest) -> PlanResponse {
        let unchanged = |d: Diagnostics, req: PlanRequest| PlanResponse {
            planned_state: req.planned_state,
            requires_replace: Vec::new(),
            planned_private: req.prior_private,
            diagnostics: d,
        };
        if req.planned_state.is_null() {
            return unchanged(Diagnostics::new(), req);
        }
        let prior = if req.prior_state.is_null() {
            None
        } else {
            match self.decode(&req.prior_state, "state") {
                Ok(p) => Some(p),
                Err(d) => return unchanged(d, req),
            }
        };
        let (config, planned) = match (
            self.decode(&req.config, "configuration"),
            self.decode(&req.planned_state, "plan"),
        ) {
            (Ok(c), Ok(p)) => (c, p),
            (Err(d), _) | (_, Err(d)) => return unchanged(d, req),
        };
        let before = match self.encode(&planned) {
            Ok(v) => v,
            Err(d) => return unchanged(d, req),
        };
        let client = self.data.get();
        let out = self
            .inner
            .modify_plan(Plan {
                ctx: &req.ctx,
                client: client.as_deref(),
                config,
                prior,
                planned,
                private: req.prior_private.clone(),
            })
            .await;
        let mut diagnostics = out.diagnostics;
        let after = match self.encode(&out.planned) {
            Ok(v) => v,
            Err(d) => {
                diagnostics.extend(d);
                return unchanged(diagnostics, req);
            }
        };
        PlanResponse {
            planned_state: keep_unchanged(&req.planned_state, &before, after),
            requires_replace: out.requires_replace,
            planned_private: out.private,
            diagnostics,
        }
    }
}

/// A data source written against its model and the provider's data.
#[async_trait]
pub trait TypedDataSource: Send + Sync + 'static {
    type Model: Serialize + DeserializeOwned + Default + Send + Sync + 'static;
    type Client: Send + Sync + 'static;

    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    async fn validate(&self, _req: Validate<'_, Self::Model>) -> Diagnostics {
        Diagnostics::new()
    }
    async fn read(&self, req: DataRead<'_, Self::Client, Self::Model>) -> DataOutcome<Self::Model>;
}

pub struct DataRead<'a, C, M> {
    pub ctx: &'a Context,
    pub client: &'a C,
    pub config: M,
}

/// What a data source read: its state (`None` on error) and diagnostics.
pub struct DataOutcome<M> {
    pub state: Option<M>,
    pub diagnostics: Diagnostics,
}

/// A [`TypedDataSource`] served as a [`resource::DataSource`].
pub struct TypedData<D: TypedDataSource> {
    inner: D,
    data: ProviderData<D::Client>,
    ty: Type,
}

impl<D: TypedDataSource> TypedData<D> {
    pub fn serve(inner: D, data: ProviderData<D::Client>) -> Arc<dyn resource::DataSource> {
        let ty = inner.schema().value_type();
        Arc::new(TypedData { inner, data, ty })
    }
}

#[async_trait]
impl<D: TypedDataSource> resource::DataSource for TypedData<D> {
    fn type_name(&self) -> &str {
        self.inner.type_name()
    }

    fn schema(&self) -> Schema {
        self.inner.schema()
    }

    async fn validate(&self, req: ValidateRequest) -> Diagnostics {
        match decode(&req.config, self.inner.type_name(), "configuration") {
            Ok(config) => {
                self.inner
                    .validate(Validate {
                        ctx: &req.ctx,
                        config,
                    })
                    .await
            }
            Err(d) => d,
        }
    }

    async fn read(&self, req: resource::DataSourceReadRequest) -> resource::DataSourceReadResponse {
        let failed = |diagnostics| resource::DataSourceReadResponse {
            state: Value::Null,
            diagnostics,
        };
        let client = match self.data.require(self.inner.type_name()) {
            Ok(c) => c,
            Err(d) => return failed(d),
        };
        let config = match decode(&req.config, self.inner.type_name(), "configuration") {
            Ok(c) => c,
            Err(d) => return failed(d),
        };
        let out = self
            .inner
            .read(DataRead {
                ctx: &req.ctx,
                client: &client,
                config,
            })
            .await;
        let mut diagnostics = out.diagnostics;
        let state = match out
            .state
            .map(|m| encode(&m, &self.ty, self.inner.type_name()))
        {
            None => Value::Null,
            Some(Ok(v)) => v,
            Some(Err(d)) => {
                diagnostics.extend(d);
                Value::Null
            }
        };
        resource::DataSourceReadResponse { state, diagnostics }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unchanged_attributes_keep_what_terraform_sent() {
        let original = Value::object([
            (
                "names",
                Value::List(vec![Value::string("a"), Value::unknown()]),
            ),
            ("id", Value::unknown()),
        ]);
        // The model read `names` as wholly unknown and set `id`.
        let before = Value::object([("names", Value::unknown()), ("id", Value::unknown())]);
        let after = Value::object([("names", Value::unknown()), ("id", Value::string("x"))]);
        let out = keep_unchanged(&original, &before, after);
        assert_eq!(out.get("names"), original.get("names"));
        assert_eq!(out.get("id"), &Value::string("x"));
    }

    #[test]
    fn a_failed_apply_saves_no_unknowns() {
        let v = Value::object([
            ("a", Value::unknown()),
            ("l", Value::List(vec![Value::unknown(), Value::string("x")])),
        ]);
        let out = without_unknowns(&v);
        assert!(out.is_wholly_known());
        assert!(out.get("a").is_null());
    }
}
