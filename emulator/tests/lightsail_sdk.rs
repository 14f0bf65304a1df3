//! The official Rust SDK (aws-sdk-lightsail) against hastack-local: every implemented
//! Lightsail operation, SigV4, errors, pagination, latency profile and fault injection.
use std::sync::Arc;

use aws_credential_types::Credentials;
use aws_sdk_lightsail::types::{PortInfo, Tag};
use aws_sdk_lightsail::Client;
use hastack_local::clock::ManualClock;
use hastack_local::profile::LatencyProfile;
use hastack_local::server::{start, Running};
use hastack_local::state::{Fault, FaultKind};
use hastack_local::{Emulator, DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY};

const T0: f64 = 1_790_000_000.0;

async fn emulator() -> (Running, ManualClock) {
    let clock = ManualClock::new(T0);
    let emu = Emulator::new(LatencyProfile::fast(), Arc::new(clock.clone()))
        .with_call_log(std::env::var_os("HASTACK_SDK_CALL_LOG").map(Into::into))
        .with_credentials(vec![hastack_local::sigv4::Credential::root(
            "AKIASECONDACCOUNT001",
            "second-secret",
            "210987654321",
        )]);
    (start(emu, 0).await.unwrap(), clock)
}

fn client_with(r: &Running, region: &str, key: &str, secret: &str, attempts: u32) -> Client {
    let conf = aws_sdk_lightsail::Config::builder()
        .behavior_version_latest()
        .region(aws_sdk_lightsail::config::Region::new(region.to_string()))
        .endpoint_url(r.endpoint())
        .credentials_provider(Credentials::new(key, secret, None, None, "test"))
        .retry_config(
            aws_sdk_lightsail::config::retry::RetryConfig::standard()
                .with_max_attempts(attempts)
                .with_initial_backoff(std::time::Duration::from_millis(5)),
        )
        .build();
    Client::from_conf(conf)
}

fn client(r: &Running) -> Client {
    client_with(r, "us-east-1", DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, 3)
}

async fn create(
    c: &Client,
    names: &[&str],
    zone: &str,
) -> Vec<aws_sdk_lightsail::types::Operation> {
    c.create_instances()
        .set_instance_names(Some(names.iter().map(|s| s.to_string()).collect()))
        .availability_zone(zone)
        .blueprint_id("debian_12")
        .bundle_id("nano_3_0")
        .user_data("#!/bin/sh\necho hello\n")
        .tags(Tag::builder().key("app").value("web").build())
        .send()
        .await
        .unwrap()
        .operations
        .unwrap()
}

#[tokio::test]
async fn catalogue_regions_blueprints_bundles() {
    let (r, _) = emulator().await;
    let c = client(&r);
    let regions = c
        .get_regions()
        .include_availability_zones(true)
        .send()
        .await
        .unwrap()
        .regions
        .unwrap();
    let use1 = regions
        .iter()
        .find(|x| x.name().map(|n| n.as_str()) == Some("us-east-1"))
        .unwrap();
    assert!(use1
        .availability_zones()
        .iter()
        .any(|z| z.zone_name() == Some("us-east-1a")));
    let bps = c.get_blueprints().send().await.unwrap().blueprints.unwrap();
    for id in ["ubuntu_22_04", "debian_12"] {
        assert!(bps.iter().any(|b| b.blueprint_id() == Some(id)), "{id}");
    }
    let bundles = c.get_bundles().send().await.unwrap().bundles.unwrap();
    let nano = bundles
        .iter()
        .find(|b| b.bundle_id() == Some("nano_3_0"))
        .unwrap();
    assert_eq!(nano.ram_size_in_gb(), Some(0.5));
    r.stop().await;
}

