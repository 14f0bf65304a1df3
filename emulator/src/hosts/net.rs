//! The hosts' network: one bridge, a veth pair and a namespace per host. Confined: no
//! forwarding, no NAT, no route out.
use std::process::Command;

use super::HostError;

pub const BRIDGE: &str = "hstk0";
pub const BRIDGE_IP: &str = "198.18.0.1";
/// The bridge's MAC address, set once (locally administered, "hstk" in hex). A bridge whose
/// address was never set takes the lowest of its ports' addresses, so it changed whenever a
/// host with a lower veth address came or the lowest one went; every host's neighbour entry
/// for 198.18.0.1 then pointed at an address that no longer answered, and their traffic to the
/// emulator (API calls, the agents' reports) stalled for up to a minute, until it was
/// resolved again (seen as Run Commands that did not finish while a replica group grew).
pub const BRIDGE_MAC: &str = "02:68:73:74:6b:00";

fn ip(args: &[&str]) -> Result<(), HostError> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| HostError::Command(format!("ip: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(HostError::Command(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

pub fn create_bridge() -> Result<(), HostError> {
    // A bridge left by a crashed run is reused.
    if ip(&["link", "show", BRIDGE]).is_err() {
        ip(&["link", "add", BRIDGE, "type", "bridge"])?;
    }
    ip(&["link", "set", BRIDGE, "address", BRIDGE_MAC])?;
    let _ = ip(&["addr", "add", &format!("{BRIDGE_IP}/15"), "dev", BRIDGE]);
    ip(&["link", "set", BRIDGE, "up"])
}

pub fn delete_bridge() -> Result<(), HostError> {
    ip(&["link", "del", BRIDGE])
}

pub fn create_host_net(
    netns: &str,
    veth: &str,
    private_ip: &str,
    public_ip: &str,
) -> Result<(), HostError> {
    ip(&["netns", "add", netns])?;
    ip(&[
        "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", netns,
    ])?;
    ip(&["link", "set", veth, "master", BRIDGE])?;
    ip(&["link", "set", veth, "up"])?;
    for a in [private_ip, public_ip] {
        ip(&[
            "-n",
            netns,
            "addr",
            "add",
            &format!("{a}/15"),
            "dev",
            "eth0",
        ])?;
    }
    ip(&["-n", netns, "link", "set", "lo", "up"])?;
    ip(&["-n", netns, "link", "set", "eth0", "up"])
}

pub fn delete_host_net(netns: &str, veth: &str) -> Result<(), HostError> {
    // Deleting our end deletes the pair at once (the namespace may linger until its last
    // process is gone); then the namespace's name.
    let _ = ip(&["link", "del", veth]);
    ip(&["netns", "del", netns])
}

pub fn link(veth: &str, up: bool) -> Result<(), HostError> {
    ip(&["link", "set", veth, if up { "up" } else { "down" }])
}

/// An extra address on the bridge (a load balancer's), reachable from the machine and every host.
pub fn add_bridge_address(addr: &str) -> Result<(), HostError> {
    // Left by a crashed run: take it over.
    let _ = ip(&["addr", "del", &format!("{addr}/32"), "dev", BRIDGE]);
    ip(&["addr", "add", &format!("{addr}/32"), "dev", BRIDGE])
}

pub fn del_bridge_address(addr: &str) -> Result<(), HostError> {
    ip(&["addr", "del", &format!("{addr}/32"), "dev", BRIDGE])
}
