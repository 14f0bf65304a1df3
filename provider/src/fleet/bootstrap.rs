//! The user data every member boots with: `bootstrap.sh` rendered with the activation and the
//! module's own user data.
use std::io::Write;

use base64::Engine;

const TEMPLATE: &str = include_str!("bootstrap.sh");

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RenderError {
    #[error("{0} has characters a bootstrap script cannot carry safely")]
    Unsafe(&'static str),
}

/// Only what AWS hands out: region names, activation ids (UUIDs) and codes (alphanumeric, `+`, `/`).
fn safe(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_+/=".contains(&b))
}

pub fn render(
    region: &str,
    activation_id: &str,
    activation_code: &str,
    user_data: &str,
) -> Result<String, RenderError> {
    for (what, v) in [
        ("region", region),
        ("activation id", activation_id),
        ("activation code", activation_code),
    ] {
        if !safe(v) {
            return Err(RenderError::Unsafe(what));
        }
    }
    // gzip first: Lightsail takes at most 16 KiB of launch script, and scripts that carry an
    // app compress to a third or less.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(user_data.as_bytes())
        .expect("writing to memory cannot fail");
    let packed = gz.finish().expect("writing to memory cannot fail");
    let encoded = base64::engine::general_purpose::STANDARD.encode(packed);
    // Lines of 76 so the heredoc stays readable and `base64 -d` accepts it.
    let wrapped: Vec<&str> = encoded
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
        .collect();
    Ok(TEMPLATE
        .replace("@REGION@", region)
        .replace("@ACTIVATION_ID@", activation_id)
        .replace("@ACTIVATION_CODE@", activation_code)
        .replace(
            "@HAS_USER_DATA@",
            if user_data.is_empty() { "" } else { "1" },
        )
        .replace("@USER_DATA_B64@", &wrapped.join("\n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_registration_then_user_data() {
        let s = render(
            "us-east-1",
            "0a1b2c3d-1111-2222-3333-444455556666",
            "AbCdEf0123456789wxyz",
            "#!/bin/bash\necho 'app'\n",
        )
        .unwrap();
        assert!(s.starts_with("#!/bin/bash\n"));
        assert!(s.contains("set -euo pipefail"));
        assert!(!s.contains('@'), "every placeholder is filled");
        let register = s.find("-register -code").unwrap();
        let app = s.find("running the module's user data").unwrap();
        assert!(register < app, "SSM first, then the app");
        assert!(s.contains("ACTIVATION_CODE='AbCdEf0123456789wxyz'"));
        // The code is only ever passed to the agent, never echoed.
        assert!(!s.contains("echo \"$ACTIVATION_CODE"));
        assert!(!s.contains("log \"$ACTIVATION_CODE"));
        // Idempotent: registration and user data are guarded.
        assert!(s.contains("[ -s /var/lib/amazon/ssm/registration ]"));
        assert!(s.contains("user-data.done"));
        // sshd is switched off as well as port 22.
        assert!(s.contains("systemctl disable --now \"$unit\""));
        assert_eq!(user_data_of(&s), "#!/bin/bash\necho 'app'\n");
        // The app runs with the usual umask (files it writes for nginx stay readable).
        assert!(s.find("umask 022").unwrap() > s.find("umask 077").unwrap());
        assert!(s.find("umask 022").unwrap() < s.rfind("bash \"$STATE_DIR/user-data\"").unwrap());
    }

    /// The user data a rendered script carries (base64 of gzip), decoded.
    fn user_data_of(script: &str) -> String {
        let marker = script.find("<<'HASTACK_USER_DATA'").unwrap();
        let start = script[marker..].find('\n').unwrap() + marker + 1;
        let end = script[start..].find("\nHASTACK_USER_DATA").unwrap() + start;
        let b64: String = script[start..end].split('\n').collect();
        let gz = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        let mut out = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut out)
            .unwrap();
        out
    }

    #[test]
    fn a_large_app_is_carried_compressed() {
        let app = include_str!("../../../examples/modules/ha-webapp/app.py").repeat(2);
        let s = render("us-east-1", "id-1", "code", &app).unwrap();
        assert_eq!(user_data_of(&s), app);
        assert!(
            s.len() < app.len(),
            "{} bytes of script for {} of user data",
            s.len(),
            app.len()
        );
    }

    #[test]
    fn no_user_data_runs_nothing_after_the_agent() {
        let s = render("us-east-1", "id-1", "code", "").unwrap();
        assert!(s.contains("if [ -n '' ]"));
    }

    #[test]
    fn refuses_values_that_could_break_out_of_quotes() {
        assert_eq!(
            render("us-east-1", "id", "x'; rm -rf /; '", ""),
            Err(RenderError::Unsafe("activation code"))
        );
        assert_eq!(
            render("us east", "id", "c", ""),
            Err(RenderError::Unsafe("region"))
        );
    }

    /// The script is valid bash (when bash is here to say so).
    #[test]
    fn script_parses() {
        let s = render("us-east-1", "id-1", "code", "echo hi").unwrap();
        let dir = std::env::temp_dir().join(format!("hastack-bootstrap-{}", std::process::id()));
        std::fs::write(&dir, s).unwrap();
        if let Ok(out) = std::process::Command::new("bash")
            .arg("-n")
            .arg(&dir)
            .output()
        {
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let _ = std::fs::remove_file(&dir);
    }
}
