//! Outputs like `tcpdump -w`: `-o -` streams a clean capture that tshark
//! and tcpdump read from a pipe, with every word for people on stderr;
//! every output path is made ready (parents created) and validated before
//! any socket is opened; a second file that does not fit is named as not
//! written, beside the first that was.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use common::{can_capture, can_unshare, free_udp_port, have, lola};
use lola::capture::CaptureReader;

/// The frames of a capture held in memory, read by lola's own reader: any
/// byte after the last frame (a summary line, say) fails the read.
fn frames_in(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut reader = CaptureReader::new(bytes, "stdout").expect("stdout is a capture");
    let mut frames = Vec::new();
    while let Some(f) = reader.next_frame().expect("nothing but frames on stdout") {
        frames.push(f.data.to_vec());
    }
    frames
}

/// tshark and tcpdump read `bytes` from a pipe (`-r -`), without calling it
/// corrupt; their listings, one line per frame.
fn read_by_tools(bytes: &[u8]) -> Vec<String> {
    let mut listings = Vec::new();
    for tool in ["tshark", "tcpdump"] {
        if !have(tool) {
            continue;
        }
        let mut child = StdCommand::new(tool)
            .args(["-n", "-r", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(bytes).unwrap();
        let out = child.wait_with_output().unwrap();
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(out.status.success(), "{tool}: {stderr}");
        for word in ["corrupt", "damaged", "truncated", "bogus"] {
            assert!(
                !stderr.contains(word) && !stdout.contains(word),
                "{tool}: {stdout}{stderr}"
            );
        }
        listings.push(stdout);
    }
    listings
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The binary's path, for shell pipelines and spawned children.
fn lola_path() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("lola")
}

/// Runs `script` with `sh -c` in a private mount namespace, in `dir`, with
/// `$LOLA` set.
fn in_private_namespace(dir: &Path, script: &str) -> std::process::Output {
    StdCommand::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", script])
        .current_dir(dir)
        .env("LOLA", lola_path())
        .output()
        .unwrap()
}

#[test]
fn run_dash_o_streams_the_capture_it_checked_and_talks_on_stderr() {
    for capture in ["off", "auto"] {
        let out = lola()
            .args(["run", "--port", "0", "-o", "-", "--capture", capture])
            .output()
            .unwrap();
        let (stderr, stdout) = (text(&out.stderr), &out.stdout);
        assert!(out.status.success(), "{stderr}");
        let frames = frames_in(stdout);
        assert_eq!(frames.len(), 1, "only the synthesized frame on stdout");
        assert_eq!(stdout.len(), 24 + 16 + 52);
        for line in [
            "Just here on",
            "Sending data...",
            "wrote - (pcap, 1 frame",
            "PASS -:",
        ] {
            assert!(stderr.contains(line), "{line:?} not in: {stderr}");
        }
        for listing in read_by_tools(stdout) {
            assert!(listing.contains("127.0.0.1"), "{listing}");
            assert_eq!(listing.lines().count(), 1, "{listing}");
        }
    }
}

#[test]
fn run_dash_o_pipes_into_tshark_and_tcpdump() {
    for tool in ["tshark", "tcpdump"] {
        if !have(tool) {
            continue;
        }
        let out = StdCommand::new("sh")
            .args([
                "-c",
                &format!(r#""$LOLA" run --port 0 --capture off -o - 2>/dev/null | {tool} -n -r -"#),
            ])
            .env("LOLA", lola_path())
            .output()
            .unwrap();
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(out.status.success(), "{tool}: {stderr}");
        assert!(!stderr.contains("corrupt"), "{tool}: {stderr}");
        assert_eq!(stdout.lines().count(), 1, "{tool}: {stdout}");
        assert!(stdout.contains("UDP"), "{tool}: {stdout}");
    }
}

#[test]
fn run_dash_o_with_json_keeps_stdout_for_the_capture() {
    let out = lola()
        .args([
            "run",
            "--port",
            "0",
            "-o",
            "-",
            "--capture",
            "off",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(frames_in(&out.stdout).len(), 1);
    let json: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(json["verdict"], "pass");
    assert_eq!(json["output"]["path"], "-");
}

#[test]
fn build_dash_o_prints_its_summary_on_stderr() {
    let out = lola()
        .args([
            "build",
            "--src",
            "127.0.0.1:40000",
            "--dst",
            "127.0.0.1:7456",
        ])
        .args(["-o", "-", "--format", "pcapng"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(frames_in(&out.stdout).len(), 1);
    assert!(
        text(&out.stderr).starts_with("wrote - (pcapng, 1 frame"),
        "{}",
        text(&out.stderr)
    );
    for listing in read_by_tools(&out.stdout) {
        assert!(listing.contains("40000"), "{listing}");
    }
}

#[test]
fn send_capture_dash_o_streams_what_crossed_lo() {
    if !can_capture() {
        return;
    }
    let port = free_udp_port().to_string();
    let out = lola()
        .args(["send", "--to", &format!("127.0.0.1:{port}")])
        .args(["--capture", "host", "-o", "-"])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // The datagram and the port unreachable it caused: nobody listens.
    assert_eq!(frames_in(&out.stdout).len(), 2, "{stderr}");
    assert!(stderr.contains("Sending data..."), "{stderr}");
    assert!(
        stderr.contains("captured on the host lo: 2 frames; wrote -"),
        "{stderr}"
    );
    for listing in read_by_tools(&out.stdout) {
        assert_eq!(listing.lines().count(), 2, "{listing}");
    }
}

/// Starts `lola ARGS` with stdout piped, and waits until a line of its
/// stderr contains `ready`; returns the child and the stderr read so far.
fn start(args: &[&str], ready: &str) -> (std::process::Child, String) {
    let mut child = StdCommand::new(lola_path())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    while !seen.contains(ready) {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            panic!("lola {args:?} ended before {ready:?}: {seen}");
        }
        seen.push_str(&line);
    }
    // Drain the rest in the background so the child never blocks on it.
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    (child, seen)
}

#[test]
fn listen_dash_o_streams_the_received_datagrams() {
    let port = free_udp_port().to_string();
    let (child, banner) = start(
        &[
            "listen",
            "--port",
            &port,
            "--datagrams",
            "1",
            "--timeout",
            "5s",
            "-o",
            "-",
        ],
        "Just here on",
    );
    assert!(
        banner.contains(&format!("Just here on {port}...")),
        "{banner}"
    );
    lola()
        .args(["send", "--to", &format!("127.0.0.1:{port}")])
        .assert()
        .success();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(frames_in(&out.stdout).len(), 1);
    for listing in read_by_tools(&out.stdout) {
        assert!(listing.contains(&port), "{listing}");
    }
}

#[test]
fn capture_dash_o_streams_a_clean_capture() {
    if !can_capture() {
        return;
    }
    let port = free_udp_port().to_string();
    let (child, _) = start(
        &[
            "capture",
            "--filter-port",
            &port,
            "-c",
            "2",
            "--duration",
            "5s",
            "-o",
            "-",
        ],
        "capturing on lo",
    );
    lola()
        .args(["send", "--to", &format!("127.0.0.1:{port}")])
        .assert()
        .success();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    // Before: "2 frames captured; wrote - …" followed the pcap on stdout.
    assert_eq!(frames_in(&out.stdout).len(), 2);
    for listing in read_by_tools(&out.stdout) {
        assert_eq!(listing.lines().count(), 2, "{listing}");
        assert!(listing.contains(&port), "{listing}");
    }
}

#[test]
fn a_capture_into_a_read_only_directory_fails_at_once() {
    if !can_unshare() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("ro")).unwrap();
    let started = Instant::now();
    let out = in_private_namespace(
        dir.path(),
        r#"mount -t tmpfs -o ro,size=64k tmpfs ro && "$LOLA" capture --duration 3s -o ro/x.pcap"#,
    );
    let elapsed = started.elapsed();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        "lola: ro/x.pcap: read-only file system\n"
    );
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
}

#[test]
fn every_output_is_validated_before_any_datagram_is_sent() {
    if !can_unshare() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("ro")).unwrap();
    for (command, named) in [
        ("run --port 0 --junit ro/r.xml", "ro/r.xml"),
        ("run --port 0 -o ro/x.pcap", "ro/x.pcap"),
        ("run --port 0 --junit ro/new/r.xml", "ro/new"),
        ("send --capture auto -o ro/s.pcap", "ro/s.pcap"),
        ("compare --port 0 --out-dir ro", "ro/tcp.pcap"),
        ("compare --port 0 --out-dir ro/new", "ro/new"),
        ("exec -o ro/e.pcap -- true", "ro/e.pcap"),
        (
            "build --src 127.0.0.1:1 --dst 127.0.0.1:2 -o ro/b.pcap",
            "ro/b.pcap",
        ),
    ] {
        let out = in_private_namespace(
            dir.path(),
            &format!(r#"mount -t tmpfs -o ro,size=64k tmpfs ro && "$LOLA" {command}"#),
        );
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(2), "{command}: {stdout}{stderr}");
        assert_eq!(
            stderr,
            format!("lola: {named}: read-only file system\n"),
            "{command}"
        );
        assert_eq!(stdout, "", "{command}: nothing sent, nothing said");
        assert!(!dir.path().join("hello-lola.pcap").exists(), "{command}");
    }
}

#[test]
fn missing_parent_directories_are_created() {
    let dir = tempfile::tempdir().unwrap();
    lola()
        .current_dir(dir.path())
        .args(["run", "--port", "0", "--capture", "off"])
        .args(["--junit", "nodir/r.xml", "-o", "reports/x.pcap"])
        .assert()
        .success();
    assert!(dir.path().join("nodir/r.xml").is_file());
    assert!(dir.path().join("reports/x.pcap").is_file());
    lola()
        .current_dir(dir.path())
        .args(["compare", "--port", "0", "--capture", "off"])
        .args(["--out-dir", "newdir/deeper", "--junit", "j/compare.xml"])
        .assert()
        .success();
    for file in [
        "newdir/deeper/tcp.pcap",
        "newdir/deeper/udp.pcap",
        "j/compare.xml",
    ] {
        assert!(dir.path().join(file).is_file(), "{file}");
    }
    lola()
        .current_dir(dir.path())
        .args(["build", "--src", "127.0.0.1:1", "--dst", "127.0.0.1:2"])
        .args(["-o", "a/b/c.pcapng"])
        .assert()
        .success();
    assert!(dir.path().join("a/b/c.pcapng").is_file());
    lola()
        .current_dir(dir.path())
        .args([
            "check",
            "a/b/c.pcapng",
            "--dst-port",
            "2",
            "--junit",
            "ci/check.xml",
        ])
        .assert()
        .success();
    lola()
        .current_dir(dir.path())
        .args([
            "diff",
            "a/b/c.pcapng",
            "a/b/c.pcapng",
            "--junit",
            "ci/diff/d.xml",
        ])
        .assert()
        .success();
    assert!(dir.path().join("ci/check.xml").is_file());
    assert!(dir.path().join("ci/diff/d.xml").is_file());
}

#[test]
fn a_parent_that_is_a_file_is_named_before_any_datagram_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("afile"), b"").unwrap();
    let out = lola()
        .current_dir(dir.path())
        .args(["run", "--port", "0", "--junit", "afile/r.xml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stdout), "", "no banner: nothing was sent");
    assert!(
        text(&out.stderr).starts_with("lola: afile/r.xml: "),
        "{}",
        text(&out.stderr)
    );
    assert!(!dir.path().join("hello-lola.pcap").exists());
}

#[test]
fn a_full_disk_on_the_observed_capture_says_which_file_was_written() {
    if !can_unshare() || !can_capture() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("full")).unwrap();
    // One 4 KiB page: the 92-byte capture fits, the observed one does not.
    let out = in_private_namespace(
        dir.path(),
        r#"mount -t tmpfs -o size=4k tmpfs full && "$LOLA" run --port 0 --capture host -o full/hello-lola.pcap && exit 0
           rc=$?; ls full; exit $rc"#,
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert_eq!(
        stderr,
        "lola: wrote full/hello-lola.pcap (1 frame); full/hello-lola.observed.pcap: no space left on device, not written\n"
    );
    assert!(
        stdout.ends_with("hello-lola.pcap\n") && !stdout.contains("observed"),
        "the first stays, no half second file: {stdout}"
    );
}
