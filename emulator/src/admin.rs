//! The admin API under `/_hastack/`: status, call counts, faults, disappearing resources, reset.
//! Unsigned: it listens on loopback only and is for tests and the CLI.
use serde_json::{json, Value as Json};

use crate::effects::Effect;
use crate::state::Fault;
use crate::Emulator;

/// What an admin call answers, and the effects it recorded for one account and region (the
/// server carries them out: see `server::admin`).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Json,
    pub effects: Vec<Effect>,
    /// The (account, region) the effects belong to.
    pub scope: Option<(String, String)>,
}

impl From<(u16, Json)> for Reply {
    fn from((status, body): (u16, Json)) -> Self {
        Reply {
            status,
            body,
            effects: vec![],
            scope: None,
        }
    }
}

/// One admin call: its answer and effects. Returns data only; the server renders it and carries
/// the effects out.
pub fn call(emu: &Emulator, method: &str, path: &str, input: Json) -> Reply {
    let (account, region) = account_region(&input);
    let ctx = crate::Ctx::new(emu, emu.clock.now(), &account, &region);
    let (status, body) = answer(emu, &ctx, method, path, input);
    Reply {
        status,
        body,
        effects: ctx.outbox.take(),
        scope: Some((account.clone(), region.clone())),
    }
}

fn answer(
    emu: &Emulator,
    ctx: &crate::Ctx<'_>,
    method: &str,
    path: &str,
    input: Json,
) -> (u16, Json) {
    let mut st = emu.state.lock().expect("state lock");
    match (method, path) {
        ("GET", "status") => (
            200,
            json!({
                // Which process answered (a test that started one on a port checks it is its own).
                "pid": std::process::id(),
                "profile": emu.profile,
                // Derived from the service list: the fidelity suites' catalogue.
                "services": crate::registry::SERVICES.iter().map(|s| (s.model().to_string(), json!(s.operations()))).collect::<serde_json::Map<_, _>>(),
                "service_names": crate::registry::SERVICES.iter().map(|s| (s.model().to_string(), json!(s.name()))).collect::<serde_json::Map<_, _>>(),
                "hosts": match emu.hosts.availability() {
                    Ok(()) => json!({"available": true, "count": emu.hosts.views().len()}),
                    Err(reason) => json!({"available": false, "reason": reason}),
                },
                "accounts": st.scopes().iter().map(|(a, r)| format!("{a}/{r}")).collect::<Vec<_>>(),
            }),
        ),
        ("GET", "state") => (200, state_listing(emu, &mut st)),
        ("GET", "calls") => (200, json!(st.calls)),
        ("GET", "callers") => (200, json!(st.callers)),
        ("POST", "calls/reset") => {
            st.calls.clear();
            st.callers.clear();
            st.injected.clear();
            (200, json!({}))
        }
        ("GET", "faults") => (200, json!(st.faults)),
        ("POST", "faults") => match serde_json::from_value::<Fault>(input)
            .map_err(|e| e.to_string())
            .and_then(Fault::checked)
        {
            Ok(f) => {
                st.faults.push(f);
                (200, json!(st.faults))
            }
            Err(e) => (400, json!({"error": format!("bad fault: {e}")})),
        },
        ("GET", "faults/injected") => (200, json!(st.injected)),
        ("DELETE", "faults") => {
            st.faults.clear();
            (200, json!([]))
        }
        ("POST", "disappear") => disappear(ctx, &mut st, &input),
        ("POST", "ssm/register") => register(emu, ctx, &mut st, &input),
        ("POST", "ssm/credentials") => refresh_credentials(emu, &mut st, &input),
        ("POST", "ssm/get-parameter") => agent_get_parameter(ctx, &mut st, &input),
        ("POST", "logs/put") => agent_put_logs(ctx, &mut st, &input),
        ("GET", "hosts") => (200, json!(emu.hosts.views())),
        ("GET", "load-balancers") => (200, json!(emu.plane.endpoints())),
        ("POST", "hosts/stop")
        | ("POST", "hosts/start")
        | ("POST", "hosts/partition")
        | ("POST", "hosts/restore") => host_op(emu, path, &input),
        ("POST", "hosts/fail-zone") => {
            let zone = input.get("zone").and_then(Json::as_str).unwrap_or("");
            let keys = emu.hosts.in_zone(zone);
            for k in &keys {
                let _ = emu.hosts.stop(k);
            }
            (200, json!({"stopped": keys}))
        }
        ("POST", "ssm/connectivity") => connectivity(emu, &mut st, &input),
        ("POST", "reset") => {
            *st = Default::default();
            (200, json!({}))
        }
        _ => (
            404,
            json!({"error": format!("no admin endpoint {method} /_hastack/{path}")}),
        ),
    }
}

