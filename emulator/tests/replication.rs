//! Real servers replicating between real hosts, set up only through Run Command: MariaDB on
//! host B replicates from MariaDB on host A, and Redis on B from Redis on A, across the bridge.
//! Needs root, namespaces and the Debian packages (scripts/setup.sh); says so and skips otherwise.
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_ssm::Client as Ssm;
use common::*;
use hastack_local::clock::SystemClock;
use hastack_local::profile::LatencyProfile;
use hastack_local::server::start;
use hastack_local::Emulator;

/// Run a shell script on a node through Run Command; its stdout, or a panic with its output.
async fn run(ssm: &Ssm, node: &str, script: &str) -> String {
    let id = ssm
        .send_command()
        .document_name("AWS-RunShellScript")
        .instance_ids(node)
        .parameters("commands", vec![script.to_string()])
        .send()
        .await
        .unwrap()
        .command
        .unwrap()
        .command_id
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let inv = ssm
            .get_command_invocation()
            .command_id(&id)
            .instance_id(node)
            .send()
            .await
            .unwrap();
        match inv.status().map(|s| s.as_str()) {
            Some("Success") => return inv.standard_output_content().unwrap_or("").to_string(),
            Some("Pending") | Some("InProgress") => {}
            other => panic!(
                "command on {node} ended {other:?}:\n{}\n{}",
                inv.standard_output_content().unwrap_or(""),
                inv.standard_error_content().unwrap_or("")
            ),
        }
        assert!(
            Instant::now() < deadline,
            "command on {node} did not finish"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn poll(ssm: &Ssm, node: &str, script: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = run(ssm, node, script).await;
        if out.trim() == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{script:?} on {node} gave {out:?}, want {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn have(bin: &str) -> bool {
    ["/usr/sbin", "/usr/bin"]
        .iter()
        .any(|d| std::path::Path::new(d).join(bin).exists())
}

/// A MariaDB server configuration file written on a host.
fn mariadb_config(server_id: u32, extra: &str) -> String {
    format!(
        "printf '[mysqld]\\nbind-address = 0.0.0.0\\nserver-id = {server_id}\\n{extra}' > /etc/mysql/mariadb.conf.d/60-hastack.cnf"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_and_redis_replicate_between_hosts() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::new(LatencyProfile::fast(), Arc::new(SystemClock))
        .with_hosts(dir.path().to_path_buf());
    if let Err(reason) = emu.hosts.availability() {
        cannot_run("mariadb_and_redis_replicate_between_hosts", &reason);
        return;
    }
    if !have("mariadbd") || !have("redis-server") {
        cannot_run(
            "mariadb_and_redis_replicate_between_hosts",
            "mariadb-server and redis-server are not installed (run scripts/setup.sh)",
        );
        return;
    }
    let r = start(emu, 0).await.unwrap();
    let conf = sdk_config(&r);
    let ls = aws_sdk_lightsail::Client::new(&conf);
    let ssm = Ssm::new(&conf);
    let act = ssm
        .create_activation()
        .iam_role("HastackSSMRole")
        .registration_limit(2)
        .send()
        .await
        .unwrap();
    let user_data = format!(
        "#!/bin/bash\nset -euo pipefail\namazon-ssm-agent -register -code {} -id {} -region us-east-1\nsystemctl enable --now amazon-ssm-agent\n",
        act.activation_code.unwrap(),
        act.activation_id.unwrap()
    );
    for (name, zone) in [("db-a", "us-east-1a"), ("db-b", "us-east-1b")] {
        ls.create_instances()
            .instance_names(name)
            .availability_zone(zone)
            .blueprint_id("debian_12")
            .bundle_id("small_3_0")
            .user_data(&user_data)
            .send()
            .await
            .unwrap();
    }
    let nodes = managed_nodes(&ssm, 2).await;
    let node = |host: &str| {
        nodes
            .iter()
            .find(|n| n.computer_name() == Some(host))
            .unwrap()
            .instance_id()
            .unwrap()
            .to_string()
    };
    let (a, b) = (node("db-a"), node("db-b"));
    let a_ip = ls
        .get_instance()
        .instance_name("db-a")
        .send()
        .await
        .unwrap()
        .instance
        .unwrap()
        .private_ip_address()
        .unwrap()
        .to_string();

    // MariaDB: A is the primary with a binary log, B replicates from it by GTID.
    let primary = format!(
        "{}\nsystemctl start mariadb\nmysql -e \"CREATE USER 'repl'@'%' IDENTIFIED BY 'repl-test-only'; GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%'; CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v TEXT); INSERT INTO app.t VALUES (1, 'first');\"\necho ok",
        mariadb_config(1, "log_bin = /var/lib/mysql/mysql-bin\\n")
    );
    assert_eq!(run(&ssm, &a, &primary).await.lines().last(), Some("ok"));
    let replica = format!(
        "{}\nsystemctl start mariadb\nmysql -e \"CHANGE MASTER TO MASTER_HOST='{a_ip}', MASTER_USER='repl', MASTER_PASSWORD='repl-test-only', MASTER_USE_GTID=slave_pos; START SLAVE;\"\necho ok",
        mariadb_config(2, "read_only = 1\\n")
    );
    assert_eq!(run(&ssm, &b, &replica).await.lines().last(), Some("ok"));
    run(
        &ssm,
        &a,
        "mysql -e \"INSERT INTO app.t VALUES (2, 'written on A')\"",
    )
    .await;
    poll(
        &ssm,
        &b,
        "mysql -N -e 'SELECT v FROM app.t WHERE id = 2' 2>/dev/null || true",
        "written on A",
    )
    .await;
    poll(
        &ssm,
        &b,
        "mysql -e 'SHOW SLAVE STATUS\\G' | awk '/Slave_IO_Running:|Slave_SQL_Running:/ {print $2}' | tr '\\n' ' '",
        "Yes Yes",
    )
    .await;
    assert_eq!(
        run(&ssm, &b, "hostname").await.trim(),
        "db-b",
        "B is its own machine"
    );

    // Redis: B replicates from A.
    run(&ssm, &a, "redis-server --bind 0.0.0.0 --protected-mode no --daemonize yes --dir /var/lib/redis && sleep 0.5 && redis-cli set greeting from-a").await;
    run(
        &ssm,
        &b,
        &format!("redis-server --bind 0.0.0.0 --protected-mode no --daemonize yes --dir /var/lib/redis --replicaof {a_ip} 6379"),
    )
    .await;
    poll(&ssm, &b, "redis-cli get greeting", "from-a").await;
    poll(
        &ssm,
        &b,
        "redis-cli info replication | tr -d '\\r' | grep -E '^(role|master_link_status):' | cut -d: -f2 | tr '\\n' ' '",
        "slave up",
    )
    .await;
    run(&ssm, &a, "redis-cli set greeting again").await;
    poll(&ssm, &b, "redis-cli get greeting", "again").await;
    r.stop().await;
}
