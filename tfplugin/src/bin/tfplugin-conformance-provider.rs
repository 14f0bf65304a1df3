//! A small provider built on tfplugin, used by the conformance tests: it exercises every
//! part of the framework (plan modifiers, write-only, identity, upgrade, import, timeouts,
//! cancellation, data sources, variadic functions) without touching any cloud.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tfplugin::plugin::{env::OsEnv, serve, PluginError, ServeOptions};
use tfplugin::resource::*;
use tfplugin::timeouts::{self, Operation, TimeoutDefaults};
use tfplugin::*;

type Store = Arc<Mutex<HashMap<String, Value>>>;

struct Example {
    store: Store,
}

#[async_trait]
impl Provider for Example {
    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new("Example provider.").attribute(
                Attribute::new("endpoint", Type::String)
                    .optional()
                    .description("Where to go."),
            ),
        )
    }
    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![Arc::new(Thing {
            store: self.store.clone(),
        })]
    }
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        vec![Arc::new(Echo)]
    }
    fn functions(&self) -> Vec<Arc<dyn Function>> {
        vec![Arc::new(Join)]
    }
    async fn validate_config(&self, config: &Value) -> Diagnostics {
        let mut d = Diagnostics::new();
        if config.get("endpoint").as_str() == Some("bad") {
            d.attribute_error(
                AttributePath::root("endpoint"),
                "Invalid endpoint",
                "\"bad\" is not an endpoint",
            );
        }
        d
    }
    async fn configure(&self, _req: ConfigureRequest) -> Diagnostics {
        Diagnostics::new()
    }
}

struct Thing {
    store: Store,
}

fn thing_schema() -> Schema {
    Schema::new(
        1,
        Block::new("A thing.")
            .attribute(
                Attribute::new("id", Type::String)
                    .computed()
                    .use_state_for_unknown()
                    .description("ID."),
            )
            .attribute(
                Attribute::new("name", Type::String)
                    .required()
                    .requires_replace()
                    .description("Name."),
            )
            .attribute(
                Attribute::new("size", Type::Number)
                    .optional()
                    .description("Size."),
            )
            .attribute(
                Attribute::new("revision", Type::Number)
                    .computed()
                    .description("Bumped by every update."),
            )
            .attribute(
                Attribute::new("secret", Type::String)
                    .optional()
                    .sensitive()
                    .write_only()
                    .description("Never stored."),
            )
            .attribute(
                Attribute::new("create_delay_ms", Type::Number)
                    .optional()
                    .description("Sleep this long in create."),
            )
            .attribute(
                Attribute::new("anything", Type::Dynamic)
                    .optional()
                    .description("Any value."),
            )
            .attribute(
                Attribute::nested(
                    "ports",
                    Nesting::List,
                    vec![
                        Attribute::new("from_port", Type::Number)
                            .required()
                            .description("First port."),
                        Attribute::new("cidrs", Type::list(Type::String))
                            .optional()
                            .description("Sources."),
                    ],
                )
                .optional()
                .description("Nested list attribute."),
            )
            .attribute(
                Attribute::nested(
                    "owner",
                    Nesting::Single,
                    vec![Attribute::new("email", Type::String)
                        .required()
                        .description("Email.")],
                )
                .optional()
                .description("Nested single attribute."),
            )
            .attribute(
                Attribute::nested(
                    "labels",
                    Nesting::Map,
                    vec![Attribute::new("value", Type::String)
                        .optional()
                        .description("Value.")],
                )
                .optional()
                .description("Nested map attribute."),
            )
            .attribute(
                Attribute::nested(
                    "rules",
                    Nesting::Set,
                    vec![Attribute::new("action", Type::String)
                        .required()
                        .description("Action.")],
                )
                .optional()
                .description("Nested set attribute."),
            )
            .block(timeouts::block(&TimeoutDefaults::default())),
    )
}

fn identity(id: &str) -> Value {
    Value::object([("id", Value::string(id))])
}

