//! Running lola as an unprivileged user (uid 65534, nobody) from a test
//! that runs as root, as CI does: a directory and a copy of the binary that
//! user may use, and the words that drop privileges.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{in_ci, text};

pub const NOBODY: u32 = 65534;

pub fn is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The words that run a program as uid 65534 when this process is root
/// (setpriv execs it, so the pid is the program's); none otherwise.
pub fn drop_privileges() -> &'static [&'static str] {
    if is_root() {
        &[
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
            "--",
        ]
    } else {
        &[]
    }
}

/// A directory anyone may write, holding a copy of the binary anyone may
/// run (the worktree's target/ may sit under a directory nobody cannot enter)
/// and of the seed's scripts (`tests/scripts/`).
pub struct Sandbox {
    dir: tempfile::TempDir,
    pub lola: PathBuf,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
        let lola = dir.path().join("lola");
        // Copied by another process: a write descriptor held in this one
        // would leak into children other test threads fork at that moment,
        // and exec'ing the copy would fail with ETXTBSY ("text file busy").
        let installed = Command::new("install")
            .args(["-m", "0755"])
            .arg(assert_cmd::cargo::cargo_bin("lola"))
            .arg(&lola)
            .status()
            .unwrap();
        assert!(installed.success(), "install the binary for uid 65534");
        for script in [
            "server.py",
            "client.py",
            "tcp_server.py",
            "tcp_client.py",
            "reply.py",
            "echo.py",
        ] {
            let from = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/scripts")
                .join(script);
            let to = dir.path().join(script);
            fs::copy(from, &to).unwrap();
            fs::set_permissions(&to, fs::Permissions::from_mode(0o644)).unwrap();
        }
        Sandbox { dir, lola }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `PROGRAM` as uid 65534, in the sandbox directory, run by `prefix`
    /// (e.g. `nsenter -t PID -n --`) before privileges are dropped.
    pub fn as_nobody(&self, prefix: &[&str], program: impl AsRef<OsStr>) -> Command {
        let mut words = prefix.iter().chain(drop_privileges()).map(OsStr::new);
        let mut c = match words.next() {
            Some(first) => {
                let mut c = Command::new(first);
                c.args(words).arg(program);
                c
            }
            None => Command::new(program),
        };
        c.current_dir(self.path()).env_remove("CI");
        c
    }

    /// `lola ARGS` as uid 65534, in the sandbox directory.
    pub fn unprivileged(&self, args: &[&str]) -> Command {
        let mut c = self.as_nobody(&[], &self.lola);
        c.args(args);
        c
    }
}

/// True when an unprivileged user may make a private lo here; otherwise
/// says why, loudly, and fails under CI=true.
pub fn userns_allowed(s: &Sandbox) -> bool {
    private_allowed(s.unprivileged(&["doctor", "--json"]))
}

/// True when root may make a private lo (a network namespace) here.
pub fn netns_allowed() -> bool {
    let mut doctor = Command::new(assert_cmd::cargo::cargo_bin("lola"));
    doctor.args(["doctor", "--json"]);
    private_allowed(doctor)
}

fn private_allowed(mut doctor: Command) -> bool {
    let o = doctor.output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("doctor --json: {e}\n{}", text(&o)));
    if v["private"]["works"] == true {
        return true;
    }
    let why = format!("{}; fix: {}", v["private"]["cause"], v["private"]["fix"]);
    assert!(
        !in_ci(),
        "user namespaces are required in CI (CI=true): {why}"
    );
    eprintln!("SKIPPED: no private lo here: {why}");
    false
}

/// True when this test runs as root, which it needs to become uid 65534 (or
/// to make a network namespace); in CI it must.
pub fn root_for(what: &str) -> bool {
    if !is_root() {
        assert!(!in_ci(), "{what} needs root, which CI (CI=true) has");
        eprintln!("SKIPPED: not root; {what} did not run");
    }
    is_root()
}