#[tokio::test]
async fn instance_lifecycle_ports_tags_and_operations() {
    let (r, clock) = emulator().await;
    let c = client(&r);
    let ops = create(&c, &["web-1", "web-2"], "us-east-1b").await;
    assert_eq!(ops.len(), 2);
    assert_eq!(ops[0].status().map(|s| s.as_str()), Some("NotStarted"));
    assert!(!ops[0].is_terminal().unwrap());
    assert_eq!(
        ops[0].operation_type().map(|s| s.as_str()),
        Some("CreateInstance")
    );

    let i = c
        .get_instance()
        .instance_name("web-1")
        .send()
        .await
        .unwrap()
        .instance
        .unwrap();
    assert_eq!(i.state().unwrap().name(), Some("pending"));
    assert_eq!(
        i.location().unwrap().availability_zone(),
        Some("us-east-1b")
    );
    assert_eq!(i.tags()[0].key(), Some("app"));
    let open: Vec<i32> = i
        .networking()
        .unwrap()
        .ports()
        .iter()
        .map(|p| p.from_port())
        .collect();
    assert_eq!(
        open,
        [22, 80],
        "a new Linux instance opens 22 and 80 like Lightsail"
    );

    // Operations and instances move on with the clock (fast profile: 0.2s and 0.5s).
    clock.advance(0.1);
    let op = c
        .get_operation()
        .operation_id(ops[0].id().unwrap())
        .send()
        .await
        .unwrap()
        .operation
        .unwrap();
    assert_eq!(op.status().map(|s| s.as_str()), Some("Started"));
    clock.advance(0.2);
    let op = c
        .get_operation()
        .operation_id(ops[0].id().unwrap())
        .send()
        .await
        .unwrap()
        .operation
        .unwrap();
    assert_eq!(op.status().map(|s| s.as_str()), Some("Succeeded"));
    assert!(op.is_terminal().unwrap());
    assert_eq!(
        c.get_instance_state()
            .instance_name("web-1")
            .send()
            .await
            .unwrap()
            .state
            .unwrap()
            .name(),
        Some("pending")
    );
    clock.advance(0.3);
    let i = c
        .get_instance()
        .instance_name("web-1")
        .send()
        .await
        .unwrap()
        .instance
        .unwrap();
    assert_eq!(i.state().unwrap().code(), Some(16));
    assert!(i.public_ip_address().is_some() && i.private_ip_address().is_some());

    // Put closes whatever it does not list.
    let http = PortInfo::builder()
        .from_port(80)
        .to_port(80)
        .protocol("tcp".into())
        .cidrs("0.0.0.0/0")
        .build();
    c.put_instance_public_ports()
        .instance_name("web-1")
        .port_infos(http)
        .send()
        .await
        .unwrap();
    let states = c
        .get_instance_port_states()
        .instance_name("web-1")
        .send()
        .await
        .unwrap()
        .port_states
        .unwrap();
    assert_eq!(
        states.iter().map(|p| p.from_port()).collect::<Vec<_>>(),
        [80]
    );
    let https = PortInfo::builder()
        .from_port(443)
        .to_port(443)
        .protocol("tcp".into())
        .build();
    c.open_instance_public_ports()
        .instance_name("web-1")
        .port_info(https.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.get_instance_port_states()
            .instance_name("web-1")
            .send()
            .await
            .unwrap()
            .port_states
            .unwrap()
            .len(),
        2
    );
    c.close_instance_public_ports()
        .instance_name("web-1")
        .port_info(https)
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.get_instance_port_states()
            .instance_name("web-1")
            .send()
            .await
            .unwrap()
            .port_states
            .unwrap()
            .len(),
        1
    );

    // Tags.
    c.tag_resource()
        .resource_name("web-1")
        .tags(Tag::builder().key("tier").value("front").build())
        .send()
        .await
        .unwrap();
    c.untag_resource()
        .resource_name("web-1")
        .tag_keys("app")
        .send()
        .await
        .unwrap();
    let i = c
        .get_instance()
        .instance_name("web-1")
        .send()
        .await
        .unwrap()
        .instance
        .unwrap();
    assert_eq!(
        i.tags()
            .iter()
            .map(|t| t.key().unwrap())
            .collect::<Vec<_>>(),
        ["tier"]
    );

    // Stop, start, reboot.
    c.stop_instance()
        .instance_name("web-1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.get_instance_state()
            .instance_name("web-1")
            .send()
            .await
            .unwrap()
            .state
            .unwrap()
            .name(),
        Some("stopping")
    );
    let err = c
        .start_instance()
        .instance_name("web-1")
        .send()
        .await
        .unwrap_err();
    assert!(err
        .as_service_error()
        .unwrap()
        .is_operation_failure_exception());
    clock.advance(0.4);
    assert_eq!(
        c.get_instance_state()
            .instance_name("web-1")
            .send()
            .await
            .unwrap()
            .state
            .unwrap()
            .name(),
        Some("stopped")
    );
    c.start_instance()
        .instance_name("web-1")
        .send()
        .await
        .unwrap();
    clock.advance(0.6);
    c.reboot_instance()
        .instance_name("web-1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.get_instance_state()
            .instance_name("web-1")
            .send()
            .await
            .unwrap()
            .state
            .unwrap()
            .name(),
        Some("pending")
    );

    // Operations history, newest first.
    let hist = c
        .get_operations_for_resource()
        .resource_name("web-1")
        .send()
        .await
        .unwrap()
        .operations
        .unwrap();
    assert_eq!(
        hist[0].operation_type().map(|s| s.as_str()),
        Some("RebootInstance")
    );
    assert!(
        c.get_operations()
            .send()
            .await
            .unwrap()
            .operations
            .unwrap()
            .len()
            >= 10
    );

    // Delete: gone, with the error code the SDK matches on.
    c.delete_instance()
        .instance_name("web-2")
        .send()
        .await
        .unwrap();
    let err = c
        .get_instance()
        .instance_name("web-2")
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error().unwrap().is_not_found_exception(),
        "{err:?}"
    );
    r.stop().await;
}

