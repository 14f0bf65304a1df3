//! examples/web-tier through Terraform on hastack-local with hosts: traffic through the load
//! balancer survives a killed host, a partitioned host, a stopped host and a failed zone, the
//! next apply restores a deleted instance, and a rolling replacement keeps serving with at
//! least count − 1 healthy instances.
mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use acceptance_tests::{State, Step};
use common::{block_on, hosts_emulator, http_get, lb_port, lightsail_on, web_tier, with_emulator};
use serde_json::json;

/// What a traffic run saw: per request (when it was sent, body or error), and the fewest healthy
/// instances the load balancer reported while it ran.
#[derive(Default)]
struct Seen {
    requests: Vec<(Instant, Result<String, String>)>,
    min_healthy: Option<usize>,
}

/// Requests through the load balancer every 50 ms (at most 4000, at most 240 s) until stopped.
struct Traffic {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Seen>>,
    thread: Option<JoinHandle<()>>,
}

impl Traffic {
    fn start(lb: u16, api: u16) -> Traffic {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (s, out) = (stop.clone(), seen.clone());
        let thread = std::thread::spawn(move || {
            let c = lightsail_on(api);
            let started = Instant::now();
            for i in 0..4000 {
                if s.load(Ordering::Relaxed) || started.elapsed() > Duration::from_secs(240) {
                    break;
                }
                let sent = Instant::now();
                let r = http_get(lb, "/");
                out.lock().unwrap().requests.push((sent, r));
                if i % 5 == 0 {
                    let healthy = lb_health(&c)
                        .ok()
                        .map(|h| h.iter().filter(|(_, x)| x == "healthy").count());
                    if let Some(h) = healthy {
                        let mut o = out.lock().unwrap();
                        o.min_healthy = Some(o.min_healthy.map_or(h, |m| m.min(h)));
                    }
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        Traffic {
            stop,
            seen,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> Seen {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

/// (instance, health) of every instance attached to web-lb, as Lightsail reports it.
fn lb_health(c: &aws_sdk_lightsail::Client) -> Result<Vec<(String, String)>, String> {
    let lbo = block_on(c.get_load_balancer().load_balancer_name("web-lb").send())
        .map_err(|e| format!("{e:?}"))?
        .load_balancer
        .ok_or("no load balancer")?;
    Ok(lbo
        .instance_health_summary()
        .iter()
        .map(|h| {
            (
                h.instance_name().unwrap_or("").to_string(),
                h.instance_health()
                    .map(|x| x.as_str().to_string())
                    .unwrap_or_default(),
            )
        })
        .collect())
}

/// The SSM managed node id of member `name` in the state.
fn node_of(s: &State, name: &str) -> Result<String, String> {
    s.resource("hastack_lightsail_ha_instance.web")
        .and_then(|r| r["instances"].as_array().cloned())
        .ok_or("no instances")?
        .iter()
        .find(|i| i["name"] == name)
        .and_then(|i| i["ssm_instance_id"].as_str().map(str::to_string))
        .ok_or(format!("no member {name}"))
}

fn members(s: &State) -> Result<Vec<(String, String)>, String> {
    Ok(s.resource("hastack_lightsail_ha_instance.web")
        .and_then(|r| r["instances"].as_array().cloned())
        .ok_or("no instances")?
        .iter()
        .map(|i| {
            (
                i["name"].as_str().unwrap_or("").into(),
                i["zone"].as_str().unwrap_or("").into(),
            )
        })
        .collect())
}

/// An admin call to hastack-local that must answer 200.
fn host_admin(api: u16, path: &str, body: serde_json::Value) -> Result<(), String> {
    let (code, out) = acceptance_tests::emulator::Emulator::admin_on(api)("POST", path, &body);
    if code != 200 {
        return Err(format!("{path}: {out}"));
    }
    Ok(())
}

/// Requests through the load balancer while `inject` takes `victim` down: the load balancer
/// must report it unhealthy within 20 s, and from then on (3 s more) every request is answered
/// and none by the victim. Prints the figures: detection time, requests, failures before
/// detection.
fn under_load(
    api: u16,
    lb: u16,
    victim: &str,
    fault: &str,
    inject: impl FnOnce() -> Result<(), String>,
) -> Result<(), String> {
    let traffic = Traffic::start(lb, api);
    std::thread::sleep(Duration::from_secs(1));
    inject()?;
    let injected = Instant::now();
    let c = lightsail_on(api);
    let detected = loop {
        let sick = lb_health(&c)?
            .iter()
            .any(|(n, h)| n == victim && h == "unhealthy");
        if sick {
            break Instant::now();
        }
        if injected.elapsed() > Duration::from_secs(20) {
            traffic.finish();
            return Err(format!("{fault}: {victim} never became unhealthy"));
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    std::thread::sleep(Duration::from_secs(3));
    let seen = traffic.finish();
    let failed_before = seen
        .requests
        .iter()
        .filter(|(t, r)| *t < detected && r.is_err())
        .count();
    let after: Vec<&(Instant, Result<String, String>)> = seen
        .requests
        .iter()
        .filter(|(t, _)| *t >= detected)
        .collect();
    let failed_after = after.iter().filter(|(_, r)| r.is_err()).count();
    let to_victim = after
        .iter()
        .filter(|(_, r)| r.as_ref().is_ok_and(|b| b.starts_with(victim)))
        .count();
    acceptance_tests::figure!(
        "{fault}: detected unhealthy after {:?}; {} requests, {failed_before} failed before \
         detection, {} after detection with {failed_after} failed and {to_victim} answered by {victim}",
        detected - injected,
        seen.requests.len(),
        after.len()
    );
    if failed_after > 0 || to_victim > 0 || after.len() < 20 {
        return Err(format!(
            "{fault}: after detection {failed_after} failed, {to_victim} to {victim}, {} requests",
            after.len()
        ));
    }
    Ok(())
}

/// 30 requests through the load balancer: all answered, by instances in ≥ 2 zones.
fn serves_from_zones(lb: u16, s: &State, version: &str) -> Result<(), String> {
    let members = members(s)?;
    let mut zones = std::collections::BTreeSet::new();
    for _ in 0..30 {
        let body = http_get(lb, "/")?;
        let (host, v) = body.split_once(' ').ok_or(format!("response {body:?}"))?;
        if v != format!("v{version}") {
            return Err(format!("response {body:?}, want version {version}"));
        }
        let zone = members
            .iter()
            .find(|(n, _)| n == host)
            .map(|(_, z)| z.clone())
            .ok_or(format!("{host} is not a member: {members:?}"))?;
        zones.insert(zone);
    }
    if zones.len() < 2 {
        return Err(format!("answers came from zones {zones:?} only"));
    }
    Ok(())
}

#[test]
fn web_tier_survives_a_killed_host_and_restores_a_deleted_instance() {
    if !acceptance_tests::enabled() {
        return;
    }
    let Some((_hosts, e)) = hosts_emulator() else {
        return;
    };
    let api = e.port;
    let lb = Arc::new(Mutex::new(0u16));
    let traffic: Arc<Mutex<Option<Traffic>>> = Arc::default();
    let before: Arc<Mutex<Vec<String>>> = Arc::default();
    let (lb1, lb2, lb3) = (lb.clone(), lb.clone(), lb.clone());
    let (t1, t2, t3, t4) = (
        traffic.clone(),
        traffic.clone(),
        traffic.clone(),
        traffic.clone(),
    );
    let lb4 = lb.clone();
    // The example with an app that never serves, and a short update timeout.
    let broken = web_tier()
        .replace("systemctl enable --now nginx", "true # nginx left off")
        .replace("update = \"40m\"", "update = \"20s\"");
    assert!(
        broken.contains("update = \"20s\"") && !broken.contains("enable --now nginx"),
        "examples/web-tier changed: adjust this test"
    );
    let emu_port = e.port;
    let lb_of = move || lb_port(emu_port);
    with_emulator("web_tier", &e)
        .step(
            Step::new(web_tier())
                .check(move |s| {
                    let port = lb_of();
                    *lb1.lock().unwrap() = port;
                    serves_from_zones(port, s, "1")?;
                    // Kill the host of member 0 while requests flow.
                    let victim = members(s)?[0].0.clone();
                    under_load(api, port, &victim, "kill", || {
                        host_admin(api, "hosts/stop", json!({"name": victim}))
                    })?;
                    let c = lightsail_on(api);
                    // Then the instance is deleted out of band: drift the next apply repairs.
                    block_on(c.delete_instance().instance_name(&victim).send()).map_err(|e| format!("{e:?}"))?;
                    Ok(())
                })
                .expect_drift(),
        )
        .step(Step::new(web_tier()).check(move |s| {
            let port = *lb2.lock().unwrap();
            if members(s)?.len() != 3 {
                return Err(format!("not restored: {:?}", members(s)?));
            }
            let r = s.resource("hastack_lightsail_lb_attachment.web").ok_or("no attachment")?;
            let health = r["instance_health"].as_object().ok_or("no health")?;
            if health.len() != 3 || health.values().any(|h| h != "healthy") {
                return Err(format!("attachment health {health:?}"));
            }
            serves_from_zones(port, s, "1")?;
            *before.lock().unwrap() = members(s)?.into_iter().map(|(n, _)| n).collect();
            // Requests keep flowing through the next step's rolling replacement.
            *t1.lock().unwrap() = Some(Traffic::start(port, api));
            Ok(())
        }))
        .step(Step::new(web_tier()).env("TF_VAR_app_version", "2").check(move |s| {
            let port = *lb3.lock().unwrap();
            let seen = t2.lock().unwrap().take().ok_or("no traffic running")?.finish();
            let failed = seen.requests.iter().filter(|(_, r)| r.is_err()).count();
            let v2 = seen.requests.iter().filter(|(_, r)| r.as_ref().is_ok_and(|b| b.ends_with("v2"))).count();
            acceptance_tests::figure!(
                "rolling replace: {} requests, {failed} failed, {v2} answered by v2, fewest healthy instances seen {:?}",
                seen.requests.len(),
                seen.min_healthy
            );
            if failed > 0 {
                return Err(format!("{failed} requests failed during the rolling replacement"));
            }
            if seen.min_healthy.unwrap_or(0) < 2 {
                return Err(format!("capacity dropped to {:?} healthy (count 3)", seen.min_healthy));
            }
            serves_from_zones(port, s, "2")?;
            // Requests keep flowing through a roll that fails and the one that resumes it.
            *t3.lock().unwrap() = Some(Traffic::start(port, api));
            Ok(())
        }))
        // A version whose instances never become healthy: the roll stops at the first one,
        // with the old instances still serving.
        .step(
            Step::new(broken)
                .env("TF_VAR_app_version", "3")
                .expect_error(r"(?s)Error updating Lightsail instances.*timed out waiting for web-0-[0-9a-f]{6} to be healthy on load balancer web-lb"),
        )
        // The fixed version: the roll resumes from the oldest instance of each index, the
        // broken one is deleted.
        .step(Step::new(web_tier()).env("TF_VAR_app_version", "3").check(move |s| {
            let port = *lb4.lock().unwrap();
            let seen = t4.lock().unwrap().take().ok_or("no traffic running")?.finish();
            let failed = seen.requests.iter().filter(|(_, r)| r.is_err()).count();
            acceptance_tests::figure!(
                "failed roll then resumed roll: {} requests, {failed} failed, fewest healthy instances seen {:?}",
                seen.requests.len(),
                seen.min_healthy
            );
            if failed > 0 {
                return Err(format!("{failed} requests failed across the failed and the resumed roll"));
            }
            if seen.min_healthy.unwrap_or(0) < 2 {
                return Err(format!("capacity dropped to {:?} healthy (count 3)", seen.min_healthy));
            }
            if members(s)?.len() != 3 {
                return Err(format!("leftovers: {:?}", members(s)?));
            }
            serves_from_zones(port, s, "3")
        }))
        .run();
    let (_, state) = e.admin("GET", "state", &json!({}));
    assert_eq!(
        state["123456789012/us-east-1"]["lightsail"]["instances"],
        json!([])
    );
}

/// Host faults under load (issue 16): with requests flowing through the load balancer, one
/// member's host partitioned (then restored: it must come back healthy), another's stopped,
/// and the third's zone failed. Each time the load balancer reports the victim unhealthy
/// within 20 s and from then on every request is answered by the others; the failures before
/// detection are counted and printed.
#[test]
fn web_tier_serves_through_host_faults() {
    if !acceptance_tests::enabled() {
        return;
    }
    let Some((_hosts, e)) = hosts_emulator() else {
        return;
    };
    let api = e.port;
    with_emulator("web_tier_host_faults", &e)
        .step(Step::new(web_tier()).check(move |s| {
            let port = lb_port(api);
            serves_from_zones(port, s, "1")?;
            let m = members(s)?;
            let (partitioned, stopped, (last, zone)) = (&m[0].0, &m[1].0, &m[2]);
            under_load(api, port, partitioned, "partition", || {
                host_admin(api, "hosts/partition", json!({"name": partitioned}))
            })?;
            host_admin(api, "hosts/restore", json!({"name": partitioned}))?;
            let c = lightsail_on(api);
            let restored = Instant::now();
            while !lb_health(&c)?
                .iter()
                .any(|(n, h)| n == partitioned && h == "healthy")
            {
                if restored.elapsed() > Duration::from_secs(30) {
                    return Err(format!(
                        "{partitioned} not healthy 30 s after its network came back"
                    ));
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            acceptance_tests::figure!(
                "partition: {partitioned} healthy again {:?} after restore",
                restored.elapsed()
            );
            under_load(api, port, stopped, "stop", || {
                host_admin(api, "hosts/stop", json!({"name": stopped}))
            })?;
            under_load(api, port, last, &format!("zone {zone}"), || {
                host_admin(api, "hosts/fail-zone", json!({"zone": zone}))
            })
        }))
        .run();
}

/// Heal: a member whose host stops is, once its SSM node has been silent past
/// `replace_unhealthy_after`, shown in the plan as a member to replace; the next apply
/// replaces it behind the health gate while requests flow through the load balancer.
#[test]
fn web_tier_heals_a_member_whose_host_stopped() {
    if !acceptance_tests::enabled() {
        return;
    }
    let Some((_hosts, e)) = hosts_emulator() else {
        return;
    };
    let api = e.port;
    let traffic: Arc<Mutex<Option<Traffic>>> = Arc::default();
    let victim: Arc<Mutex<(String, String)>> = Arc::default();
    let (t1, t2) = (traffic.clone(), traffic.clone());
    let (v1, v2) = (victim.clone(), victim.clone());
    let lb_of = move || lb_port(api);
    with_emulator("web_tier_heal", &e)
        .env("TF_VAR_heal_after", "3s")
        .step(
            Step::new(web_tier())
                .check(move |s| {
                    let port = lb_of();
                    serves_from_zones(port, s, "1")?;
                    let name = members(s)?[0].0.clone();
                    let node = node_of(s, &name)?;
                    *v1.lock().unwrap() = (name.clone(), node.clone());
                    let (code, out) = acceptance_tests::emulator::Emulator::admin_on(api)(
                        "POST",
                        "hosts/stop",
                        &json!({"name": name}),
                    );
                    if code != 200 {
                        return Err(format!("hosts/stop: {out}"));
                    }
                    // Past the grace: the node has been silent for more than 3 s.
                    let ssm = common::ssm_on(api);
                    let stopped = Instant::now();
                    loop {
                        let info = block_on(ssm.describe_instance_information().send())
                            .map_err(|e| format!("{e:?}"))?;
                        let lost = info.instance_information_list().iter().any(|i| {
                            i.instance_id() == Some(&node)
                                && i.ping_status().map(|p| p.as_str()) == Some("ConnectionLost")
                        });
                        if lost {
                            break;
                        }
                        if stopped.elapsed() > Duration::from_secs(20) {
                            return Err(
                                "the stopped member's node never lost its connection".into()
                            );
                        }
                        std::thread::sleep(Duration::from_millis(200));
                    }
                    std::thread::sleep(Duration::from_secs(4));
                    *t1.lock().unwrap() = Some(Traffic::start(port, api));
                    Ok(())
                })
                // The plan shows the member to replace (the check above stopped its host).
                .expect_drift(),
        )
        .step(Step::new(web_tier()).check(move |s| {
            let seen = t2
                .lock()
                .unwrap()
                .take()
                .ok_or("no traffic running")?
                .finish();
            let failed = seen.requests.iter().filter(|(_, r)| r.is_err()).count();
            let (name, old_node) = v2.lock().unwrap().clone();
            acceptance_tests::figure!(
                "heal: {} requests, {failed} failed, fewest healthy instances seen {:?}",
                seen.requests.len(),
                seen.min_healthy
            );
            if failed > 0 {
                return Err(format!(
                    "{failed} requests failed while the member was healed"
                ));
            }
            if members(s)?.len() != 3 {
                return Err(format!("members after heal: {:?}", members(s)?));
            }
            let node = node_of(s, &name)?;
            if node.is_empty() || node == old_node {
                return Err(format!(
                    "{name} was not replaced (node {node}, was {old_node})"
                ));
            }
            // The attachment's own state was not re-applied (same names), so ask the load
            // balancer itself.
            let health = lb_health(&lightsail_on(api))?;
            if health.len() != 3 || health.iter().any(|(_, h)| h != "healthy") {
                return Err(format!("load balancer health {health:?}"));
            }
            serves_from_zones(lb_of(), s, "1")
        }))
        .run();
}

/// Heal, load balancer side: a member whose app stops (its host and SSM agent stay up) is
/// reported unhealthy; a refresh saved by an apply records since when, a plan past
/// `replace_unhealthy_after` shows it as a member to replace, and the next apply replaces it
/// with 0 failed requests through the load balancer.
#[test]
fn web_tier_heals_a_member_the_load_balancer_reports_unhealthy() {
    if !acceptance_tests::enabled() {
        return;
    }
    let Some((_hosts, e)) = hosts_emulator() else {
        return;
    };
    let api = e.port;
    let grace = 20u64;
    let traffic: Arc<Mutex<Option<Traffic>>> = Arc::default();
    let victim: Arc<Mutex<(String, String)>> = Arc::default();
    let (t1, t2) = (traffic.clone(), traffic.clone());
    let (v1, v2) = (victim.clone(), victim.clone());
    let lb_of = move || lb_port(api);
    let health_of = move |name: &str| -> Result<String, String> {
        Ok(lb_health(&lightsail_on(api))?
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, h)| h)
            .unwrap_or_default())
    };
    with_emulator("web_tier_heal_unhealthy", &e)
        .env("TF_VAR_heal_after", &format!("{grace}s"))
        .step(Step::new(web_tier()).check(move |s| {
            let name = members(s)?[0].0.clone();
            let node = node_of(s, &name)?;
            *v1.lock().unwrap() = (name.clone(), node.clone());
            // The app stops; the host and its SSM agent stay up.
            let (status, out) = common::run_shell(api, &node, "systemctl stop nginx")?;
            if status != "Success" {
                return Err(format!("stopping nginx: {status} {out}"));
            }
            let started = Instant::now();
            while health_of(&name)? != "unhealthy" {
                if started.elapsed() > Duration::from_secs(20) {
                    return Err("the load balancer never reported the member unhealthy".into());
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            Ok(())
        }))
        // This apply's refresh records since when the member is unhealthy (nothing to change
        // yet: the grace has not passed); past the grace the plan shows it to replace.
        .step(
            Step::new(web_tier())
                .check(move |_| {
                    std::thread::sleep(Duration::from_secs(grace + 2));
                    *t1.lock().unwrap() = Some(Traffic::start(lb_of(), api));
                    Ok(())
                })
                .expect_drift(),
        )
        .step(Step::new(web_tier()).check(move |s| {
            let seen = t2.lock().unwrap().take().ok_or("no traffic running")?.finish();
            let failed = seen.requests.iter().filter(|(_, r)| r.is_err()).count();
            let (name, old_node) = v2.lock().unwrap().clone();
            acceptance_tests::figure!(
                "heal (load balancer side): {} requests, {failed} failed, fewest healthy instances seen {:?}",
                seen.requests.len(),
                seen.min_healthy
            );
            if failed > 0 {
                return Err(format!("{failed} requests failed while the member was healed"));
            }
            let node = node_of(s, &name)?;
            if node.is_empty() || node == old_node {
                return Err(format!("{name} was not replaced (node {node}, was {old_node})"));
            }
            if health_of(&name)? != "healthy" {
                return Err(format!("{name} is not healthy after the heal"));
            }
            serves_from_zones(lb_of(), s, "1")
        }))
        .run();
}
