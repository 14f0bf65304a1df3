//! go-plugin's handshake: the magic cookie, protocol negotiation, and the line on stdout.
use base64::Engine;

use super::env::Env;
use super::PluginError;

pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
pub const CORE_PROTOCOL_VERSION: u32 = 1;
pub const APP_PROTOCOL_VERSION: u32 = 6;

/// What a person sees when they run the provider binary by hand.
pub const NOT_A_PLUGIN_MESSAGE: &str = "\
This binary is a plugin. These are not meant to be executed directly.
Terraform starts terraform-provider-hastack itself when a configuration uses the
\"hastack\" provider. To debug it, run it with --debug and follow the printed
instructions (TF_REATTACH_PROVIDERS).";

pub fn check_cookie(env: &dyn Env) -> Result<(), PluginError> {
    match env.var(MAGIC_COOKIE_KEY) {
        Some(v) if v == MAGIC_COOKIE_VALUE => Ok(()),
        _ => Err(PluginError::NotLaunchedByTerraform),
    }
}

/// Pick protocol 6 from `PLUGIN_PROTOCOL_VERSIONS` (a comma list offered by the client).
pub fn negotiate(env: &dyn Env) -> Result<u32, PluginError> {
    let Some(offered) = env.var("PLUGIN_PROTOCOL_VERSIONS") else {
        return Ok(APP_PROTOCOL_VERSION);
    };
    let ok = offered
        .split(',')
        .filter_map(|s| s.trim().parse::<u32>().ok())
        .any(|v| v == APP_PROTOCOL_VERSION);
    if ok {
        Ok(APP_PROTOCOL_VERSION)
    } else {
        Err(PluginError::Protocol(offered))
    }
}

/// The handshake line: `1|6|unix|/tmp/plugin123|grpc|<base64 DER cert>`.
pub fn line(network: &str, address: &str, server_cert_der: Option<&[u8]>) -> String {
    let cert = server_cert_der
        .map(|c| base64::engine::general_purpose::STANDARD_NO_PAD.encode(c))
        .unwrap_or_default();
    format!("{CORE_PROTOCOL_VERSION}|{APP_PROTOCOL_VERSION}|{network}|{address}|grpc|{cert}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::env::MapEnv;

    #[test]
    fn cookie() {
        assert!(check_cookie(&MapEnv::default()).is_err());
        assert!(check_cookie(&MapEnv::default().with(MAGIC_COOKIE_KEY, "nope")).is_err());
        assert!(
            check_cookie(&MapEnv::default().with(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)).is_ok()
        );
    }

    #[test]
    fn negotiation_cases() {
        let cases = [
            ("unset", None, true),
            ("five_and_six", Some("5,6"), true),
            ("only_five", Some("5"), false),
            ("spaces", Some(" 6 "), true),
        ];
        for (name, offered, want) in cases {
            let mut env = MapEnv::default();
            if let Some(o) = offered {
                env = env.with("PLUGIN_PROTOCOL_VERSIONS", o);
            }
            assert_eq!(negotiate(&env).is_ok(), want, "{name}");
        }
    }

    #[test]
    fn line_format() {
        assert_eq!(
            line("tcp", "127.0.0.1:1234", None),
            "1|6|tcp|127.0.0.1:1234|grpc|"
        );
        assert_eq!(
            line("unix", "/tmp/x", Some(&[0xff, 0xfe])),
            "1|6|unix|/tmp/x|grpc|//4"
        );
    }
}
