//! The protocol-independent server: what each RPC means, on native types.
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

use crate::diag::{AttributePath, Diagnostics};
use crate::function::{Function, FunctionError};
use crate::provider::{ConfigureRequest, Provider};
use crate::resource::{
    ApplyResponse, Context, CreateRequest, DataSource, DataSourceReadRequest,
    DataSourceReadResponse, DeleteRequest, ImportRequest, PlanRequest, PlanResponse, ReadRequest,
    ReadResult, Resource, UpdateRequest, UpgradeRequest, ValidateRequest,
};
use crate::schema::{Attribute, AttributeType, Schema};
use crate::value::{Type, Value};

pub(crate) struct ResourceEntry {
    pub resource: Arc<dyn Resource>,
    pub schema: Schema,
    pub ty: Type,
    pub identity_ty: Option<Type>,
}

pub(crate) struct DataSourceEntry {
    pub data_source: Arc<dyn DataSource>,
    pub schema: Schema,
    pub ty: Type,
}

/// Holds the provider and everything derived from its schemas once, at start.
pub struct Core {
    pub(crate) provider: Arc<dyn Provider>,
    pub(crate) provider_schema: Schema,
    pub(crate) provider_ty: Type,
    pub(crate) resources: BTreeMap<String, ResourceEntry>,
    pub(crate) data_sources: BTreeMap<String, DataSourceEntry>,
    pub(crate) functions: BTreeMap<String, Arc<dyn Function>>,
    /// The plugin's name as users know it (`terraform-provider-<type>`), for messages.
    pub(crate) name: String,
    stop: Mutex<CancellationToken>,
}

pub(crate) fn unsupported_type(kind: &str, name: &str) -> Diagnostics {
    let mut d = Diagnostics::new();
    d.error(
        format!("Unsupported {kind} type"),
        format!("This provider has no {kind} type {name:?}."),
    );
    d
}

/// The outcome of PlanResourceChange.
pub(crate) struct Planned {
    pub state: Value,
    pub requires_replace: Vec<AttributePath>,
    pub private: Vec<u8>,
    pub identity: Option<Value>,
    pub diagnostics: Diagnostics,
}

/// ReadResource, as the server hands it over.
pub(crate) struct ReadCall {
    pub state: Value,
    pub private: Vec<u8>,
    pub identity: Option<Value>,
}

/// What ReadResource answers: the new state (the prior one, kept, when reading failed).
pub(crate) struct ReadOutcome {
    pub state: Value,
    pub private: Vec<u8>,
    pub identity: Option<Value>,
    pub diagnostics: Diagnostics,
}

/// ApplyResourceChange, as the server hands it over.
pub(crate) struct ApplyCall {
    pub prior: Value,
    pub planned: Value,
    pub config: Value,
    pub private: Vec<u8>,
    pub planned_identity: Option<Value>,
}

/// ImportResourceState, as the server hands it over.
pub(crate) struct ImportCall {
    pub id: String,
    pub identity: Option<Value>,
}

pub(crate) struct Imported {
    pub state: Value,
    pub private: Vec<u8>,
    pub identity: Option<Value>,
    pub diagnostics: Diagnostics,
}

/// A value as Terraform encoded it, before its type is known (function arguments).
pub(crate) struct Encoded {
    pub msgpack: Vec<u8>,
    pub json: Vec<u8>,
}

impl Encoded {
    pub fn decode(&self, ty: &Type) -> Result<Value, crate::ValueError> {
        if !self.msgpack.is_empty() {
            Value::from_msgpack(&self.msgpack, ty)
        } else if !self.json.is_empty() {
            Value::from_json_bytes(&self.json, ty)
        } else {
            Ok(Value::Null)
        }
    }
}

/// The plugin name for an address such as `registry.terraform.io/hastack/hastack`.
pub fn plugin_name(address: &str) -> String {
    format!(
        "terraform-provider-{}",
        address.rsplit('/').next().unwrap_or(address)
    )
}