#[tokio::test]
async fn invalid_input_is_rejected_like_lightsail() {
    let (r, _) = emulator().await;
    let c = client(&r);
    create(&c, &["taken"], "us-east-1a").await;
    let base = || {
        c.create_instances()
            .instance_names("x-1")
            .availability_zone("us-east-1a")
            .blueprint_id("debian_12")
            .bundle_id("nano_3_0")
    };
    let cases = [
        (
            "zone_of_other_region",
            base().availability_zone("eu-west-1a"),
            "not valid for region us-east-1",
        ),
        (
            "unknown_bundle",
            base().bundle_id("huge_9_0"),
            "bundle ID is invalid",
        ),
        (
            "unknown_blueprint",
            base().blueprint_id("windows_95"),
            "blueprint ID is invalid",
        ),
        (
            "duplicate_name",
            base().instance_names("taken"),
            "already in use",
        ),
        (
            "bad_name",
            c.create_instances()
                .instance_names("-bad")
                .availability_zone("us-east-1a")
                .blueprint_id("debian_12")
                .bundle_id("nano_3_0"),
            "not a valid instance name",
        ),
    ];
    for (name, req, msg) in cases {
        let err = req.send().await.unwrap_err();
        let se = err
            .as_service_error()
            .unwrap_or_else(|| panic!("{name}: {err:?}"));
        assert!(se.is_invalid_input_exception(), "{name}: {se:?}");
        assert!(
            se.meta().message().unwrap_or("").contains(msg),
            "{name}: {:?}",
            se.meta().message()
        );
    }
    r.stop().await;
}

#[tokio::test]
async fn pagination_of_instances() {
    let (r, _) = emulator().await;
    let c = client(&r);
    let names: Vec<String> = (0..23).map(|i| format!("node-{i:02}")).collect();
    c.create_instances()
        .set_instance_names(Some(names.clone()))
        .availability_zone("us-east-1c")
        .blueprint_id("ubuntu_22_04")
        .bundle_id("micro_3_0")
        .send()
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut token = None;
    let mut pages = 0;
    loop {
        let out = c
            .get_instances()
            .set_page_token(token)
            .send()
            .await
            .unwrap();
        pages += 1;
        seen.extend(
            out.instances()
                .iter()
                .map(|i| i.name().unwrap().to_string()),
        );
        token = out.next_page_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, names);
    r.stop().await;
}

