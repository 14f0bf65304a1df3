//! The tonic handlers: protobuf in, native call, protobuf out. Domain failures travel as
//! diagnostics inside responses; a gRPC `Status` only ever means a transport problem.
use std::pin::Pin;
use std::sync::Arc;

use futures::Stream;
use tonic::{Request, Response, Status, Streaming};

use super::convert::*;
use super::core::{ApplyCall, Core, Encoded, ImportCall, ReadCall};
use crate::diag::Diagnostics;
use crate::proto::tfplugin6 as pb;
use crate::proto::tfplugin6::provider_server::Provider as ProviderRpc;
use crate::resource::{Context, PlanRequest};
use crate::value::{Type, Value};

pub struct ProviderService {
    pub(crate) core: Arc<Core>,
}

type R<T> = Result<Response<T>, Status>;
type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

fn ok<T>(t: T) -> R<T> {
    Ok(Response::new(t))
}

impl ProviderService {
    fn not_supported(&self, what: &str) -> Vec<pb::Diagnostic> {
        diagnostics_to_proto(&self.core.not_supported(what))
    }
}

/// Run a conversion that may fail; failures become diagnostics.
macro_rules! try_diag {
    ($e:expr, $resp:expr) => {
        match $e {
            Ok(v) => v,
            Err(err) => {
                let d: Diagnostics = err.into();
                let mut resp = $resp;
                resp.diagnostics = diagnostics_to_proto(&d);
                return ok(resp);
            }
        }
    };
}

fn identity_in(
    data: Option<&pb::ResourceIdentityData>,
    ty: &Option<Type>,
) -> Result<Option<Value>, crate::ValueError> {
    match (data.and_then(|d| d.identity_data.as_ref()), ty) {
        (Some(dv), Some(t)) => {
            let v = from_dynamic(Some(dv), t)?;
            Ok((!v.is_null()).then_some(v))
        }
        _ => Ok(None),
    }
}

fn identity_out(
    v: &Option<Value>,
    ty: &Option<Type>,
) -> Result<Option<pb::ResourceIdentityData>, crate::ValueError> {
    match (v, ty) {
        (Some(v), Some(t)) => Ok(Some(pb::ResourceIdentityData {
            identity_data: Some(to_dynamic(v, t)?),
        })),
        _ => Ok(None),
    }
}

#[tonic::async_trait]
impl ProviderRpc for ProviderService {
    async fn get_metadata(
        &self,
        _r: Request<pb::get_metadata::Request>,
    ) -> R<pb::get_metadata::Response> {
        use pb::get_metadata as m;
        let c = &self.core;
        ok(m::Response {
            server_capabilities: Some(capabilities()),
            resources: c
                .resources
                .keys()
                .map(|k| m::ResourceMetadata {
                    type_name: k.clone(),
                })
                .collect(),
            data_sources: c
                .data_sources
                .keys()
                .map(|k| m::DataSourceMetadata {
                    type_name: k.clone(),
                })
                .collect(),
            functions: c
                .functions
                .keys()
                .map(|k| m::FunctionMetadata { name: k.clone() })
                .collect(),
            ..Default::default()
        })
    }

    async fn get_provider_schema(
        &self,
        _r: Request<pb::get_provider_schema::Request>,
    ) -> R<pb::get_provider_schema::Response> {
        let c = &self.core;
        ok(pb::get_provider_schema::Response {
            provider: Some(schema_to_proto(&c.provider_schema)),
            resource_schemas: c
                .resources
                .iter()
                .map(|(k, e)| (k.clone(), schema_to_proto(&e.schema)))
                .collect(),
            data_source_schemas: c
                .data_sources
                .iter()
                .map(|(k, e)| (k.clone(), schema_to_proto(&e.schema)))
                .collect(),
            functions: c
                .functions
                .iter()
                .map(|(k, f)| (k.clone(), signature_to_proto(&f.signature())))
                .collect(),
            server_capabilities: Some(capabilities()),
            ..Default::default()
        })
    }

    async fn get_resource_identity_schemas(
        &self,
        _r: Request<pb::get_resource_identity_schemas::Request>,
    ) -> R<pb::get_resource_identity_schemas::Response> {
        ok(pb::get_resource_identity_schemas::Response {
            identity_schemas: self
                .core
                .resources
                .iter()
                .filter_map(|(k, e)| {
                    e.resource
                        .identity_schema()
                        .map(|s| (k.clone(), identity_schema_to_proto(&s)))
                })
                .collect(),
            diagnostics: vec![],
        })
    }