impl Core {
    pub fn new<P: Provider>(provider: P, name: String) -> Core {
        let provider: Arc<dyn Provider> = Arc::new(provider);
        let provider_schema = provider.schema();
        let resources = provider
            .resources()
            .into_iter()
            .map(|r| {
                let schema = r.schema();
                let entry = ResourceEntry {
                    ty: schema.value_type(),
                    identity_ty: r.identity_schema().map(|s| s.value_type()),
                    schema,
                    resource: r.clone(),
                };
                (r.type_name().to_string(), entry)
            })
            .collect();
        let data_sources = provider
            .data_sources()
            .into_iter()
            .map(|d| {
                let schema = d.schema();
                (
                    d.type_name().to_string(),
                    DataSourceEntry {
                        ty: schema.value_type(),
                        schema,
                        data_source: d.clone(),
                    },
                )
            })
            .collect();
        let functions = provider
            .functions()
            .into_iter()
            .map(|f| (f.name().to_string(), f))
            .collect();
        Core {
            provider_ty: provider_schema.value_type(),
            provider_schema,
            provider,
            resources,
            data_sources,
            functions,
            name,
            stop: Mutex::new(CancellationToken::new()),
        }
    }

    /// The context for a new call: carries the current stop token.
    pub fn ctx(&self) -> Context {
        Context {
            cancel: self.stop.lock().expect("stop lock").clone(),
        }
    }

    /// StopProvider: cancel everything in flight, keep serving new calls.
    pub fn stop(&self) {
        let mut guard = self.stop.lock().expect("stop lock");
        guard.cancel();
        *guard = CancellationToken::new();
    }

    pub(crate) fn resource(&self, type_name: &str) -> Result<&ResourceEntry, Diagnostics> {
        self.resources
            .get(type_name)
            .ok_or_else(|| unsupported_type("resource", type_name))
    }

    pub(crate) fn data_source(&self, type_name: &str) -> Result<&DataSourceEntry, Diagnostics> {
        self.data_sources
            .get(type_name)
            .ok_or_else(|| unsupported_type("data source", type_name))
    }

    pub(crate) async fn validate_data_source(
        &self,
        e: &DataSourceEntry,
        config: Value,
    ) -> Diagnostics {
        e.data_source
            .validate(ValidateRequest {
                ctx: self.ctx(),
                config,
            })
            .await
    }

    pub(crate) async fn read_data_source(
        &self,
        e: &DataSourceEntry,
        config: Value,
    ) -> DataSourceReadResponse {
        e.data_source
            .read(DataSourceReadRequest {
                ctx: self.ctx(),
                config,
            })
            .await
    }

    pub(crate) async fn validate_provider_config(&self, config: Value) -> Diagnostics {
        self.provider.validate_config(&config).await
    }

    pub(crate) async fn configure(&self, terraform_version: String, config: Value) -> Diagnostics {
        self.provider
            .configure(ConfigureRequest {
                ctx: self.ctx(),
                terraform_version,
                config,
            })
            .await
    }

    pub(crate) async fn validate_resource(
        &self,
        e: &ResourceEntry,
        config: Value,
        write_only_allowed: bool,
    ) -> Diagnostics {
        let mut d = Diagnostics::new();
        if !write_only_allowed {
            let mut set = Vec::new();
            write_only_set(
                &config,
                &e.schema.block.attributes,
                &AttributePath::default(),
                &mut set,
            );
            for path in set {
                let name = path.to_string();
                d.attribute_error(
                    path,
                    "Write-only attribute not supported",
                    format!("{name:?} is write-only and needs Terraform 1.11 or later."),
                );
            }
        }
        if e.schema
            .block
            .blocks
            .iter()
            .any(|b| b.type_name == "timeouts")
        {
            crate::timeouts::validate(&config, &mut d);
        }
        d.extend(
            e.resource
                .validate(ValidateRequest {
                    ctx: self.ctx(),
                    config,
                })
                .await,
        );
        d
    }

    pub(crate) fn upgrade_state(
        &self,
        e: &ResourceEntry,
        version: i64,
        raw: serde_json::Value,
    ) -> Result<Value, Diagnostics> {
        let current = e.schema.version;
        let json = if version == current || raw.is_null() {
            raw
        } else if version > current {
            let mut d = Diagnostics::new();
            d.error(
                "State written by a newer provider",
                format!("The stored state has schema version {version}, this provider knows up to {current}. Upgrade the provider."),
            );
            return Err(d);
        } else if let Some(up) = e.resource.as_upgrade() {
            let resp = up.upgrade(UpgradeRequest {
                version,
                raw_state: raw,
            });
            if resp.diagnostics.has_errors() {
                return Err(resp.diagnostics);
            }
            resp.state
        } else {
            let mut d = Diagnostics::new();
            d.error(
                "Unable to upgrade state",
                format!("No upgrader from schema version {version} to {current}."),
            );
            return Err(d);
        };
        Value::from_state_json(&json, &e.ty).map_err(Diagnostics::from)
    }