#[tokio::test]
async fn signatures_are_verified() {
    let (r, _) = emulator().await;
    let wrong_secret = client_with(&r, "us-east-1", DEFAULT_ACCESS_KEY, "not-the-secret", 1);
    let err = wrong_secret.get_regions().send().await.unwrap_err();
    assert_eq!(
        err.as_service_error()
            .and_then(|e| aws_smithy_types::error::metadata::ProvideErrorMetadata::code(e)),
        Some("InvalidSignatureException")
    );
    let unknown = client_with(&r, "us-east-1", "AKIAUNKNOWN", "x", 1);
    let err = unknown.get_regions().send().await.unwrap_err();
    assert_eq!(
        err.as_service_error()
            .and_then(|e| aws_smithy_types::error::metadata::ProvideErrorMetadata::code(e)),
        Some("UnrecognizedClientException")
    );
    r.stop().await;
}

#[tokio::test]
async fn state_is_kept_per_account_and_region() {
    let (r, _) = emulator().await;
    create(&client(&r), &["here"], "us-east-1a").await;
    let other_region = client_with(&r, "eu-west-2", DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, 1);
    assert!(other_region
        .get_instances()
        .send()
        .await
        .unwrap()
        .instances()
        .is_empty());
    let other_account = client_with(&r, "us-east-1", "AKIASECONDACCOUNT001", "second-secret", 1);
    assert!(other_account
        .get_instances()
        .send()
        .await
        .unwrap()
        .instances()
        .is_empty());
    let i = client(&r)
        .get_instance()
        .instance_name("here")
        .send()
        .await
        .unwrap()
        .instance
        .unwrap();
    assert!(i
        .arn()
        .unwrap()
        .starts_with("arn:aws:lightsail:us-east-1:123456789012:Instance/"));
    r.stop().await;
}

fn fault(r: &Running, f: Fault) {
    r.emulator.state.lock().unwrap().faults.push(f);
}

fn calls(r: &Running, op: &str) -> u64 {
    r.emulator
        .state
        .lock()
        .unwrap()
        .calls
        .get(op)
        .copied()
        .unwrap_or(0)
}

#[tokio::test]
async fn injected_throttling_and_503_are_retried_by_the_sdk() {
    let (r, _) = emulator().await;
    let c = client(&r);
    fault(
        &r,
        Fault::new("Lightsail.GetRegions", FaultKind::Throttling).with_count(Some(2)),
    );
    c.get_regions()
        .send()
        .await
        .expect("third attempt succeeds");
    assert_eq!(calls(&r, "Lightsail.GetRegions"), 3);
    fault(
        &r,
        Fault::new("Lightsail.GetBundles", FaultKind::ServiceUnavailable).with_count(Some(1)),
    );
    c.get_bundles().send().await.expect("retried after 503");
    assert_eq!(calls(&r, "Lightsail.GetBundles"), 2);
    fault(
        &r,
        Fault::new("Lightsail.GetBlueprints", FaultKind::InternalFailure).with_count(None),
    );
    let err = client_with(&r, "us-east-1", DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, 1)
        .get_blueprints()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(500));
    r.stop().await;
}

#[tokio::test]
async fn injected_failed_operation_surfaces_its_error_code() {
    let (r, clock) = emulator().await;
    let c = client(&r);
    fault(
        &r,
        Fault::new(
            "Lightsail.CreateInstances",
            FaultKind::FailOperation {
                error_code: "InsufficientCapacity".into(),
                error_details: "us-east-1a is out of nano_3_0".into(),
            },
        )
        .with_count(Some(1)),
    );
    let ops = create(&c, &["doomed"], "us-east-1a").await;
    clock.advance(1.0);
    let op = c
        .get_operation()
        .operation_id(ops[0].id().unwrap())
        .send()
        .await
        .unwrap()
        .operation
        .unwrap();
    assert_eq!(op.status().map(|s| s.as_str()), Some("Failed"));
    assert_eq!(op.error_code(), Some("InsufficientCapacity"));
    assert_eq!(op.error_details(), Some("us-east-1a is out of nano_3_0"));
    r.stop().await;
}

