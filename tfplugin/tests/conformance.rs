//! Conformance: drive the example provider exactly as Terraform core would, over the real
//! go-plugin handshake with AutoMTLS, and check every RPC.
mod common;

use std::time::{Duration, Instant};

use common::*;
use tfplugin::proto::tfplugin6 as pb;
use tfplugin::{Type, Value};

async fn thing_type(
    c: &mut pb::provider_client::ProviderClient<tonic::transport::Channel>,
) -> Type {
    let s = c
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap()
        .into_inner();
    block_type(s.resource_schemas["example_thing"].block.as_ref().unwrap())
}

fn thing(t: &Type, pairs: &[(&str, Value)]) -> Value {
    let mut v = Value::from_json(&serde_json::json!({}), t).unwrap();
    for (k, x) in pairs {
        *v.get_mut(k).unwrap() = x.clone();
    }
    v
}

fn summaries(d: &[pb::Diagnostic]) -> Vec<String> {
    d.iter().map(|x| x.summary.clone()).collect()
}

fn path_names(p: &pb::AttributePath) -> Vec<String> {
    use pb::attribute_path::step::Selector;
    p.steps
        .iter()
        .map(|s| match s.selector.as_ref().unwrap() {
            Selector::AttributeName(n) => n.clone(),
            Selector::ElementKeyString(k) => k.clone(),
            Selector::ElementKeyInt(i) => i.to_string(),
        })
        .collect()
}