    /// Read the remote object. Gone: null state. A failed read keeps the prior state.
    pub(crate) async fn read(&self, e: &ResourceEntry, call: ReadCall) -> ReadOutcome {
        if call.state.is_null() {
            return ReadOutcome {
                state: Value::Null,
                private: call.private,
                identity: call.identity,
                diagnostics: Diagnostics::new(),
            };
        }
        let prior = call.state.clone();
        let resp = e
            .resource
            .read(ReadRequest {
                ctx: self.ctx(),
                state: call.state,
                private: call.private,
                identity: call.identity.clone(),
            })
            .await;
        let identity = resp.identity.or(call.identity);
        match resp.result {
            ReadResult::Found(v) => ReadOutcome {
                state: v,
                private: resp.private,
                identity,
                diagnostics: resp.diagnostics,
            },
            ReadResult::Gone if resp.diagnostics.has_errors() => ReadOutcome {
                state: prior,
                private: resp.private,
                identity,
                diagnostics: resp.diagnostics,
            },
            ReadResult::Gone => ReadOutcome {
                state: Value::Null,
                private: Vec::new(),
                identity: None,
                diagnostics: resp.diagnostics,
            },
        }
    }

    pub(crate) async fn plan(
        &self,
        e: &ResourceEntry,
        req: PlanRequest,
        prior_identity: Option<Value>,
    ) -> Planned {
        let mut d = Diagnostics::new();
        if req.planned_state.is_null() {
            // Destroy: nothing to plan beyond the deletion itself.
            return Planned {
                state: Value::Null,
                requires_replace: vec![],
                private: req.prior_private,
                identity: prior_identity,
                diagnostics: d,
            };
        }
        let creating = req.prior_state.is_null();
        let mut planned = req.planned_state.clone();
        let attrs = &e.schema.block.attributes;
        null_write_only(&mut planned, attrs);
        let changed = !creating && planned != req.prior_state;
        for a in attrs.iter().filter(|a| a.computed) {
            if !req.config.get(&a.name).is_null() {
                continue;
            }
            let keep = !creating && (a.use_state_for_unknown || !changed);
            if !keep {
                if let Some(slot) = planned.get_mut(&a.name) {
                    *slot = Value::unknown();
                }
            }
        }
        let mut requires_replace = Vec::new();
        if !creating {
            for a in attrs.iter().filter(|a| a.requires_replace) {
                if planned.get(&a.name) != req.prior_state.get(&a.name) {
                    requires_replace.push(AttributePath::root(&a.name));
                }
            }
        }
        let mut private = req.prior_private.clone();
        if let Some(m) = e.resource.as_modify_plan() {
            let resp: PlanResponse = m
                .modify_plan(PlanRequest {
                    planned_state: planned,
                    prior_private: private,
                    ..req
                })
                .await;
            planned = resp.planned_state;
            private = resp.planned_private;
            requires_replace.extend(resp.requires_replace);
            d.extend(resp.diagnostics);
        }
        requires_replace.sort();
        requires_replace.dedup();
        let identity = if creating { None } else { prior_identity };
        Planned {
            state: planned,
            requires_replace,
            private,
            identity,
            diagnostics: d,
        }
    }

    /// Create, update or delete. The identity is the one the resource reported, else the
    /// planned one; none once the object is gone.
    pub(crate) async fn apply(&self, e: &ResourceEntry, call: ApplyCall) -> ApplyResponse {
        let planned_identity = call.planned_identity.clone();
        let mut resp = self.apply_change(e, call).await;
        resp.identity = if resp.state.is_null() {
            None
        } else {
            resp.identity.or(planned_identity)
        };
        resp
    }

