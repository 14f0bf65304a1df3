//! Instances as real hosts: user data runs at first boot, the stand-in
//! SSM agent registers, Run Command executes inside the host, outages cut nodes off, and
//! nothing is left behind. Needs root and Linux namespaces; says so and skips otherwise.
mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_lightsail::types::Tag;
use common::*;
use hastack_local::clock::SystemClock;
use hastack_local::profile::LatencyProfile;
use hastack_local::server::start;
use hastack_local::Emulator;
use serde_json::json;

/// A plain HTTP GET to a host on the bridge, bounded in time.
fn http_get(ip: &str, port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect_timeout(
        &format!("{ip}:{port}").parse().ok()?,
        Duration::from_secs(1),
    )
    .ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {ip}\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.split_once("\r\n\r\n")
        .map(|(_, b)| b.trim().to_string())
}

/// (status, body) of a GET, or None when nothing answered.
fn http_status(addr: &str, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr.parse().ok()?, Duration::from_secs(1)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: lb\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let status = out.split_whitespace().nth(1)?.parse().ok()?;
    Some((
        status,
        out.split_once("\r\n\r\n")
            .map(|(_, b)| b.trim().to_string())
            .unwrap_or_default(),
    ))
}

async fn lb_health(ls: &aws_sdk_lightsail::Client, name: &str) -> Vec<(String, String)> {
    let lb = ls
        .get_load_balancer()
        .load_balancer_name(name)
        .send()
        .await
        .unwrap()
        .load_balancer
        .unwrap();
    lb.instance_health_summary()
        .iter()
        .map(|h| {
            (
                h.instance_name().unwrap().to_string(),
                h.instance_health().unwrap().as_str().to_string(),
            )
        })
        .collect()
}

fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn leftovers() -> Vec<String> {
    let mut found = Vec::new();
    let netns = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    found.extend(
        netns
            .lines()
            .filter(|l| l.starts_with("hstk-"))
            .map(|l| format!("netns {l}")),
    );
    let links = std::process::Command::new("ip")
        .args(["-o", "link", "show"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    found.extend(
        links
            .lines()
            .filter(|l| l.contains(" hstk"))
            .map(|l| format!("link {}", l.split(':').nth(1).unwrap_or("").trim())),
    );
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    found.extend(
        mounts
            .lines()
            .filter(|l| l.contains("hastack-"))
            .map(|l| format!("mount {l}")),
    );
    // Any process still inside a host sees the host's overlays in its mount table.
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let pid = entry.file_name().to_string_lossy().to_string();
        if pid.chars().all(|c| c.is_ascii_digit()) {
            let m = std::fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap_or_default();
            let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .map(|s| s.contains(") Z "))
                .unwrap_or(true);
            if m.contains("hastack-etc") && !zombie {
                found.push(format!(
                    "process {pid}: {}",
                    std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
                        .unwrap_or_default()
                        .replace('\0', " ")
                ));
            }
        }
    }
    found
}

fn wait_for_clean(secs: u64) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let left = leftovers();
        if left.is_empty() || Instant::now() > deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_boot_user_data_run_commands_and_clean_up() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::new(LatencyProfile::fast(), Arc::new(SystemClock))
        .with_hosts(dir.path().to_path_buf());
    if let Err(reason) = emu.hosts.availability() {
        cannot_run("hosts_boot_user_data_run_commands_and_clean_up", &reason);
        return;
    }
    let r = start(emu, 0).await.unwrap();
    let conf = sdk_config(&r);
    let ls = aws_sdk_lightsail::Client::new(&conf);
    let ssm = aws_sdk_ssm::Client::new(&conf);
    let act = ssm
        .create_activation()
        .iam_role("HastackSSMRole")
        .registration_limit(3)
        .send()
        .await
        .unwrap();
    let (code, id) = (act.activation_code.unwrap(), act.activation_id.unwrap());
    let user_data = format!(
        "#!/bin/bash\nset -euo pipefail\nmkdir -p /var/www/html\nhostname > /var/www/html/index.html\nsystemctl enable --now nginx\namazon-ssm-agent -register -code {code} -id {id} -region us-east-1\nsystemctl enable --now amazon-ssm-agent\n"
    );
    let zones = ["us-east-1a", "us-east-1b", "us-east-1c"];
    for (i, z) in zones.iter().enumerate() {
        ls.create_instances()
            .instance_names(format!("web-{}", i + 1))
            .availability_zone(*z)
            .blueprint_id("debian_12")
            .bundle_id("nano_3_0")
            .user_data(&user_data)
            .tags(Tag::builder().key("app").value("web").build())
            .send()
            .await
            .unwrap();
    }
    let hosts = hastack_local::server::admin(&r.emulator, "GET", "hosts", json!({}))
        .await
        .1;
    assert_eq!(hosts.as_array().unwrap().len(), 3, "{hosts}");
    // The bridge keeps the address it was given, whatever its ports' addresses: hosts added or
    // removed later never leave the others' neighbour entry for the emulator stale.
    let sys = |f: &str| {
        std::fs::read_to_string(format!(
            "/sys/class/net/{}/{f}",
            hastack_local::hosts::net::BRIDGE
        ))
        .unwrap_or_default()
        .trim()
        .to_string()
    };
    assert_eq!(sys("address"), hastack_local::hosts::net::BRIDGE_MAC);
    assert_eq!(
        sys("addr_assign_type"),
        "3",
        "the bridge's address must be set (NET_ADDR_SET)"
    );
    for i in 1..=3 {
        let inst = ls
            .get_instance()
            .instance_name(format!("web-{i}"))
            .send()
            .await
            .unwrap()
            .instance
            .unwrap();
        let ip = inst.private_ip_address().unwrap().to_string();
        let body = tokio::task::spawn_blocking(move || {
            wait_for("nginx from user data", 20, || http_get(&ip, 80, "/"))
        })
        .await
        .unwrap();
        assert_eq!(
            body,
            format!("web-{i}"),
            "each host serves its own hostname at its reported address"
        );
    }

    // A load balancer routes round-robin to every healthy instance.
    ls.create_load_balancer()
        .load_balancer_name("front")
        .instance_port(80)
        .health_check_path("/")
        .send()
        .await
        .unwrap();
    ls.attach_instances_to_load_balancer()
        .load_balancer_name("front")
        .instance_names("web-1")
        .instance_names("web-2")
        .instance_names("web-3")
        .send()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while !lb_health(&ls, "front")
        .await
        .iter()
        .all(|(_, h)| h == "healthy")
    {
        assert!(
            Instant::now() < deadline,
            "instances never became healthy: {:?}",
            lb_health(&ls, "front").await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let endpoint = hastack_local::server::admin(&r.emulator, "GET", "load-balancers", json!({}))
        .await
        .1[0]["endpoint"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://")
        .to_string();
    let ep = endpoint.clone();
    let seen: std::collections::BTreeSet<String> = tokio::task::spawn_blocking(move || {
        (0..30)
            .map(|_| http_status(&ep, "/").expect("answer").1)
            .collect()
    })
    .await
    .unwrap();
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        ["web-1", "web-2", "web-3"]
    );

    // One host dies while requests flow: none fails, and it is unhealthy within two checks.
    let interval = LatencyProfile::fast().health_check_interval;
    hastack_local::server::admin(&r.emulator, "POST", "hosts/stop", json!({"name": "web-2"})).await;
    let stopped_at = Instant::now();
    let ep = endpoint.clone();
    let during: Vec<Option<(u16, String)>> = tokio::task::spawn_blocking(move || {
        (0..40)
            .map(|_| {
                std::thread::sleep(Duration::from_millis(25));
                http_status(&ep, "/")
            })
            .collect()
    })
    .await
    .unwrap();
    assert!(
        during.iter().all(|r| matches!(r, Some((200, _)))),
        "failed requests while a host died: {during:?}"
    );
    loop {
        if lb_health(&ls, "front")
            .await
            .contains(&("web-2".to_string(), "unhealthy".to_string()))
        {
            break;
        }
        assert!(
            stopped_at.elapsed().as_secs_f64() < 2.0 * interval + 1.0,
            "not unhealthy within two check intervals"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ep = endpoint.clone();
    let after: Vec<String> = tokio::task::spawn_blocking(move || {
        (0..20)
            .map(|_| http_status(&ep, "/").expect("answer").1)
            .collect()
    })
    .await
    .unwrap();
    assert!(
        !after.contains(&"web-2".to_string()),
        "a dead host got traffic: {after:?}"
    );

    // Restored (enabled services start at boot), it serves again.
    hastack_local::server::admin(&r.emulator, "POST", "hosts/start", json!({"name": "web-2"}))
        .await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while !lb_health(&ls, "front")
        .await
        .iter()
        .all(|(_, h)| h == "healthy")
    {
        assert!(
            Instant::now() < deadline,
            "web-2 never recovered: {:?}",
            lb_health(&ls, "front").await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let ep = endpoint.clone();
    let back: Vec<String> = tokio::task::spawn_blocking(move || {
        (0..30)
            .map(|_| http_status(&ep, "/").expect("answer").1)
            .collect()
    })
    .await
    .unwrap();
    assert!(back.contains(&"web-2".to_string()));

    // The stand-in agents registered: three Online managed nodes.
    let nodes = managed_nodes(&ssm, 3).await;
    assert!(nodes
        .iter()
        .all(|n| n.ping_status().map(|p| p.as_str()) == Some("Online")));
    let node = nodes
        .iter()
        .find(|n| n.computer_name() == Some("web-2"))
        .unwrap()
        .instance_id()
        .unwrap()
        .to_string();

    // Run Command executes inside the host, as root, in the working directory.
    let cmd = ssm
        .send_command()
        .document_name("AWS-RunShellScript")
        .instance_ids(&node)
        .parameters(
            "commands",
            vec![
                "hostname".into(),
                "id -u".into(),
                "pwd".into(),
                "echo oops >&2".into(),
                "exit 3".into(),
            ],
        )
        .parameters("workingDirectory", vec!["/var/www".into()])
        .send()
        .await
        .unwrap()
        .command
        .unwrap()
        .command_id
        .unwrap();
    let inv = finished_invocation(&ssm, &cmd, &node).await;
    assert_eq!(inv.status().map(|s| s.as_str()), Some("Failed"));
    assert_eq!(
        inv.response_code(),
        3,
        "{:?} {:?}",
        inv.standard_output_content(),
        inv.standard_error_content()
    );
    assert_eq!(inv.standard_output_content(), Some("web-2\n0\n/var/www\n"));
    assert_eq!(inv.standard_error_content(), Some("oops\n"));

    // Isolation: a file written on web-2 is not on the machine, nor on web-1.
    let probe = ssm
        .send_command()
        .document_name("AWS-RunShellScript")
        .instance_ids(&node)
        .parameters("commands", vec!["echo private > /etc/hastack-probe".into()])
        .send()
        .await
        .unwrap();
    let probe_id = probe.command.unwrap().command_id.unwrap();
    let probed = finished_invocation(&ssm, &probe_id, &node).await;
    assert_eq!(probed.status().map(|s| s.as_str()), Some("Success"));
    assert!(
        !std::path::Path::new("/etc/hastack-probe").exists(),
        "a host wrote to the machine's /etc"
    );

    // A partitioned host: its node loses the connection, the load balancer routes around it.
    let web1 = nodes
        .iter()
        .find(|n| n.computer_name() == Some("web-1"))
        .unwrap()
        .instance_id()
        .unwrap()
        .to_string();
    let ping = |ssm: aws_sdk_ssm::Client, id: String| async move {
        let n = ssm
            .describe_instance_information()
            .send()
            .await
            .unwrap()
            .instance_information_list
            .unwrap();
        n.iter()
            .find(|x| x.instance_id() == Some(id.as_str()))
            .unwrap()
            .ping_status()
            .unwrap()
            .as_str()
            .to_string()
    };
    hastack_local::server::admin(
        &r.emulator,
        "POST",
        "hosts/partition",
        json!({"name": "web-1"}),
    )
    .await;
    assert_eq!(ping(ssm.clone(), web1.clone()).await, "ConnectionLost");
    let ep = endpoint.clone();
    let cut: Vec<Option<(u16, String)>> =
        tokio::task::spawn_blocking(move || (0..20).map(|_| http_status(&ep, "/")).collect())
            .await
            .unwrap();
    assert!(
        cut.iter()
            .all(|r| matches!(r, Some((200, b)) if b != "web-1")),
        "partitioned host got traffic or a request failed: {cut:?}"
    );
    hastack_local::server::admin(
        &r.emulator,
        "POST",
        "hosts/restore",
        json!({"name": "web-1"}),
    )
    .await;
    assert_eq!(ping(ssm.clone(), web1.clone()).await, "Online");

    // An abrupt stop: the node loses its connection and commands wait, undelivered.
    let (st, _) =
        hastack_local::server::admin(&r.emulator, "POST", "hosts/stop", json!({"name": "web-2"}))
            .await;
    assert_eq!(st, 200);
    let n = ssm
        .describe_instance_information()
        .send()
        .await
        .unwrap()
        .instance_information_list
        .unwrap();
    assert_eq!(
        n.iter()
            .find(|x| x.instance_id() == Some(node.as_str()))
            .unwrap()
            .ping_status()
            .map(|p| p.as_str()),
        Some("ConnectionLost")
    );
    let ip2 = ls
        .get_instance()
        .instance_name("web-2")
        .send()
        .await
        .unwrap()
        .instance
        .unwrap()
        .private_ip_address()
        .unwrap()
        .to_string();
    assert!(
        tokio::task::spawn_blocking(move || http_get(&ip2, 80, "/"))
            .await
            .unwrap()
            .is_none(),
        "a stopped host serves nothing"
    );
    let pending = ssm
        .send_command()
        .document_name("AWS-RunShellScript")
        .instance_ids(&node)
        .parameters("commands", vec!["true".into()])
        .send()
        .await
        .unwrap();
    let pid = pending.command.unwrap().command_id.unwrap();
    let s = ssm
        .get_command_invocation()
        .command_id(&pid)
        .instance_id(&node)
        .send()
        .await
        .unwrap();
    assert_eq!(s.status().map(|s| s.as_str()), Some("Pending"));

    // Boot output is kept for debugging.
    let views = hastack_local::server::admin(&r.emulator, "GET", "hosts", json!({}))
        .await
        .1;
    assert!(
        views.as_array().unwrap().iter().all(|h| h["boot_log"]
            .as_str()
            .unwrap()
            .contains("user data finished")),
        "{views}"
    );

    // Delete one through the API, stop the emulator: nothing is left.
    ls.delete_instance()
        .instance_name("web-3")
        .send()
        .await
        .unwrap();
    assert_eq!(
        hastack_local::server::admin(&r.emulator, "GET", "hosts", json!({}))
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        2
    );
    r.stop().await;
    // Teardown is immediate for links and mounts; processes get a moment to be reaped.
    let left = wait_for_clean(3);
    assert!(left.is_empty(), "left behind: {left:?}");
}
