//! The data-tier sidecar, one design for both replica groups: HAProxy on each app instance's
//! loopback routes to the current primary (Redis `127.0.0.1:6379`; MariaDB `127.0.0.1:3306`
//! writes and `:3307` reads), so apps never know an address and follow a failover within a
//! second. A replica group exports its [`Sidecar`] as a computed `sidecar` attribute; a
//! `hastack_lightsail_ha_instance` lists the ones its app uses in `sidecars`, and the fleet
//! applies them over Run Command: in place on every member, and on each new member right
//! after it registers (before any load balancer sees it).
use base64::Engine;
use serde::{Deserialize, Serialize};
use tfplugin::Type;

const TEMPLATE: &str = include_str!("sidecar.sh");

/// What an app instance needs to reach one replica group.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sidecar {
    /// The replica group's name.
    pub name: String,
    /// `redis` or `mariadb`.
    pub engine: String,
    /// The members' private addresses.
    pub backends: Vec<String>,
    /// The SecureString the health check authenticates with (Redis), or empty.
    pub auth_parameter: String,
}

pub fn sidecar_type() -> Type {
    Type::object([
        ("name", Type::String),
        ("engine", Type::String),
        ("backends", Type::list(Type::String)),
        ("auth_parameter", Type::String),
    ])
}

pub const ENGINES: [&str; 2] = ["redis", "mariadb"];

/// The loopback ports an engine's sidecar listens on.
pub fn ports(engine: &str) -> &'static [u16] {
    match engine {
        "redis" => &[6379],
        "mariadb" => &[3306, 3307],
        _ => &[],
    }
}

/// Problems of a `sidecars` list: unknown engines, unsafe values, two on the same port.
pub fn problems(list: &[Sidecar]) -> Vec<(usize, String)> {
    let safe = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./:".contains(c))
    };
    let mut out = Vec::new();
    for (i, s) in list.iter().enumerate() {
        if !ENGINES.contains(&s.engine.as_str()) {
            out.push((
                i,
                format!("engine {:?} is not one of {ENGINES:?}", s.engine),
            ));
        }
        if !safe(&s.name) {
            out.push((i, format!("name {:?} is not a replica group name", s.name)));
        }
        if let Some(b) = s.backends.iter().find(|b| !safe(b)) {
            out.push((i, format!("backend {b:?} is not an address")));
        }
        if !s.auth_parameter.is_empty() && !safe(&s.auth_parameter) {
            out.push((
                i,
                format!(
                    "auth_parameter {:?} is not a parameter name",
                    s.auth_parameter
                ),
            ));
        }
        if let Some(j) = list[..i].iter().position(|o| {
            ports(&o.engine)
                .iter()
                .any(|p| ports(&s.engine).contains(p))
        }) {
            out.push((
                i,
                format!(
                    "{} and sidecars[{j}] ({}) would listen on the same loopback port {:?}: an app instance can use one replica group per engine",
                    s.name, list[j].name, ports(&s.engine)
                ),
            ));
        }
    }
    out
}

/// The Run Command script that makes a member's sidecar `list` (an empty list removes it).
pub fn render(region: &str, list: &[Sidecar]) -> String {
    let json = serde_json::to_string(list).expect("sidecars serialize");
    let encoded = base64::engine::general_purpose::STANDARD.encode(json);
    let wrapped: Vec<&str> = encoded
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
        .collect();
    TEMPLATE
        .replace("@REGION@", region)
        .replace("@SPEC_B64@", &wrapped.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redis(name: &str) -> Sidecar {
        Sidecar {
            name: name.into(),
            engine: "redis".into(),
            backends: vec!["198.18.0.5".into()],
            auth_parameter: "/hastack/redis/cache/auth-token".into(),
        }
    }

    #[test]
    fn the_script_carries_the_list_and_no_secret() {
        let s = render("us-east-1", &[redis("cache")]);
        assert!(s.contains("REGION='us-east-1'"));
        let b64: String = s
            .split("<<'HASTACK_SIDECARS'\n")
            .nth(1)
            .unwrap()
            .lines()
            .take_while(|l| *l != "HASTACK_SIDECARS")
            .collect();
        let back: Vec<Sidecar> = serde_json::from_slice(
            &base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(back, vec![redis("cache")]);
    }

    #[test]
    fn two_of_one_engine_collide() {
        let p = problems(&[redis("a"), redis("b")]);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].0, 1);
        assert!(p[0].1.contains("same loopback port"), "{}", p[0].1);
        let mut bad = redis("c");
        bad.engine = "memcached".into();
        bad.backends = vec!["1.2.3.4; rm -rf /".into()];
        let p = problems(&[bad]);
        assert_eq!(p.len(), 2, "{p:?}");
    }
}
