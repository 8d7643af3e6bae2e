//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod browser;
pub mod sandbox;

use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Output, Stdio};

use assert_cmd::Command;

/// The `lola` binary under test.
pub fn lola() -> Command {
    Command::cargo_bin("lola").unwrap()
}

/// A file in `fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// Every capture fixture (`.pcap`, `.pcapng`), sorted; `bad-*` ones and
/// the unsupported link type too when `damaged`.
pub fn capture_fixtures(damaged: bool) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(fixture(""))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            (name.ends_with(".pcap") || name.ends_with(".pcapng"))
                && (damaged || !name.starts_with("bad-") && name != "link-unsupported.pcap")
        })
        .collect();
    out.sort();
    out
}

/// True when running under CI (`CI=true`), where nothing may be skipped.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// True when `tool` runs; in CI a missing tool is a failure, not a skip.
pub fn have(tool: &str) -> bool {
    have_with(tool, "--version")
}

/// [`have`], for a tool that answers `version_flag` (`ip -V`).
pub fn have_with(tool: &str, version_flag: &str) -> bool {
    let ok = StdCommand::new(tool)
        .arg(version_flag)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            !in_ci(),
            "{tool} is required in CI (CI=true) but is not installed"
        );
        eprintln!("SKIPPED: {tool} is not installed; this interop test did not run");
    }
    ok
}

/// True when this process may capture on lo (CAP_NET_RAW); in CI it must.
pub fn can_capture() -> bool {
    match lola::host::live::Capture::open("lo", lola::host::live::FlowFilter::ports(vec![9])) {
        Ok(_) => true,
        Err(e) => {
            assert!(!in_ci(), "live capture is required in CI (CI=true): {e}");
            eprintln!("SKIPPED: {e}; this live-capture test did not run");
            false
        }
    }
}

/// Builds a one-frame capture from 127.0.0.1:40000 to 127.0.0.1:7456 with
/// `lola build ARGS` and returns its path.
pub fn built(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    built_to(dir, name, "127.0.0.1:7456", args)
}

/// Like [`built`], to `dst` instead of 127.0.0.1:7456.
pub fn built_to(dir: &Path, name: &str, dst: &str, args: &[&str]) -> PathBuf {
    let path = dir.join(name);
    lola()
        .args(["build", "--src", "127.0.0.1:40000", "--dst", dst])
        .args(args)
        .arg("-o")
        .arg(&path)
        .assert()
        .success();
    path
}

/// Runs `command`, which must exit 0, and parses its stdout as JSON.
pub fn json_of(command: &mut Command) -> serde_json::Value {
    let output = command.output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// A UDP port on 127.0.0.1 that nobody listens on: bound, read, released.
pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// True when this process may make a private mount namespace (root); in CI
/// it must.
pub fn can_unshare() -> bool {
    let ok = StdCommand::new("unshare")
        .args(["-m", "--propagation", "private", "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            !in_ci(),
            "unshare -m (root) is required in CI (CI=true) but failed"
        );
        eprintln!("SKIPPED: cannot unshare -m (needs root); this test did not run");
    }
    ok
}

/// The bytes of every frame in a capture.
pub fn frames_of(path: &Path) -> Vec<Vec<u8>> {
    let mut reader = lola::capture::CaptureReader::open(path).unwrap();
    let mut out = Vec::new();
    while let Some(f) = reader.next_frame().unwrap() {
        out.push(f.data.to_vec());
    }
    out
}

/// Exit status, stdout and stderr, for an assertion message.
pub fn text(o: &Output) -> String {
    format!(
        "status {:?}\n{}{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Validates `xml` against tests/junit/junit.xsd with python3's xmlschema;
/// skipped where it is missing, except in CI (.ci/run installs it).
pub fn assert_valid_junit(xml_path: &Path) {
    let xsd = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/junit/junit.xsd");
    let has_xmlschema = StdCommand::new("python3")
        .args(["-c", "import xmlschema"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_xmlschema {
        assert!(
            !in_ci(),
            "python3 xmlschema is missing (.ci/run installs it)"
        );
        eprintln!("skipped: python3 xmlschema is not installed");
        return;
    }
    let out = StdCommand::new("python3")
        .args([
            "-c",
            "import sys, xmlschema; xmlschema.XMLSchema(sys.argv[1]).validate(sys.argv[2])",
        ])
        .arg(&xsd)
        .arg(xml_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} is not valid JUnit:\n{}\n{}",
        xml_path.display(),
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(xml_path).unwrap_or_default()
    );
}