/// Remove a resource behind the client's back (out-of-band deletion), through the backend: its
/// host or listener goes too (the effects the backend records).
fn disappear(ctx: &crate::Ctx<'_>, st: &mut crate::state::State, input: &Json) -> (u16, Json) {
    let s = |k: &str, d: &str| input.get(k).and_then(Json::as_str).unwrap_or(d).to_string();
    let (account, region, kind, name) = (
        s("account", crate::DEFAULT_ACCOUNT),
        s("region", "us-east-1"),
        s("kind", ""),
        s("name", ""),
    );
    let b = st.backend::<crate::lightsail::Backend>(&account, &region);
    let gone = match kind.as_str() {
        "instance" => b.disappear_instance(ctx, &name),
        "load_balancer" => b.disappear_load_balancer(ctx, &name),
        _ => {
            return (
                400,
                json!({"error": "kind must be instance or load_balancer"}),
            )
        }
    };
    if gone {
        (200, json!({"removed": name}))
    } else {
        (
            404,
            json!({"error": format!("no {kind} {name} in {account}/{region}")}),
        )
    }
}

fn account_region(input: &Json) -> (String, String) {
    let s = |k: &str, d: &str| input.get(k).and_then(Json::as_str).unwrap_or(d).to_string();
    (
        s("account", crate::DEFAULT_ACCOUNT),
        s("region", "us-east-1"),
    )
}

/// What the stand-in agent's `-register -code C -id I -region R` calls.
fn register(
    emu: &Emulator,
    ctx: &crate::Ctx<'_>,
    st: &mut crate::state::State,
    input: &Json,
) -> (u16, Json) {
    let (account, region) = account_region(input);
    let s = |k: &str| {
        input
            .get(k)
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_string()
    };
    match st
        .backend::<crate::ssm::Backend>(&account, &region)
        .register(ctx, &s("code"), &s("id"), &s("hostname"), &s("ip"))
    {
        Ok(id) => match node_credentials(emu, st, &account, &region, &id) {
            Ok(creds) => (200, json!({"instanceId": id, "credentials": creds})),
            Err(e) => (400, e.body()),
        },
        Err(e) => (400, crate::error::AwsError::from(e).body()),
    }
}

/// How long the credentials a managed node gets for its role last (the agent renews them).
pub const NODE_CREDENTIALS_SECS: f64 = 3600.0;

/// Temporary credentials of the node's IAM role, as the SSM agent gets them on a hybrid node
/// (and shares in the root user's AWS credentials file).
fn node_credentials(
    emu: &Emulator,
    st: &mut crate::state::State,
    account: &str,
    region: &str,
    node_id: &str,
) -> Result<Json, crate::error::AwsError> {
    let node = st
        .backend::<crate::ssm::Backend>(account, region)
        .nodes
        .get(node_id)
        .cloned()
        .ok_or_else(|| {
            crate::ssm::error::fail(
                crate::ssm::error::SsmCode::InvalidInstanceId,
                format!("{node_id} is not a registered managed node"),
            )
        })?;
    let role = node.iam_role.trim_start_matches('/');
    let role_arn = if role.starts_with("arn:") {
        role.to_string()
    } else {
        format!("arn:aws:iam::{account}:role/{role}")
    };
    let c = st.global::<crate::sts::Backend>().issue(
        &role_arn,
        node_id,
        emu.clock.now(),
        NODE_CREDENTIALS_SECS,
        None,
    )?;
    Ok(json!({
        "AccessKeyId": c.access_key, "SecretAccessKey": c.secret_key, "SessionToken": c.session_token,
        "Expiration": crate::sts::iso8601(c.expires.unwrap_or_default()),
    }))
}

/// The stand-in agent renews its node's credentials (refused once the node is deregistered).
fn refresh_credentials(emu: &Emulator, st: &mut crate::state::State, input: &Json) -> (u16, Json) {
    let (account, region) = account_region(input);
    let id = input.get("instanceId").and_then(Json::as_str).unwrap_or("");
    match node_credentials(emu, st, &account, &region, id) {
        Ok(creds) => (200, json!({"instanceId": id, "credentials": creds})),
        Err(e) => (400, e.body()),
    }
}