#[tokio::test]
async fn load_balancer_lifecycle() {
    let (r, clock) = emulator().await;
    let c = client(&r);
    create(&c, &["app-1", "app-2"], "us-east-1a").await;
    c.create_load_balancer()
        .load_balancer_name("front")
        .instance_port(8080)
        .health_check_path("/healthz")
        .send()
        .await
        .unwrap();
    let lb = c
        .get_load_balancer()
        .load_balancer_name("front")
        .send()
        .await
        .unwrap()
        .load_balancer
        .unwrap();
    assert_eq!(lb.state().map(|s| s.as_str()), Some("provisioning"));
    assert_eq!(lb.instance_port(), Some(8080));
    assert!(lb
        .dns_name()
        .unwrap()
        .ends_with(".us-east-1.elb.amazonaws.com"));
    clock.advance(1.0);
    assert_eq!(
        c.get_load_balancer()
            .load_balancer_name("front")
            .send()
            .await
            .unwrap()
            .load_balancer
            .unwrap()
            .state()
            .map(|s| s.as_str()),
        Some("active")
    );
    c.update_load_balancer_attribute()
        .load_balancer_name("front")
        .attribute_name("SessionStickinessEnabled".into())
        .attribute_value("true")
        .send()
        .await
        .unwrap();
    let bad = c
        .update_load_balancer_attribute()
        .load_balancer_name("front")
        .attribute_name("HealthCheckPath".into())
        .attribute_value("nope")
        .send()
        .await
        .unwrap_err();
    assert!(bad.as_service_error().unwrap().is_invalid_input_exception());
    c.attach_instances_to_load_balancer()
        .load_balancer_name("front")
        .instance_names("app-1")
        .instance_names("app-2")
        .send()
        .await
        .unwrap();
    let lb = c
        .get_load_balancer()
        .load_balancer_name("front")
        .send()
        .await
        .unwrap()
        .load_balancer
        .unwrap();
    assert_eq!(
        lb.configuration_options()
            .unwrap()
            .get(&aws_sdk_lightsail::types::LoadBalancerAttributeName::SessionStickinessEnabled)
            .map(String::as_str),
        Some("true")
    );
    let health: Vec<_> = lb
        .instance_health_summary()
        .iter()
        .map(|h| {
            (
                h.instance_name().unwrap().to_string(),
                h.instance_health().unwrap().as_str().to_string(),
            )
        })
        .collect();
    assert_eq!(health.len(), 2);
    assert!(
        health.iter().all(|(_, h)| h == "initial"),
        "no data plane yet, so never healthy: {health:?}"
    );
    c.detach_instances_from_load_balancer()
        .load_balancer_name("front")
        .instance_names("app-1")
        .send()
        .await
        .unwrap();
    let lbs = c
        .get_load_balancers()
        .send()
        .await
        .unwrap()
        .load_balancers
        .unwrap();
    assert_eq!(lbs[0].instance_health_summary().len(), 1);
    c.delete_load_balancer()
        .load_balancer_name("front")
        .send()
        .await
        .unwrap();
    let err = c
        .get_load_balancer()
        .load_balancer_name("front")
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_not_found_exception());
    r.stop().await;
}

#[tokio::test]
async fn realistic_profile_takes_its_documented_time() {
    let clock = ManualClock::new(T0);
    let r = start(
        Emulator::new(LatencyProfile::realistic(), Arc::new(clock.clone())),
        0,
    )
    .await
    .unwrap();
    let c = client(&r);
    let ops = create(&c, &["slow-1"], "us-east-1a").await;
    let state = |c: Client| async move {
        c.get_instance_state()
            .instance_name("slow-1")
            .send()
            .await
            .unwrap()
            .state
            .unwrap()
            .name()
            .unwrap()
            .to_string()
    };
    clock.advance(19.0);
    assert_eq!(state(c.clone()).await, "pending", "realistic boot is 20s");
    let op = c
        .get_operation()
        .operation_id(ops[0].id().unwrap())
        .send()
        .await
        .unwrap()
        .operation
        .unwrap();
    assert_eq!(
        op.status().map(|s| s.as_str()),
        Some("Succeeded"),
        "realistic operations end after 2s"
    );
    clock.advance(1.5);
    assert_eq!(state(c.clone()).await, "running");
    r.stop().await;
}