    async fn validate_provider_config(
        &self,
        r: Request<pb::validate_provider_config::Request>,
    ) -> R<pb::validate_provider_config::Response> {
        let r = r.into_inner();
        let empty = pb::validate_provider_config::Response::default();
        let config = try_diag!(
            from_dynamic(r.config.as_ref(), &self.core.provider_ty),
            empty
        );
        let d = self.core.validate_provider_config(config).await;
        ok(pb::validate_provider_config::Response {
            diagnostics: diagnostics_to_proto(&d),
        })
    }

    async fn validate_resource_config(
        &self,
        r: Request<pb::validate_resource_config::Request>,
    ) -> R<pb::validate_resource_config::Response> {
        let r = r.into_inner();
        let empty = pb::validate_resource_config::Response::default();
        let e = try_diag!(self.core.resource(&r.type_name), empty);
        let config = try_diag!(from_dynamic(r.config.as_ref(), &e.ty), empty);
        let wo = r
            .client_capabilities
            .map(|c| c.write_only_attributes_allowed)
            .unwrap_or(false);
        let d = self.core.validate_resource(e, config, wo).await;
        ok(pb::validate_resource_config::Response {
            diagnostics: diagnostics_to_proto(&d),
        })
    }

    async fn validate_data_resource_config(
        &self,
        r: Request<pb::validate_data_resource_config::Request>,
    ) -> R<pb::validate_data_resource_config::Response> {
        let r = r.into_inner();
        let empty = pb::validate_data_resource_config::Response::default();
        let e = try_diag!(self.core.data_source(&r.type_name), empty);
        let config = try_diag!(from_dynamic(r.config.as_ref(), &e.ty), empty);
        let d = self.core.validate_data_source(e, config).await;
        ok(pb::validate_data_resource_config::Response {
            diagnostics: diagnostics_to_proto(&d),
        })
    }

    async fn upgrade_resource_state(
        &self,
        r: Request<pb::upgrade_resource_state::Request>,
    ) -> R<pb::upgrade_resource_state::Response> {
        let r = r.into_inner();
        let empty = pb::upgrade_resource_state::Response::default();
        let e = try_diag!(self.core.resource(&r.type_name), empty);
        let raw = match raw_state_json(r.raw_state.as_ref()) {
            Ok(j) => j,
            Err(msg) => {
                let mut d = Diagnostics::new();
                d.error("Unable to read stored state", msg);
                return ok(pb::upgrade_resource_state::Response {
                    diagnostics: diagnostics_to_proto(&d),
                    ..empty
                });
            }
        };
        let v = try_diag!(self.core.upgrade_state(e, r.version, raw), empty);
        let dv = try_diag!(to_dynamic(&v, &e.ty), empty);
        ok(pb::upgrade_resource_state::Response {
            upgraded_state: Some(dv),
            diagnostics: vec![],
        })
    }

    async fn upgrade_resource_identity(
        &self,
        r: Request<pb::upgrade_resource_identity::Request>,
    ) -> R<pb::upgrade_resource_identity::Response> {
        let r = r.into_inner();
        let empty = pb::upgrade_resource_identity::Response::default();
        let e = try_diag!(self.core.resource(&r.type_name), empty);
        let raw = try_diag!(
            raw_state_json(r.raw_identity.as_ref()).map_err(crate::ValueError::new),
            empty
        );
        let v = try_diag!(self.core.upgrade_identity(e, r.version, raw), empty);
        let Some(ty) = e.identity_ty.as_ref() else {
            return ok(empty);
        };
        let dv = try_diag!(to_dynamic(&v, ty), empty);
        ok(pb::upgrade_resource_identity::Response {
            upgraded_identity: Some(pb::ResourceIdentityData {
                identity_data: Some(dv),
            }),
            diagnostics: vec![],
        })
    }

    async fn configure_provider(
        &self,
        r: Request<pb::configure_provider::Request>,
    ) -> R<pb::configure_provider::Response> {
        let r = r.into_inner();
        let empty = pb::configure_provider::Response::default();
        let config = try_diag!(
            from_dynamic(r.config.as_ref(), &self.core.provider_ty),
            empty
        );
        let d = self.core.configure(r.terraform_version, config).await;
        ok(pb::configure_provider::Response {
            diagnostics: diagnostics_to_proto(&d),
        })
    }