    async fn apply_change(&self, e: &ResourceEntry, call: ApplyCall) -> ApplyResponse {
        let ApplyCall {
            prior,
            planned,
            config,
            private,
            ..
        } = call;
        let ctx = self.ctx();
        if planned.is_null() {
            let resp = e
                .resource
                .delete(DeleteRequest {
                    ctx,
                    prior_state: prior.clone(),
                    prior_private: private.clone(),
                })
                .await;
            let failed = resp.diagnostics.has_errors();
            return ApplyResponse {
                state: if failed { prior } else { Value::Null },
                private: if failed { private } else { Vec::new() },
                identity: None,
                diagnostics: resp.diagnostics,
            };
        }
        let mut resp = if prior.is_null() {
            e.resource
                .create(CreateRequest {
                    ctx,
                    config,
                    planned_state: planned,
                    planned_private: private,
                })
                .await
        } else {
            let r = e
                .resource
                .update(UpdateRequest {
                    ctx,
                    config,
                    prior_state: prior.clone(),
                    planned_state: planned,
                    planned_private: private,
                })
                .await;
            if r.diagnostics.has_errors() && r.state.is_null() {
                ApplyResponse { state: prior, ..r }
            } else {
                r
            }
        };
        null_write_only(&mut resp.state, &e.schema.block.attributes);
        if !resp.diagnostics.has_errors() && !resp.state.is_wholly_known() {
            resp.diagnostics.error(
                "Provider returned unknown values after apply",
                format!(
                    "{} left values unknown in its new state. This is a bug in the provider.",
                    e.resource.type_name()
                ),
            );
        }
        resp
    }

    pub(crate) async fn import(&self, e: &ResourceEntry, call: ImportCall) -> Imported {
        let Some(imp) = e.resource.as_import() else {
            let mut d = Diagnostics::new();
            d.error(
                "Resource import not supported",
                format!("{} cannot be imported.", e.resource.type_name()),
            );
            return Imported {
                state: Value::Null,
                private: vec![],
                identity: None,
                diagnostics: d,
            };
        };
        let id = call.id.clone();
        let mut resp = imp
            .import(ImportRequest {
                ctx: self.ctx(),
                id: call.id,
                identity: call.identity,
            })
            .await;
        if resp.state.is_null() && !resp.diagnostics.has_errors() {
            resp.diagnostics.error(
                "Cannot import non-existent remote object",
                format!(
                    "No {} matches the import ID {id:?}.",
                    e.resource.type_name()
                ),
            );
        }
        Imported {
            state: resp.state,
            private: resp.private,
            identity: resp.identity,
            diagnostics: resp.diagnostics,
        }
    }

    /// Identity upgrade: only the current version is known; its stored JSON is decoded.
    pub(crate) fn upgrade_identity(
        &self,
        e: &ResourceEntry,
        version: i64,
        raw: serde_json::Value,
    ) -> Result<Value, Diagnostics> {
        let (Some(schema), Some(ty)) = (e.resource.identity_schema(), e.identity_ty.as_ref())
        else {
            let mut d = Diagnostics::new();
            d.error(
                "Resource has no identity",
                format!(
                    "{} does not define a resource identity.",
                    e.resource.type_name()
                ),
            );
            return Err(d);
        };
        if version != schema.version {
            let mut d = Diagnostics::new();
            d.error(
                "Unable to upgrade identity",
                format!(
                    "No identity upgrader from version {version} to {}.",
                    schema.version
                ),
            );
            return Err(d);
        }
        Value::from_state_json(&raw, ty).map_err(Diagnostics::from)
    }

    /// A diagnostic for an optional part of the protocol this provider does not implement.
    pub(crate) fn not_supported(&self, what: &str) -> Diagnostics {
        let mut d = Diagnostics::new();
        d.error(
            format!("{what} not supported"),
            format!(
                "{} does not implement {what}. No resource, data source or configuration of this provider needs it.",
                self.name
            ),
        );
        d
    }

    /// Decode the arguments against the signature (variadic ones as a trailing list) and call.
    pub(crate) fn call_function(
        &self,
        name: &str,
        args: &[Encoded],
    ) -> Result<(Value, Type), FunctionError> {
        let f = self
            .functions
            .get(name)
            .ok_or_else(|| FunctionError::general(format!("no function named {name:?}")))?;
        let sig = f.signature();
        let mut fixed = Vec::with_capacity(args.len());
        let mut variadic = Vec::new();
        for (i, a) in args.iter().enumerate() {
            let ty = match (sig.parameters.get(i), &sig.variadic) {
                (Some(p), _) | (None, Some(p)) => &p.ty,
                (None, None) => {
                    return Err(FunctionError::general(format!(
                        "too many arguments: {}",
                        args.len()
                    )))
                }
            };
            let v = a
                .decode(ty)
                .map_err(|e| FunctionError::argument(i as i64, e.to_string()))?;
            if i < sig.parameters.len() {
                fixed.push(v);
            } else {
                variadic.push(v);
            }
        }
        if sig.variadic.is_some() {
            fixed.push(Value::List(variadic));
        }
        Ok((f.call(fixed)?, sig.returns))
    }
}

