//! Interactive shells in a host, on a pseudo-terminal, as a given user: what the SSM agent's
//! shell plugin starts for a Session Manager session (`sh` with the user's uid/gid/groups,
//! `TERM=xterm-256color`, `LANG=C.UTF-8`, on a pty it resizes on request).
//!
//! The pty pair is made here (the master stays with the caller); the shell's side is the
//! slave, made the controlling terminal of a new session by util-linux `setsid --ctty`, run by
//! `nsenter` in the host's namespaces, and `runuser` drops to the user.
use std::fs::File;
use std::os::fd::OwnedFd;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rustix::process::{kill_process, Pid, Signal};
use rustix::pty::{grantpt, openpt, ptsname, unlockpt, OpenptFlags};
use rustix::termios::{tcgetsid, tcsetwinsize, Winsize};

use super::{HostError, HostManager, Power};

/// A user name the shell may run as (what `useradd` accepts).
pub fn valid_user(user: &str) -> bool {
    !user.is_empty()
        && user.len() <= 32
        && !user.starts_with('-')
        && user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

/// Make sure `user` can run a shell in the host: `ssm-user` is created when missing (with the
/// agent's sudoers entry), any other user must exist already (the agent refuses otherwise).
pub fn user_check_script(user: &str, create_ssm_user: bool) -> String {
    if create_ssm_user {
        format!(
            "set -e\nif ! id -u {user} >/dev/null 2>&1; then\n  useradd -m -s /bin/sh {user}\n  mkdir -p /etc/sudoers.d\n  echo '{user} ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/ssm-agent-users\nfi\n"
        )
    } else {
        format!("if ! id -u {user} >/dev/null 2>&1; then echo \"failed to start pty since RunAs user {user} does not exist\" >&2; exit 1; fi\n")
    }
}

/// A running shell: its pty's master and the process that started it.
pub struct HostShell {
    pub master: File,
    child: Child,
}

impl HostShell {
    /// Tell the shell its terminal's size (a `size` message).
    pub fn resize(&self, cols: u16, rows: u16) {
        let _ = tcsetwinsize(
            &self.master,
            Winsize {
                ws_row: rows,
                ws_col: cols,
                ws_xpixel: 0,
                ws_ypixel: 0,
            },
        );
    }

    /// End it: every process of the terminal's session (found from the pty: the shell, its
    /// jobs, `runuser`) gets SIGHUP, then SIGKILL if still there a moment later (an interactive
    /// shell ignores SIGTERM, `runuser` only forwards signals to it); then the launcher is
    /// killed. A shell that already exited has no session left.
    pub fn close(mut self) {
        if let Ok(session) = tcgetsid(&self.master) {
            for (signal, pause) in [(Signal::HUP, 200), (Signal::KILL, 0)] {
                let members = session_members(session.as_raw_nonzero().get());
                for pid in &members {
                    if let Some(pid) = Pid::from_raw(*pid) {
                        let _ = kill_process(pid, signal);
                    }
                }
                if members.is_empty() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(pause));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The processes whose session id is `session` (from `/proc/PID/stat`: the fields after the
/// command's closing parenthesis are state, ppid, pgrp, session). Session 0 (a leader outside
/// this pid namespace) matches nothing: it would name every process of the container.
fn session_members(session: i32) -> Vec<i32> {
    if session <= 0 {
        return vec![];
    }
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| {
                    let (_, rest) = stat.rsplit_once(')')?;
                    rest.split_whitespace().nth(3)?.parse::<i32>().ok()
                })
                == Some(session)
        })
        .collect()
}

fn pty_pair() -> std::io::Result<(OwnedFd, File)> {
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)?;
    grantpt(&master)?;
    unlockpt(&master)?;
    let name = ptsname(&master, Vec::new())?;
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(std::path::Path::new(
            <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(name.as_bytes()),
        ))?;
    Ok((master, slave))
}

impl HostManager {
    /// Start `sh` (or `sh -c command`) as `user` in the host, on a new pty of `cols`×`rows`,
    /// in the user's home. The user must exist (see `user_check_script`).
    pub fn open_shell(
        &self,
        key: &str,
        user: &str,
        command: Option<&str>,
        cols: u16,
        rows: u16,
    ) -> Result<HostShell, HostError> {
        if !valid_user(user) {
            return Err(HostError::Command(format!("{user:?} is not a user name")));
        }
        let pid = self.with(key, |h| {
            if h.power != Power::Running || h.partitioned {
                return Err(HostError::Command(format!("{} is not reachable", h.name)));
            }
            h.init_pid()
                .ok_or_else(|| HostError::Command(format!("{} has no init process", h.name)))
        })?;
        let (master, slave) =
            pty_pair().map_err(|e| HostError::Command(format!("cannot open a pty: {e}")))?;
        let master = File::from(master);
        let io = |f: &File| {
            f.try_clone()
                .map(Stdio::from)
                .map_err(|e| HostError::Command(format!("pty: {e}")))
        };
        let home = format!("$(getent passwd {user} | cut -d: -f6)");
        let script = format!(
            ". /run/hastack/env; export PATH=/run/hastack/bin:$PATH; cd \"{home}\" 2>/dev/null || cd /; exec runuser -u {user} -- env TERM=xterm-256color LANG=C.UTF-8 HOME=\"{home}\" sh{}",
            if command.is_some() {
                " -c \"$HASTACK_SESSION_COMMAND\""
            } else {
                ""
            }
        );
        let child = Command::new("nsenter")
            .args([
                "--target",
                &pid.to_string(),
                "--mount",
                "--uts",
                "--ipc",
                "--net",
                "--pid",
                "--wd=/",
                "--",
                "setsid",
                "--ctty",
                "bash",
                "-c",
                &script,
            ])
            .env_clear()
            .env(
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            )
            .env("HASTACK_SESSION_COMMAND", command.unwrap_or(""))
            .stdin(io(&slave)?)
            .stdout(io(&slave)?)
            .stderr(io(&slave)?)
            .spawn()
            .map_err(|e| HostError::Command(format!("nsenter: {e}")))?;
        drop(slave);
        let shell = HostShell { master, child };
        shell.resize(cols, rows);
        Ok(shell)
    }

    /// Run a short preparation script as root in the host (e.g. `user_check_script`).
    pub fn prepare(&self, key: &str, script: &str) -> Result<(), HostError> {
        let r = self.exec(key, script, "/", Duration::from_secs(20))?;
        if r.code == 0 {
            Ok(())
        } else {
            let why = if r.stderr.trim().is_empty() {
                r.stdout
            } else {
                r.stderr
            };
            Err(HostError::Command(why.trim().to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_members_are_found_by_session_id() {
        // A child in a session of its own (its pid is the session id). The test's own session
        // is not used: where its leader lives outside this pid namespace (a CI container),
        // getsid() answers 0.
        // util-linux setsid execs in place when it is not a process group leader (a spawned
        // child is not), so the sleep's pid is its session id.
        let mut cmd = Command::new("setsid");
        cmd.args(["sleep", "30"]);
        let mut child = cmd.spawn().unwrap();
        let pid = child.id() as i32;
        // Until setsid has run, the child is still in this test's session.
        let mut members = session_members(pid);
        for _ in 0..100 {
            if !members.is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
            members = session_members(pid);
        }
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(members, vec![pid]);
        assert!(!session_members(i32::MAX).contains(&pid));
        assert!(session_members(0).is_empty());
    }

    #[test]
    fn user_names() {
        for (name, ok) in [
            ("ssm-user", true),
            ("web_admin.1", true),
            ("", false),
            ("-rf", false),
            ("a b", false),
            ("x;reboot", false),
            ("$(id)", false),
        ] {
            assert_eq!(valid_user(name), ok, "{name}");
        }
    }

    #[test]
    fn missing_run_as_users_are_refused_and_ssm_user_is_made() {
        let make = user_check_script("ssm-user", true);
        assert!(make.contains("useradd -m -s /bin/sh ssm-user"), "{make}");
        assert!(make.contains("NOPASSWD:ALL"), "{make}");
        let check = user_check_script("deploy", false);
        assert!(!check.contains("useradd"), "{check}");
        assert!(
            check.contains("RunAs user deploy does not exist"),
            "{check}"
        );
    }
}