    async fn read_resource(
        &self,
        r: Request<pb::read_resource::Request>,
    ) -> R<pb::read_resource::Response> {
        let r = r.into_inner();
        let empty = pb::read_resource::Response::default();
        let e = try_diag!(self.core.resource(&r.type_name), empty);
        let state = try_diag!(from_dynamic(r.current_state.as_ref(), &e.ty), empty);
        let identity = try_diag!(
            identity_in(r.current_identity.as_ref(), &e.identity_ty),
            empty
        );
        let out = self
            .core
            .read(
                e,
                ReadCall {
                    state,
                    private: r.private,
                    identity,
                },
            )
            .await;
        let dv = try_diag!(to_dynamic(&out.state, &e.ty), empty);
        let new_identity = try_diag!(identity_out(&out.identity, &e.identity_ty), empty);
        ok(pb::read_resource::Response {
            new_state: Some(dv),
            diagnostics: diagnostics_to_proto(&out.diagnostics),
            private: out.private,
            deferred: None,
            new_identity,
        })
    }

    async fn plan_resource_change(
        &self,
        r: Request<pb::plan_resource_change::Request>,
    ) -> R<pb::plan_resource_change::Response> {
        let r = r.into_inner();
        let empty = pb::plan_resource_change::Response::default();
        let e = try_diag!(self.core.resource(&r.type_name), empty);
        let prior_state = try_diag!(from_dynamic(r.prior_state.as_ref(), &e.ty), empty);
        let planned_state = try_diag!(from_dynamic(r.proposed_new_state.as_ref(), &e.ty), empty);
        let config = try_diag!(from_dynamic(r.config.as_ref(), &e.ty), empty);
        let prior_identity = try_diag!(
            identity_in(r.prior_identity.as_ref(), &e.identity_ty),
            empty
        );
        let req = PlanRequest {
            ctx: self.core.ctx(),
            config,
            prior_state,
            planned_state,
            prior_private: r.prior_private,
        };
        let planned = self.core.plan(e, req, prior_identity).await;
        let dv = try_diag!(to_dynamic(&planned.state, &e.ty), empty);
        let planned_identity = try_diag!(identity_out(&planned.identity, &e.identity_ty), empty);
        ok(pb::plan_resource_change::Response {
            planned_state: Some(dv),
            requires_replace: planned.requires_replace.iter().map(path_to_proto).collect(),
            planned_private: planned.private,
            diagnostics: diagnostics_to_proto(&planned.diagnostics),
            legacy_type_system: false,
            deferred: None,
            planned_identity,
        })
    }

    async fn apply_resource_change(
        &self,
        r: Request<pb::apply_resource_change::Request>,
    ) -> R<pb::apply_resource_change::Response> {
        let r = r.into_inner();
        let empty = pb::apply_resource_change::Response::default();
        let e = try_diag!(self.core.resource(&r.type_name), empty);
        let prior = try_diag!(from_dynamic(r.prior_state.as_ref(), &e.ty), empty);
        let planned = try_diag!(from_dynamic(r.planned_state.as_ref(), &e.ty), empty);
        let config = try_diag!(from_dynamic(r.config.as_ref(), &e.ty), empty);
        let planned_identity = try_diag!(
            identity_in(r.planned_identity.as_ref(), &e.identity_ty),
            empty
        );
        let resp = self
            .core
            .apply(
                e,
                ApplyCall {
                    prior,
                    planned,
                    config,
                    private: r.planned_private,
                    planned_identity,
                },
            )
            .await;
        let dv = try_diag!(to_dynamic(&resp.state, &e.ty), empty);
        let new_identity = try_diag!(identity_out(&resp.identity, &e.identity_ty), empty);
        ok(pb::apply_resource_change::Response {
            new_state: Some(dv),
            private: resp.private,
            diagnostics: diagnostics_to_proto(&resp.diagnostics),
            legacy_type_system: false,
            new_identity,
        })
    }