#[tokio::test]
async fn schema_metadata_and_identity_schemas() {
    let p = launch(&[]);
    assert_eq!(p.handshake.network, "unix");
    assert!(
        p.handshake.server_cert.is_some(),
        "AutoMTLS must put the server certificate in the handshake"
    );
    let mut c = provider_client(&p).await;
    let s = c
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap()
        .into_inner();
    assert!(s.diagnostics.is_empty());
    let thing = &s.resource_schemas["example_thing"];
    assert_eq!(thing.version, 1);
    let attrs = &thing.block.as_ref().unwrap().attributes;
    let secret = attrs.iter().find(|a| a.name == "secret").unwrap();
    assert!(secret.write_only && secret.sensitive);
    assert_eq!(secret.description_kind, pb::StringKind::Markdown as i32);
    assert!(thing
        .block
        .as_ref()
        .unwrap()
        .block_types
        .iter()
        .any(|b| b.type_name == "timeouts"));
    assert!(s.data_source_schemas.contains_key("example_echo"));
    assert!(s.functions["join"].variadic_parameter.is_some());
    assert!(s.server_capabilities.unwrap().plan_destroy);

    let m = c
        .get_metadata(pb::get_metadata::Request {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(m.resources[0].type_name, "example_thing");
    assert_eq!(m.functions[0].name, "join");

    let ids = c
        .get_resource_identity_schemas(pb::get_resource_identity_schemas::Request {})
        .await
        .unwrap()
        .into_inner();
    let id = &ids.identity_schemas["example_thing"];
    assert_eq!(id.identity_attributes[0].name, "id");
    assert!(id.identity_attributes[0].required_for_import);
}

#[tokio::test]
async fn validation_reports_attribute_paths() {
    let p = launch(&[]);
    let mut c = provider_client(&p).await;
    let pt = Type::object([("endpoint", Type::String)]);
    let r = c
        .validate_provider_config(pb::validate_provider_config::Request {
            config: dv(&Value::object([("endpoint", Value::string("bad"))]), &pt),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        path_names(r.diagnostics[0].attribute.as_ref().unwrap()),
        ["endpoint"]
    );

    let t = thing_type(&mut c).await;
    let caps = Some(pb::ClientCapabilities {
        deferral_allowed: false,
        write_only_attributes_allowed: true,
    });
    let cases = [
        ("ok", thing(&t, &[("name", Value::string("a"))]), None),
        (
            "unknown_name_is_fine",
            thing(&t, &[("name", Value::unknown())]),
            None,
        ),
        (
            "empty_name",
            thing(&t, &[("name", Value::string(""))]),
            Some(vec!["name"]),
        ),
        (
            "bad_timeout",
            thing(
                &t,
                &[
                    ("name", Value::string("a")),
                    (
                        "timeouts",
                        Value::object([
                            ("create", Value::string("soon")),
                            ("read", Value::Null),
                            ("update", Value::Null),
                            ("delete", Value::Null),
                        ]),
                    ),
                ],
            ),
            Some(vec!["timeouts", "create"]),
        ),
    ];
    for (name, v, want) in cases {
        let r = c
            .validate_resource_config(pb::validate_resource_config::Request {
                type_name: "example_thing".into(),
                config: dv(&v, &t),
                client_capabilities: caps,
            })
            .await
            .unwrap()
            .into_inner();
        let got = r
            .diagnostics
            .first()
            .map(|d| path_names(d.attribute.as_ref().unwrap()));
        assert_eq!(
            got,
            want.map(|w| w.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
            "{name}"
        );
    }
    // A client that cannot handle write-only attributes is told so.
    let r = c
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: "example_thing".into(),
            config: dv(
                &thing(
                    &t,
                    &[("name", Value::string("a")), ("secret", Value::string("s"))],
                ),
                &t,
            ),
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        summaries(&r.diagnostics),
        ["Write-only attribute not supported"]
    );
    // Unknown type names are diagnostics, not gRPC errors.
    let r = c
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: "nope".into(),
            config: None,
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(summaries(&r.diagnostics), ["Unsupported resource type"]);
}

#[tokio::test]
async fn plan_apply_read_update_replace_delete() {
    let p = launch(&[]);
    let mut c = provider_client(&p).await;
    let t = thing_type(&mut c).await;
    let refined = Value::Unknown(Some(vec![0x81, 0x01, 0xc2])); // refined unknown: {1: false} (not null)
                                                                // Plan a create whose name is not known yet.
    let config = thing(
        &t,
        &[
            ("name", refined.clone()),
            ("secret", Value::string("hunter2")),
        ],
    );
    let r = c
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: "example_thing".into(),
            prior_state: dv(&Value::Null, &t),
            proposed_new_state: dv(&config, &t),
            config: dv(&config, &t),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    let planned = decode(&r.planned_state, &t);
    assert_eq!(
        planned.get("name"),
        &refined,
        "refined unknown goes back unchanged"
    );
    assert!(planned.get("id").is_unknown() && planned.get("revision").is_unknown());
    assert!(planned.get("secret").is_null(), "write-only never planned");

    // Now known: apply the create, with every kind of nested attribute and a dynamic value.
    let ports = Value::List(vec![Value::object([
        ("from_port", Value::number(80)),
        ("cidrs", Value::List(vec![Value::string("0.0.0.0/0")])),
    ])]);
    let owner = Value::object([("email", Value::string("ops@example.com"))]);
    let labels = Value::Map(
        [(
            "tier".to_string(),
            Value::object([("value", Value::string("web"))]),
        )]
        .into(),
    );
    let rules = Value::Set(vec![Value::object([("action", Value::string("allow"))])]);
    let anything = Value::Dynamic(
        Box::new(Type::object([("n", Type::Number)])),
        Box::new(Value::object([("n", Value::number(7))])),
    );
    let config = thing(
        &t,
        &[
            ("name", Value::string("a")),
            ("size", Value::number(3)),
            ("secret", Value::string("hunter2")),
            ("ports", ports.clone()),
            ("owner", owner.clone()),
            ("labels", labels.clone()),
            ("rules", rules.clone()),
            ("anything", anything.clone()),
        ],
    );
    let plan = c
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: "example_thing".into(),
            prior_state: dv(&Value::Null, &t),
            proposed_new_state: dv(&config, &t),
            config: dv(&config, &t),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let a = c
        .apply_resource_change(pb::apply_resource_change::Request {
            type_name: "example_thing".into(),
            prior_state: dv(&Value::Null, &t),
            planned_state: plan.planned_state.clone(),
            config: dv(&config, &t),
            planned_private: plan.planned_private,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(a.diagnostics.is_empty(), "{:?}", a.diagnostics);
    let state = decode(&a.new_state, &t);
    assert_eq!(state.get("id").as_str(), Some("thing-a"));
    assert!(state.get("secret").is_null(), "write-only never stored");
    for (k, v) in [
        ("ports", &ports),
        ("owner", &owner),
        ("labels", &labels),
        ("rules", &rules),
        ("anything", &anything),
    ] {
        assert_eq!(state.get(k), v, "{k} survives plan and apply");
    }
    assert_eq!(a.private, b"created");
    assert!(a.new_identity.is_some());

    // Read finds it.
    let rd = c
        .read_resource(pb::read_resource::Request {
            type_name: "example_thing".into(),
            current_state: dv(&state, &t),
            private: a.private.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(decode(&rd.new_state, &t), state);

    // Update in place: size changes; id is kept (use_state_for_unknown), revision becomes unknown.
    let config2 = thing(
        &t,
        &[("name", Value::string("a")), ("size", Value::number(4))],
    );
    let mut proposed = config2.clone();
    *proposed.get_mut("id").unwrap() = state.get("id").clone();
    *proposed.get_mut("revision").unwrap() = state.get("revision").clone();
    let up = c
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: "example_thing".into(),
            prior_state: dv(&state, &t),
            proposed_new_state: dv(&proposed, &t),
            config: dv(&config2, &t),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let planned = decode(&up.planned_state, &t);
    assert_eq!(planned.get("id").as_str(), Some("thing-a"));
    assert!(planned.get("revision").is_unknown());
    assert!(up.requires_replace.is_empty());
    let ap = c
        .apply_resource_change(pb::apply_resource_change::Request {
            type_name: "example_thing".into(),
            prior_state: dv(&state, &t),
            planned_state: up.planned_state,
            config: dv(&config2, &t),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let state2 = decode(&ap.new_state, &t);
    assert_eq!(state2.get("revision").as_i64(), Some(2));

    // No change: computed values keep their prior values, so the plan is empty.
    let same = c
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: "example_thing".into(),
            prior_state: dv(&state2, &t),
            proposed_new_state: dv(&state2, &t),
            config: dv(&config2, &t),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(decode(&same.planned_state, &t), state2);

    // Renaming requires replacement.
    let mut renamed = state2.clone();
    *renamed.get_mut("name").unwrap() = Value::string("b");
    let rp = c
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: "example_thing".into(),
            prior_state: dv(&state2, &t),
            proposed_new_state: dv(&renamed, &t),
            config: dv(
                &thing(
                    &t,
                    &[("name", Value::string("b")), ("size", Value::number(4))],
                ),
                &t,
            ),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        rp.requires_replace
            .iter()
            .map(path_names)
            .collect::<Vec<_>>(),
        vec![vec!["name".to_string()]]
    );

    // Destroy: plan then apply with a null planned state.
    let dp = c
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: "example_thing".into(),
            prior_state: dv(&state2, &t),
            proposed_new_state: dv(&Value::Null, &t),
            config: dv(&Value::Null, &t),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(decode(&dp.planned_state, &t).is_null());
    let del = c
        .apply_resource_change(pb::apply_resource_change::Request {
            type_name: "example_thing".into(),
            prior_state: dv(&state2, &t),
            planned_state: dv(&Value::Null, &t),
            config: dv(&Value::Null, &t),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(del.diagnostics.is_empty());
    assert!(decode(&del.new_state, &t).is_null());

    // Gone out of band: read answers null.
    let gone = c
        .read_resource(pb::read_resource::Request {
            type_name: "example_thing".into(),
            current_state: dv(&state2, &t),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(decode(&gone.new_state, &t).is_null());
}

async fn create(
    c: &mut pb::provider_client::ProviderClient<tonic::transport::Channel>,
    t: &Type,
    name: &str,
) -> Value {
    let config = thing(t, &[("name", Value::string(name))]);
    let mut planned = config.clone();
    *planned.get_mut("id").unwrap() = Value::unknown();
    *planned.get_mut("revision").unwrap() = Value::unknown();
    let a = c
        .apply_resource_change(pb::apply_resource_change::Request {
            type_name: "example_thing".into(),
            prior_state: dv(&Value::Null, t),
            planned_state: dv(&planned, t),
            config: dv(&config, t),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    decode(&a.new_state, t)
}

#[tokio::test]
async fn import_by_id_and_by_identity() {
    let p = launch(&[]);
    let mut c = provider_client(&p).await;
    let t = thing_type(&mut c).await;
    create(&mut c, &t, "imp").await;
    let by_id = c
        .import_resource_state(pb::import_resource_state::Request {
            type_name: "example_thing".into(),
            id: "thing-imp".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        decode(&by_id.imported_resources[0].state, &t)
            .get("name")
            .as_str(),
        Some("imp")
    );
    let it = Type::object([("id", Type::String)]);
    let by_identity = c
        .import_resource_state(pb::import_resource_state::Request {
            type_name: "example_thing".into(),
            identity: Some(pb::ResourceIdentityData {
                identity_data: dv(&Value::object([("id", Value::string("thing-imp"))]), &it),
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_identity.imported_resources.len(), 1);
    let missing = c
        .import_resource_state(pb::import_resource_state::Request {
            type_name: "example_thing".into(),
            id: "thing-nope".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        summaries(&missing.diagnostics),
        ["Cannot import non-existent remote object"]
    );
}

#[tokio::test]
async fn upgrade_state_and_identity() {
    let p = launch(&[]);
    let mut c = provider_client(&p).await;
    let t = thing_type(&mut c).await;
    let v0 = br#"{"id":"thing-old","label":"old","size":1.5,"removed_attr":true}"#;
    let r = c
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: "example_thing".into(),
            version: 0,
            raw_state: Some(pb::RawState {
                json: v0.to_vec(),
                flatmap: Default::default(),
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    let v = decode(&r.upgraded_state, &t);
    assert_eq!(v.get("name").as_str(), Some("old"));
    assert_eq!(v.get("size").as_number().unwrap().to_string(), "1.5");
    let newer = c
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: "example_thing".into(),
            version: 7,
            raw_state: Some(pb::RawState {
                json: b"{}".to_vec(),
                flatmap: Default::default(),
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        summaries(&newer.diagnostics),
        ["State written by a newer provider"]
    );
    let ident = c
        .upgrade_resource_identity(pb::upgrade_resource_identity::Request {
            type_name: "example_thing".into(),
            version: 0,
            raw_identity: Some(pb::RawState {
                json: br#"{"id":"thing-x"}"#.to_vec(),
                flatmap: Default::default(),
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(ident.upgraded_identity.is_some());
}

#[tokio::test]
async fn stop_provider_cancels_in_flight_work_and_keeps_serving() {
    let p = launch(&[]);
    let mut c = provider_client(&p).await;
    let t = thing_type(&mut c).await;
    let config = thing(
        &t,
        &[
            ("name", Value::string("slow")),
            ("create_delay_ms", Value::number(60_000)),
        ],
    );
    let mut planned = config.clone();
    *planned.get_mut("id").unwrap() = Value::unknown();
    *planned.get_mut("revision").unwrap() = Value::unknown();
    let mut c2 = c.clone();
    let t2 = t.clone();
    let started = Instant::now();
    let apply = tokio::spawn(async move {
        c2.apply_resource_change(pb::apply_resource_change::Request {
            type_name: "example_thing".into(),
            prior_state: dv(&Value::Null, &t2),
            planned_state: dv(&planned, &t2),
            config: dv(&config, &t2),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let s = c
        .stop_provider(pb::stop_provider::Request {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(s.error, "");
    let r = tokio::time::timeout(Duration::from_secs(5), apply)
        .await
        .expect("apply ends soon after StopProvider")
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(summaries(&r.diagnostics), ["Operation cancelled"]);
    assert!(decode(&r.new_state, &t).is_null());
    // Still serving, with a fresh token: a new create succeeds.
    let v = create(&mut c, &t, "after-stop").await;
    assert_eq!(v.get("id").as_str(), Some("thing-after-stop"));
}

#[tokio::test]
async fn data_source_and_functions() {
    let p = launch(&[]);
    let mut c = provider_client(&p).await;
    let et = Type::object([("input", Type::String), ("output", Type::String)]);
    let vr = c
        .validate_data_resource_config(pb::validate_data_resource_config::Request {
            type_name: "example_echo".into(),
            config: dv(&Value::object([("input", Value::string("hi"))]), &et),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(vr.diagnostics.is_empty());
    let r = c
        .read_data_source(pb::read_data_source::Request {
            type_name: "example_echo".into(),
            config: dv(&Value::object([("input", Value::string("hi"))]), &et),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(decode(&r.state, &et).get("output").as_str(), Some("hi"));

    let f = c
        .get_functions(pb::get_functions::Request {})
        .await
        .unwrap()
        .into_inner();
    assert!(f.functions.contains_key("join"));
    let s = |x: &str| dv(&Value::string(x), &Type::String).unwrap();
    let ok = c
        .call_function(pb::call_function::Request {
            name: "join".into(),
            arguments: vec![s("-"), s("a"), s("b"), s("c")],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(decode(&ok.result, &Type::String).as_str(), Some("a-b-c"));
    let bad = c
        .call_function(pb::call_function::Request {
            name: "join".into(),
            arguments: vec![s("-")],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(bad.error.unwrap().function_argument, Some(1));
}

#[tokio::test]
async fn optional_rpcs_answer_with_diagnostics() {
    use futures::StreamExt;
    let p = launch(&[]);
    let mut c = provider_client(&p).await;
    let e = c
        .validate_ephemeral_resource_config(
            pb::validate_ephemeral_resource_config::Request::default(),
        )
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        summaries(&e.diagnostics),
        ["Ephemeral resources not supported"]
    );
    let o = c
        .open_ephemeral_resource(pb::open_ephemeral_resource::Request::default())
        .await
        .unwrap()
        .into_inner();
    assert!(!o.diagnostics.is_empty());
    let m = c
        .move_resource_state(pb::move_resource_state::Request::default())
        .await
        .unwrap()
        .into_inner();
    assert!(!m.diagnostics.is_empty());
    let mut l = c
        .list_resource(pb::list_resource::Request::default())
        .await
        .unwrap()
        .into_inner();
    let ev = l.next().await.unwrap().unwrap();
    assert_eq!(summaries(&ev.diagnostic), ["List resources not supported"]);
    let a = c
        .plan_action(pb::plan_action::Request::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(summaries(&a.diagnostics), ["Actions not supported"]);
    let g = c
        .get_states(pb::get_states::Request::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(summaries(&g.diagnostics), ["State stores not supported"]);
    let st = c
        .validate_state_store_config(pb::validate_state_store::Request::default())
        .await
        .unwrap()
        .into_inner();
    assert!(!st.diagnostics.is_empty());
}

#[tokio::test]
async fn messages_beyond_tonic_default_4mib_are_accepted() {
    let p = launch(&[]);
    let mut c = provider_client(&p).await;
    let t = thing_type(&mut c).await;
    let big = "x".repeat(12 << 20);
    let r = c
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: "example_thing".into(),
            config: dv(&thing(&t, &[("name", Value::string(big))]), &t),
            client_capabilities: None,
        })
        .await
        .expect("12 MiB request accepted")
        .into_inner();
    assert!(r.diagnostics.is_empty());
}

#[tokio::test]
async fn a_client_without_the_right_certificate_is_refused() {
    let p = launch(&[]);
    let stranger = client_identity();
    let refused = match channel(&p.handshake, &stranger).await {
        Err(_) => true,
        Ok(ch) => pb::provider_client::ProviderClient::new(ch)
            .get_provider_schema(pb::get_provider_schema::Request {})
            .await
            .is_err(),
    };
    assert!(refused, "a different client certificate must not be served");
    // The rightful client still gets through.
    let mut c = provider_client(&p).await;
    assert!(c.get_metadata(pb::get_metadata::Request {}).await.is_ok());
}

#[tokio::test]
async fn plaintext_client_is_refused_when_tls_is_on() {
    let p = launch(&[]);
    let plain = Handshake {
        network: p.handshake.network.clone(),
        address: p.handshake.address.clone(),
        server_cert: None,
    };
    let refused = match channel(&plain, &p.identity).await {
        Err(_) => true,
        Ok(ch) => pb::provider_client::ProviderClient::new(ch)
            .get_metadata(pb::get_metadata::Request {})
            .await
            .is_err(),
    };
    assert!(refused);
}

#[tokio::test]
async fn controller_shutdown_exits_cleanly() {
    let mut p = launch(&[]);
    let mut ctl = controller_client(&p).await;
    ctl.shutdown(()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = p.child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "plugin still running 10s after Shutdown"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !std::path::Path::new(&p.handshake.address).exists(),
        "unix socket removed on exit"
    );
}

#[tokio::test]
async fn tcp_within_plugin_port_range() {
    let p = launch(&[("PLUGIN_MIN_PORT", "47100"), ("PLUGIN_MAX_PORT", "47199")]);
    assert_eq!(p.handshake.network, "tcp");
    let port: u16 = p
        .handshake
        .address
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((47100..=47199).contains(&port));
    let mut c = provider_client(&p).await;
    assert!(c.get_metadata(pb::get_metadata::Request {}).await.is_ok());
}

#[test]
fn refuses_to_run_by_hand_and_wrong_protocol() {
    let out = std::process::Command::new(BIN)
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("This binary is a plugin"));
    let out = std::process::Command::new(BIN)
        .env(
            "TF_PLUGIN_MAGIC_COOKIE",
            tfplugin::plugin::handshake::MAGIC_COOKIE_VALUE,
        )
        .env("PLUGIN_PROTOCOL_VERSIONS", "5")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("only version 6"));
}

#[tokio::test]
async fn debug_mode_prints_reattach_line_and_serves_plaintext() {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(BIN)
        .arg("--debug")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut reattach = None;
    for _ in 0..10 {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if let Some(j) = line.trim().strip_prefix("TF_REATTACH_PROVIDERS='") {
            reattach = Some(j.trim_end_matches('\'').to_string());
            break;
        }
    }
    let j: serde_json::Value = serde_json::from_str(&reattach.expect("reattach line")).unwrap();
    let entry = &j["registry.terraform.io/example/example"];
    assert_eq!(entry["ProtocolVersion"], 6);
    let h = Handshake {
        network: entry["Addr"]["Network"].as_str().unwrap().into(),
        address: entry["Addr"]["String"].as_str().unwrap().into(),
        server_cert: None,
    };
    let ch = channel(&h, &client_identity()).await.unwrap();
    let mut c = pb::provider_client::ProviderClient::new(ch);
    assert!(c.get_metadata(pb::get_metadata::Request {}).await.is_ok());
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test]
async fn configure_provider() {
    let p = launch(&[]);
    let mut c = provider_client(&p).await;
    let pt = Type::object([("endpoint", Type::String)]);
    let r = c
        .configure_provider(pb::configure_provider::Request {
            terraform_version: "1.15.5".into(),
            config: dv(&Value::object([("endpoint", Value::unknown())]), &pt),
            client_capabilities: Some(pb::ClientCapabilities {
                deferral_allowed: true,
                write_only_attributes_allowed: true,
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    // A value that does not match the schema is a diagnostic, not a transport error.
    let r = c
        .configure_provider(pb::configure_provider::Request {
            terraform_version: "1.15.5".into(),
            config: Some(pb::DynamicValue {
                msgpack: vec![0xc3],
                json: vec![],
            }),
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(summaries(&r.diagnostics), ["Value conversion failed"]);
}

#[tokio::test]
async fn go_plugin_stdio_and_broker_streams_stay_open_until_shutdown() {
    use futures::StreamExt;
    use tfplugin::proto::goplugin as gp;
    let mut p = launch(&[]);
    let ch = channel(&p.handshake, &p.identity).await.unwrap();
    let mut stdio = gp::grpc_stdio_client::GrpcStdioClient::new(ch.clone())
        .stream_stdio(())
        .await
        .unwrap()
        .into_inner();
    let (tx, rx) = tokio::sync::mpsc::channel::<gp::ConnInfo>(1);
    let mut broker = gp::grpc_broker_client::GrpcBrokerClient::new(ch.clone())
        .start_stream(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    tx.send(gp::ConnInfo {
        service_id: 1,
        network: "unix".into(),
        address: "/nowhere".into(),
        knock: None,
    })
    .await
    .unwrap();
    // Open and quiet while serving.
    assert!(
        tokio::time::timeout(Duration::from_millis(300), stdio.next())
            .await
            .is_err()
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(100), broker.next())
            .await
            .is_err()
    );
    // Health service answers for go-plugin's "plugin" service.
    let mut health = tonic_health::pb::health_client::HealthClient::new(ch.clone());
    let h = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "plugin".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        h.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
    // Shutdown ends both streams and the process.
    controller_client(&p).await.shutdown(()).await.unwrap();
    let end = tokio::time::timeout(Duration::from_secs(5), stdio.next())
        .await
        .expect("stdio stream ends at shutdown");
    assert!(end.is_none() || end.unwrap().is_err());
    let deadline = Instant::now() + Duration::from_secs(10);
    while p.child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