#[tokio::test]
async fn latency_profiles_are_documented_numbers() {
    let fast = LatencyProfile::fast();
    let real = LatencyProfile::realistic();
    assert!(fast.instance_boot < 1.0 && fast.operation < 1.0);
    assert!(real.instance_boot >= 10.0 * fast.instance_boot);
    assert_eq!(LatencyProfile::by_name("realistic"), Some(real));
    assert_eq!(LatencyProfile::by_name("slow"), None);
}

/// Chaos: every operation fails at random (20%, seeded), and a client that retries, as the
/// provider does, still gets every call through; the counts show what was injected.
#[tokio::test]
async fn random_faults_at_a_rate_are_retried_and_counted() {
    let (r, _) = emulator().await;
    let c = client_with(&r, "us-east-1", DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, 6);
    for (seed, kind) in ["throttling", "service_unavailable", "internal_failure"]
        .iter()
        .enumerate()
    {
        let (st, j) = hastack_local::server::admin(
            &r.emulator,
            "POST",
            "faults",
            serde_json::json!({"operation": "*", "fault": kind, "rate": 0.1, "seed": 40 + seed}),
        )
        .await;
        assert_eq!(st, 200, "{j}");
    }
    let names: Vec<String> = (0..6).map(|i| format!("chaos-{i}")).collect();
    for n in &names {
        create(&c, &[n.as_str()], "us-east-1a").await;
    }
    c.create_load_balancer()
        .load_balancer_name("chaos-lb")
        .instance_port(80)
        .send()
        .await
        .unwrap();
    c.attach_instances_to_load_balancer()
        .load_balancer_name("chaos-lb")
        .set_instance_names(Some(names.clone()))
        .send()
        .await
        .unwrap();
    for _ in 0..10 {
        for n in &names {
            c.get_instance().instance_name(n).send().await.unwrap();
        }
    }
    let lb = c
        .get_load_balancer()
        .load_balancer_name("chaos-lb")
        .send()
        .await
        .unwrap();
    assert_eq!(lb.load_balancer.unwrap().instance_health_summary().len(), 6);
    let (_, injected) =
        hastack_local::server::admin(&r.emulator, "GET", "faults/injected", serde_json::json!({}))
            .await;
    let total: u64 = injected
        .as_object()
        .unwrap()
        .values()
        .flat_map(|kinds| kinds.as_object().unwrap().values())
        .map(|n| n.as_u64().unwrap())
        .sum();
    let kinds: std::collections::BTreeSet<&str> = injected
        .as_object()
        .unwrap()
        .values()
        .flat_map(|k| k.as_object().unwrap().keys().map(String::as_str))
        .collect();
    // 69 successful calls at about 27% faults per attempt: some dozen injected, of every kind.
    assert!(total >= 10, "only {total} faults injected: {injected}");
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["internal_failure", "service_unavailable", "throttling"]
    );
    let all_calls: u64 = r.emulator.state.lock().unwrap().calls.values().sum();
    assert_eq!(
        all_calls,
        69 + total,
        "every fault cost one retried attempt"
    );
    r.stop().await;
}