    async fn import_resource_state(
        &self,
        r: Request<pb::import_resource_state::Request>,
    ) -> R<pb::import_resource_state::Response> {
        let r = r.into_inner();
        let empty = pb::import_resource_state::Response::default();
        let e = try_diag!(self.core.resource(&r.type_name), empty);
        let identity = try_diag!(identity_in(r.identity.as_ref(), &e.identity_ty), empty);
        let out = self.core.import(e, ImportCall { id: r.id, identity }).await;
        if out.diagnostics.has_errors() {
            return ok(pb::import_resource_state::Response {
                diagnostics: diagnostics_to_proto(&out.diagnostics),
                ..empty
            });
        }
        let dv = try_diag!(to_dynamic(&out.state, &e.ty), empty);
        let identity = try_diag!(identity_out(&out.identity, &e.identity_ty), empty);
        ok(pb::import_resource_state::Response {
            imported_resources: vec![pb::import_resource_state::ImportedResource {
                type_name: r.type_name,
                state: Some(dv),
                private: out.private,
                identity,
            }],
            diagnostics: diagnostics_to_proto(&out.diagnostics),
            deferred: None,
        })
    }

    async fn move_resource_state(
        &self,
        _r: Request<pb::move_resource_state::Request>,
    ) -> R<pb::move_resource_state::Response> {
        ok(pb::move_resource_state::Response {
            diagnostics: self
                .not_supported("Moving state between resource types (moved blocks across types)"),
            ..Default::default()
        })
    }

    async fn read_data_source(
        &self,
        r: Request<pb::read_data_source::Request>,
    ) -> R<pb::read_data_source::Response> {
        let r = r.into_inner();
        let empty = pb::read_data_source::Response::default();
        let e = try_diag!(self.core.data_source(&r.type_name), empty);
        let config = try_diag!(from_dynamic(r.config.as_ref(), &e.ty), empty);
        let out = self.core.read_data_source(e, config).await;
        let dv = try_diag!(to_dynamic(&out.state, &e.ty), empty);
        ok(pb::read_data_source::Response {
            state: Some(dv),
            diagnostics: diagnostics_to_proto(&out.diagnostics),
            deferred: None,
        })
    }

    async fn generate_resource_config(
        &self,
        _r: Request<pb::generate_resource_config::Request>,
    ) -> R<pb::generate_resource_config::Response> {
        ok(pb::generate_resource_config::Response {
            config: None,
            diagnostics: self.not_supported("Configuration generation"),
        })
    }