#[async_trait]
impl Resource for Thing {
    fn type_name(&self) -> &str {
        "example_thing"
    }
    fn schema(&self) -> Schema {
        thing_schema()
    }
    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(IdentitySchema {
            version: 0,
            attributes: vec![IdentityAttribute {
                name: "id".into(),
                ty: Type::String,
                required_for_import: true,
                optional_for_import: false,
                description: "ID.".into(),
            }],
        })
    }
    async fn validate(&self, req: ValidateRequest) -> Diagnostics {
        let mut d = Diagnostics::new();
        if req.config.get("name").as_str() == Some("") {
            d.attribute_error(
                AttributePath::root("name"),
                "Empty name",
                "name must not be empty",
            );
        }
        d
    }
    async fn create(&self, req: CreateRequest) -> ApplyResponse {
        let mut resp = ApplyResponse::default();
        let delay = Duration::from_millis(
            req.planned_state
                .get("create_delay_ms")
                .as_i64()
                .unwrap_or(0) as u64,
        );
        let limit = timeouts::get(&req.config, Operation::Create, &TimeoutDefaults::default());
        tokio::select! {
            _ = tokio::time::sleep(delay.min(limit)) => {}
            _ = req.ctx.cancel.cancelled() => {
                resp.diagnostics.error("Operation cancelled", "StopProvider was called while creating example_thing.");
                return resp;
            }
        }
        if delay > limit {
            resp.diagnostics.error(
                "Timed out",
                format!(
                    "create took longer than {}",
                    timeouts::format_duration(limit)
                ),
            );
            return resp;
        }
        let id = format!(
            "thing-{}",
            req.planned_state.get("name").as_str().unwrap_or("")
        );
        let mut state = req.planned_state.clone();
        *state.get_mut("id").unwrap() = Value::string(&id);
        *state.get_mut("revision").unwrap() = Value::number(1);
        self.store.lock().unwrap().insert(id.clone(), state.clone());
        resp.state = state;
        resp.private = b"created".to_vec();
        resp.identity = Some(identity(&id));
        resp
    }
    async fn read(&self, req: ReadRequest) -> ReadResponse {
        let id = req.state.get("id").as_str().unwrap_or("").to_string();
        match self.store.lock().unwrap().get(&id) {
            Some(v) => {
                let mut r = ReadResponse::found(v.clone(), req.private);
                r.identity = Some(identity(&id));
                r
            }
            None => ReadResponse::gone(),
        }
    }
    async fn update(&self, req: UpdateRequest) -> ApplyResponse {
        let mut state = req.planned_state.clone();
        let rev = req.prior_state.get("revision").as_i64().unwrap_or(0);
        *state.get_mut("revision").unwrap() = Value::number(rev + 1);
        let id = state.get("id").as_str().unwrap_or("").to_string();
        self.store.lock().unwrap().insert(id, state.clone());
        ApplyResponse {
            state,
            private: req.planned_private,
            ..Default::default()
        }
    }
    async fn delete(&self, req: DeleteRequest) -> DeleteResponse {
        let id = req.prior_state.get("id").as_str().unwrap_or("").to_string();
        self.store.lock().unwrap().remove(&id);
        DeleteResponse::default()
    }
    fn as_import(&self) -> Option<&dyn ImportState> {
        Some(self)
    }
    fn as_upgrade(&self) -> Option<&dyn UpgradeState> {
        Some(self)
    }
}

#[async_trait]
impl ImportState for Thing {
    async fn import(&self, req: ImportRequest) -> ImportResponse {
        let id = if req.id.is_empty() {
            req.identity
                .as_ref()
                .and_then(|i| i.get("id").as_str().map(str::to_string))
                .unwrap_or_default()
        } else {
            req.id
        };
        let state = self
            .store
            .lock()
            .unwrap()
            .get(&id)
            .cloned()
            .unwrap_or(Value::Null);
        ImportResponse {
            identity: (!state.is_null()).then(|| identity(&id)),
            state,
            ..Default::default()
        }
    }
}

impl UpgradeState for Thing {
    /// Version 0 called `name` `label`.
    fn upgrade(&self, req: UpgradeRequest) -> UpgradeResponse {
        let mut j = req.raw_state;
        if req.version == 0 {
            if let Some(o) = j.as_object_mut() {
                if let Some(l) = o.remove("label") {
                    o.insert("name".into(), l);
                }
            }
        }
        UpgradeResponse {
            state: j,
            diagnostics: Diagnostics::new(),
        }
    }
}

struct Echo;

#[async_trait]
impl DataSource for Echo {
    fn type_name(&self) -> &str {
        "example_echo"
    }
    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new("Echo.")
                .attribute(Attribute::new("input", Type::String).required())
                .attribute(Attribute::new("output", Type::String).computed()),
        )
    }
    async fn read(&self, req: DataSourceReadRequest) -> DataSourceReadResponse {
        let mut v = req.config.clone();
        *v.get_mut("output").unwrap() = req.config.get("input").clone();
        DataSourceReadResponse {
            state: v,
            diagnostics: Diagnostics::new(),
        }
    }
}

struct Join;

impl Function for Join {
    fn name(&self) -> &str {
        "join"
    }
    fn signature(&self) -> Signature {
        Signature {
            parameters: vec![Parameter::new("sep", Type::String, "Separator.")],
            variadic: Some(Parameter::new("parts", Type::String, "Parts.")),
            returns: Type::String,
            summary: "Join strings.".into(),
            description: "Joins parts with sep.".into(),
            deprecation: String::new(),
        }
    }
    fn call(&self, args: Vec<Value>) -> Result<Value, FunctionError> {
        let sep = args[0]
            .as_str()
            .ok_or_else(|| FunctionError::argument(0, "sep must not be null"))?;
        let parts: Vec<&str> = args[1]
            .elements()
            .unwrap_or_default()
            .iter()
            .filter_map(|p| p.as_str())
            .collect();
        if parts.is_empty() {
            return Err(FunctionError::argument(1, "give at least one part"));
        }
        Ok(Value::string(parts.join(sep)))
    }
}

fn main() -> std::process::ExitCode {
    let debug = std::env::args().any(|a| a == "--debug");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let p = Example {
        store: Store::default(),
    };
    match rt.block_on(serve(
        p,
        ServeOptions {
            address: "registry.terraform.io/example/example".into(),
            debug,
        },
        &OsEnv,
    )) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(PluginError::NotLaunchedByTerraform) => {
            eprintln!("{}", tfplugin::plugin::handshake::NOT_A_PLUGIN_MESSAGE);
            std::process::ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}