/// A node's agent connects or loses its connection (host stopped or partitioned).
fn connectivity(emu: &Emulator, st: &mut crate::state::State, input: &Json) -> (u16, Json) {
    let (account, region) = account_region(input);
    let id = input.get("instanceId").and_then(Json::as_str).unwrap_or("");
    let online = input.get("online").and_then(Json::as_bool).unwrap_or(true);
    let now = emu.clock.now();
    match st
        .backend::<crate::ssm::Backend>(&account, &region)
        .nodes
        .get_mut(id)
    {
        Some(n) => {
            n.connected = online;
            if online {
                n.last_ping = now;
            }
            (
                200,
                json!({"instanceId": id, "pingStatus": crate::ssm::activations::ping_status(n, &emu.hosts)}),
            )
        }
        None => (404, json!({"error": format!("no managed node {id}")})),
    }
}

/// What exists, per account and region (names only: no parameter values, no activation codes).
fn state_listing(emu: &Emulator, st: &mut crate::state::State) -> Json {
    let mut out = serde_json::Map::new();
    for (account, region) in st.scopes() {
        let ctx = crate::Ctx::new(emu, emu.clock.now(), &account, &region);
        let services: serde_json::Map<String, Json> = crate::registry::SERVICES
            .iter()
            .filter_map(|s| Some((s.model().to_string(), s.summary(st, &ctx)?)))
            .collect();
        out.insert(format!("{account}/{region}"), Json::Object(services));
    }
    Json::Object(out)
}

/// Outages: stop a host abruptly, start it again, cut it off the network, or reconnect it.
fn host_op(emu: &Emulator, path: &str, input: &Json) -> (u16, Json) {
    let (account, region) = account_region(input);
    let name = input.get("name").and_then(Json::as_str).unwrap_or("");
    let key = format!("{account}/{region}/{name}");
    let r = match path {
        "hosts/stop" => emu.hosts.stop(&key),
        "hosts/start" => emu.hosts.start(&key),
        "hosts/partition" => emu.hosts.partition(&key, true),
        _ => emu.hosts.partition(&key, false),
    };
    match r {
        Ok(()) => (200, json!(emu.hosts.view(&key))),
        Err(e) => (400, json!({"error": e.to_string()})),
    }
}

/// What the stand-in CloudWatch agent's `-c ssm:NAME` reads (decrypted, as the agent would).
fn agent_get_parameter(
    _ctx: &crate::Ctx<'_>,
    st: &mut crate::state::State,
    input: &Json,
) -> (u16, Json) {
    let (account, region) = account_region(input);
    let name = input.get("name").and_then(Json::as_str).unwrap_or("");
    match st
        .backend::<crate::ssm::Backend>(&account, &region)
        .parameter(name, true)
    {
        Ok(p) => (200, json!({"value": p.value})),
        Err(e) => (400, crate::error::AwsError::from(e).body()),
    }
}

/// What the stand-in CloudWatch agent ships: creates the group (with its retention) and stream
/// when missing, as the real agent does, then puts the events through the real handler (so
/// metric filters see them).
fn agent_put_logs(ctx: &crate::Ctx<'_>, st: &mut crate::state::State, input: &Json) -> (u16, Json) {
    let (account, region) = account_region(input);
    let b = st.backend::<crate::logs::Backend>(&account, &region);
    let text = |k: &str| {
        input
            .get(k)
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_string()
    };
    let (group, stream) = (text("group"), text("stream"));
    let events: Vec<(i64, String)> = input
        .get("events")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e.get("timestamp").and_then(Json::as_i64).unwrap_or(0),
                e.get("message")
                    .and_then(Json::as_str)
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    let exists = |r: Result<(), crate::logs::backend::LogsError>| match r {
        Err(crate::logs::backend::LogsError::ResourceAlreadyExists(_)) => Ok(()),
        other => other,
    };
    // The metric filters' data points travel in the call's effects, to CloudWatch.
    let result = (|| {
        exists(b.create_log_group(ctx, &group, Default::default(), None))?;
        if let Some(days) = input.get("retention_in_days").and_then(Json::as_i64) {
            b.set_retention(&group, Some(days))?;
        }
        exists(b.create_log_stream(ctx, &group, &stream))?;
        b.put_log_events(ctx, &group, &stream, events)
    })();
    match result {
        Ok(put) => (
            200,
            json!({"nextSequenceToken": format!("{:056}", put.last_id)}),
        ),
        Err(e) => {
            let e = crate::error::AwsError::from(e);
            (400, json!({"error": e.code, "message": e.message}))
        }
    }
}