/// Null every write-only attribute of object `v`, also inside nested attributes (a write-only
/// attribute of `users[0]` is nulled in every element): Terraform keeps none in plan or state.
fn null_write_only(v: &mut Value, attrs: &[Attribute]) {
    let Value::Object(m) = v else {
        return;
    };
    for a in attrs {
        if a.write_only {
            m.insert(a.name.clone(), Value::Null);
            continue;
        }
        let (AttributeType::Nested { attributes, .. }, Some(inner)) = (&a.ty, m.get_mut(&a.name))
        else {
            continue;
        };
        match inner {
            Value::Object(_) => null_write_only(inner, attributes),
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
                for i in items {
                    null_write_only(i, attributes);
                }
            }
            Value::Map(items) => {
                for i in items.values_mut() {
                    null_write_only(i, attributes);
                }
            }
            _ => {}
        }
    }
}

/// The paths of write-only attributes `config` sets (`v`: an object of `attrs`), nested ones
/// included, for clients that cannot send them.
fn write_only_set(
    v: &Value,
    attrs: &[Attribute],
    at: &AttributePath,
    out: &mut Vec<AttributePath>,
) {
    let Value::Object(m) = v else {
        return;
    };
    for a in attrs {
        let Some(inner) = m.get(&a.name) else {
            continue;
        };
        let here = at.clone().attr(&a.name);
        if a.write_only {
            if !inner.is_null() {
                out.push(here);
            }
            continue;
        }
        let AttributeType::Nested { attributes, .. } = &a.ty else {
            continue;
        };
        match inner {
            Value::Object(_) => write_only_set(inner, attributes, &here, out),
            Value::List(items) | Value::Tuple(items) => {
                for (i, item) in items.iter().enumerate() {
                    write_only_set(item, attributes, &here.clone().index(i as i64), out);
                }
            }
            Value::Map(items) => {
                for (k, item) in items {
                    write_only_set(item, attributes, &here.clone().key(k), out);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Nesting;

    fn schema() -> Vec<Attribute> {
        vec![
            Attribute::new("name", Type::String).required(),
            Attribute::new("token_wo", Type::String)
                .optional()
                .write_only(),
            Attribute::nested(
                "users",
                Nesting::List,
                vec![
                    Attribute::new("name", Type::String).required(),
                    Attribute::new("password_wo", Type::String)
                        .optional()
                        .write_only(),
                ],
            )
            .optional(),
        ]
    }

    fn config() -> Value {
        let user = |n: &str, pw: Option<&str>| {
            Value::object([
                ("name", Value::string(n)),
                ("password_wo", pw.map(Value::string).unwrap_or(Value::Null)),
            ])
        };
        Value::object([
            ("name", Value::string("db")),
            ("token_wo", Value::string("t0ps3cret")),
            (
                "users",
                Value::List(vec![user("app", None), user("ops", Some("s3cret"))]),
            ),
        ])
    }

    #[test]
    fn write_only_nested_in_a_list_is_nulled() {
        let mut v = config();
        null_write_only(&mut v, &schema());
        assert!(v.get("token_wo").is_null());
        let users = v.get("users").elements().unwrap().to_vec();
        assert!(users.iter().all(|u| u.get("password_wo").is_null()));
        assert_eq!(users[1].get("name"), &Value::string("ops"));
        assert_eq!(v.get("name"), &Value::string("db"));
    }

    #[test]
    fn write_only_set_names_each_path_given() {
        let mut paths = Vec::new();
        write_only_set(&config(), &schema(), &AttributePath::default(), &mut paths);
        let names: Vec<String> = paths.iter().map(|p| p.to_string()).collect();
        assert_eq!(names, ["token_wo", "users[1].password_wo"]);
    }
}