    async fn validate_ephemeral_resource_config(
        &self,
        _r: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> R<pb::validate_ephemeral_resource_config::Response> {
        ok(pb::validate_ephemeral_resource_config::Response {
            diagnostics: self.not_supported("Ephemeral resources"),
        })
    }
    async fn open_ephemeral_resource(
        &self,
        _r: Request<pb::open_ephemeral_resource::Request>,
    ) -> R<pb::open_ephemeral_resource::Response> {
        ok(pb::open_ephemeral_resource::Response {
            diagnostics: self.not_supported("Ephemeral resources"),
            ..Default::default()
        })
    }
    async fn renew_ephemeral_resource(
        &self,
        _r: Request<pb::renew_ephemeral_resource::Request>,
    ) -> R<pb::renew_ephemeral_resource::Response> {
        ok(pb::renew_ephemeral_resource::Response {
            diagnostics: self.not_supported("Ephemeral resources"),
            ..Default::default()
        })
    }
    async fn close_ephemeral_resource(
        &self,
        _r: Request<pb::close_ephemeral_resource::Request>,
    ) -> R<pb::close_ephemeral_resource::Response> {
        ok(pb::close_ephemeral_resource::Response {
            diagnostics: self.not_supported("Ephemeral resources"),
        })
    }

    type ListResourceStream = BoxStream<pb::list_resource::Event>;
    async fn list_resource(
        &self,
        _r: Request<pb::list_resource::Request>,
    ) -> R<Self::ListResourceStream> {
        let ev = pb::list_resource::Event {
            diagnostic: self.not_supported("List resources"),
            ..Default::default()
        };
        ok(Box::pin(futures::stream::iter([Ok(ev)])))
    }
    async fn validate_list_resource_config(
        &self,
        _r: Request<pb::validate_list_resource_config::Request>,
    ) -> R<pb::validate_list_resource_config::Response> {
        ok(pb::validate_list_resource_config::Response {
            diagnostics: self.not_supported("List resources"),
        })
    }

    async fn get_functions(
        &self,
        _r: Request<pb::get_functions::Request>,
    ) -> R<pb::get_functions::Response> {
        ok(pb::get_functions::Response {
            functions: self
                .core
                .functions
                .iter()
                .map(|(k, f)| (k.clone(), signature_to_proto(&f.signature())))
                .collect(),
            diagnostics: vec![],
        })
    }

    async fn call_function(
        &self,
        r: Request<pb::call_function::Request>,
    ) -> R<pb::call_function::Response> {
        let r = r.into_inner();
        let fail = |e: crate::FunctionError| {
            ok(pb::call_function::Response {
                result: None,
                error: Some(function_error_to_proto(&e)),
            })
        };
        let args: Vec<Encoded> = r
            .arguments
            .into_iter()
            .map(|a| Encoded {
                msgpack: a.msgpack,
                json: a.json,
            })
            .collect();
        match self.core.call_function(&r.name, &args).and_then(|(v, ty)| {
            to_dynamic(&v, &ty).map_err(|e| crate::FunctionError::general(e.to_string()))
        }) {
            Ok(dv) => ok(pb::call_function::Response {
                result: Some(dv),
                error: None,
            }),
            Err(e) => fail(e),
        }
    }

    async fn validate_state_store_config(
        &self,
        _r: Request<pb::validate_state_store::Request>,
    ) -> R<pb::validate_state_store::Response> {
        ok(pb::validate_state_store::Response {
            diagnostics: self.not_supported("State stores"),
        })
    }
    async fn configure_state_store(
        &self,
        _r: Request<pb::configure_state_store::Request>,
    ) -> R<pb::configure_state_store::Response> {
        ok(pb::configure_state_store::Response {
            diagnostics: self.not_supported("State stores"),
        })
    }
    type ReadStateBytesStream = BoxStream<pb::read_state_bytes::Response>;
    async fn read_state_bytes(
        &self,
        _r: Request<pb::read_state_bytes::Request>,
    ) -> R<Self::ReadStateBytesStream> {
        let ev = pb::read_state_bytes::Response {
            diagnostics: self.not_supported("State stores"),
            ..Default::default()
        };
        ok(Box::pin(futures::stream::iter([Ok(ev)])))
    }
    async fn write_state_bytes(
        &self,
        _r: Request<Streaming<pb::write_state_bytes::RequestChunk>>,
    ) -> R<pb::write_state_bytes::Response> {
        ok(pb::write_state_bytes::Response {
            diagnostics: self.not_supported("State stores"),
        })
    }
    async fn get_states(
        &self,
        _r: Request<pb::get_states::Request>,
    ) -> R<pb::get_states::Response> {
        ok(pb::get_states::Response {
            state_id: vec![],
            diagnostics: self.not_supported("State stores"),
        })
    }
    async fn delete_state(
        &self,
        _r: Request<pb::delete_state::Request>,
    ) -> R<pb::delete_state::Response> {
        ok(pb::delete_state::Response {
            diagnostics: self.not_supported("State stores"),
        })
    }

    async fn plan_action(
        &self,
        _r: Request<pb::plan_action::Request>,
    ) -> R<pb::plan_action::Response> {
        ok(pb::plan_action::Response {
            diagnostics: self.not_supported("Actions"),
            deferred: None,
        })
    }
    type InvokeActionStream = BoxStream<pb::invoke_action::Event>;
    async fn invoke_action(
        &self,
        _r: Request<pb::invoke_action::Request>,
    ) -> R<Self::InvokeActionStream> {
        use pb::invoke_action::event::{Completed, Type as Ev};
        let ev = pb::invoke_action::Event {
            r#type: Some(Ev::Completed(Completed {
                diagnostics: self.not_supported("Actions"),
            })),
        };
        ok(Box::pin(futures::stream::iter([Ok(ev)])))
    }
    async fn validate_action_config(
        &self,
        _r: Request<pb::validate_action_config::Request>,
    ) -> R<pb::validate_action_config::Response> {
        ok(pb::validate_action_config::Response {
            diagnostics: self.not_supported("Actions"),
        })
    }

    async fn stop_provider(
        &self,
        _r: Request<pb::stop_provider::Request>,
    ) -> R<pb::stop_provider::Response> {
        tracing::info!("StopProvider: cancelling in-flight operations");
        self.core.stop();
        ok(pb::stop_provider::Response {
            error: String::new(),
        })
    }
}

fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: true,
        get_provider_schema_optional: false,
        move_resource_state: false,
    }
}

#[allow(dead_code)]
fn _assert_ctx_send(c: Context) -> impl Send {
    c
}