/// Lightsail refuses bad tags, port 0 and empty names at the API, with InvalidInputException.
#[tokio::test]
async fn lightsail_validates_tags_ports_and_names() {
    let (r, _) = emulator().await;
    let c = client(&r);
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build();
    let many: Vec<Tag> = (0..51).map(|i| tag(&format!("k{i}"), "v")).collect();
    let cases: Vec<(&str, Vec<Tag>)> = vec![
        ("51 tags", many),
        ("empty key", vec![tag("", "v")]),
        ("key of 129", vec![tag(&"k".repeat(129), "v")]),
        ("value of 257", vec![tag("k", &"v".repeat(257))]),
        (
            "aws: prefix",
            vec![tag("aws:cloudformation:stack-name", "v")],
        ),
        ("AWS: prefix", vec![tag("AWS:thing", "v")]),
    ];
    let invalid = |e: &aws_sdk_lightsail::error::SdkError<_, _>| -> bool {
        matches!(e, aws_sdk_lightsail::error::SdkError::ServiceError(_))
    };
    for (name, tags) in &cases {
        let e = c
            .create_instances()
            .instance_names("tagged")
            .availability_zone("us-east-1a")
            .blueprint_id("debian_12")
            .bundle_id("nano_3_0")
            .set_tags(Some(tags.clone()))
            .send()
            .await
            .unwrap_err();
        assert!(invalid(&e), "{name}");
        assert!(
            e.into_service_error().is_invalid_input_exception(),
            "create instances: {name}"
        );
        let e = c
            .create_load_balancer()
            .load_balancer_name("tagged-lb")
            .instance_port(80)
            .set_tags(Some(tags.clone()))
            .send()
            .await
            .unwrap_err();
        assert!(
            e.into_service_error().is_invalid_input_exception(),
            "create load balancer: {name}"
        );
    }
    // The limits themselves are fine.
    let fifty: Vec<Tag> = (0..50)
        .map(|i| tag(&format!("{i:0>128}"), &"v".repeat(256)))
        .collect();
    c.create_load_balancer()
        .load_balancer_name("full")
        .instance_port(80)
        .set_tags(Some(fifty))
        .send()
        .await
        .unwrap();
    // TagResource counts the tags the resource already has.
    let e = c
        .tag_resource()
        .resource_name("full")
        .tags(tag("one-more", "v"))
        .send()
        .await
        .unwrap_err();
    assert!(e.into_service_error().is_invalid_input_exception());
    let e = c
        .create_load_balancer()
        .load_balancer_name("port-zero")
        .instance_port(0)
        .send()
        .await
        .unwrap_err();
    assert!(e.into_service_error().is_invalid_input_exception());
    for (lb, names) in [
        ("", vec!["web".to_string()]),
        ("full", vec![]),
        ("full", vec![String::new()]),
    ] {
        let e = c
            .attach_instances_to_load_balancer()
            .load_balancer_name(lb)
            .set_instance_names(Some(names.clone()))
            .send()
            .await
            .unwrap_err();
        assert!(
            e.into_service_error().is_invalid_input_exception(),
            "attach {lb:?} {names:?}"
        );
        let e = c
            .detach_instances_from_load_balancer()
            .load_balancer_name(lb)
            .set_instance_names(Some(names.clone()))
            .send()
            .await
            .unwrap_err();
        assert!(
            e.into_service_error().is_invalid_input_exception(),
            "detach {lb:?} {names:?}"
        );
    }
    r.stop().await;
}

/// Failed operations at a rate: the call succeeds, and about that share of the operations it
/// returns end Failed with the fault's code; the count of injected faults says how many.
#[tokio::test]
async fn failed_operations_at_a_rate_are_counted() {
    let (r, clock) = emulator().await;
    let c = client(&r);
    let (st, j) = hastack_local::server::admin(
        &r.emulator,
        "POST",
        "faults",
        serde_json::json!({"operation": "Lightsail.CreateInstances", "fault": "fail_operation", "rate": 0.5, "seed": 3, "error_code": "InsufficientCapacity", "error_details": "zone full"}),
    )
    .await;
    assert_eq!(st, 200, "{j}");
    let mut ids = Vec::new();
    for i in 0..20 {
        let ops = create(&c, &[format!("rated-{i}").as_str()], "us-east-1b").await;
        ids.push(ops[0].id().unwrap().to_string());
    }
    clock.advance(1.0);
    let mut failed = 0;
    for id in &ids {
        let op = c
            .get_operation()
            .operation_id(id)
            .send()
            .await
            .unwrap()
            .operation
            .unwrap();
        if op.status().map(|s| s.as_str()) == Some("Failed") {
            assert_eq!(op.error_code(), Some("InsufficientCapacity"));
            failed += 1;
        }
    }
    let (_, injected) =
        hastack_local::server::admin(&r.emulator, "GET", "faults/injected", serde_json::json!({}))
            .await;
    assert_eq!(
        injected["Lightsail.CreateInstances"]["fail_operation"], failed,
        "{injected}"
    );
    assert!((4..=16).contains(&failed), "{failed} of 20 at rate 0.5");
    r.stop().await;
}
