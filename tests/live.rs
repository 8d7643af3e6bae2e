//! Live capture on lo: what the kernel really sent during `lola run` and
//! `lola send`. These need CAP_NET_RAW; without it they say they were skipped
//! (and fail under CI=true, where they must run).

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use common::{can_capture, free_udp_port, have, json_of, lola};
use lola::capture::CaptureReader;
use predicates::str::contains;

fn run_json(dir: &Path, args: &[&str]) -> serde_json::Value {
    json_of(
        lola()
            .current_dir(dir)
            .args(["run", "--capture", "live", "--json"])
            .args(args),
    )
}

/// (frame bytes) of every frame in a capture.
fn frames_of(path: &Path) -> Vec<Vec<u8>> {
    let mut reader = CaptureReader::open(path).unwrap();
    let mut out = Vec::new();
    while let Some(f) = reader.next_frame().unwrap() {
        out.push(f.data.to_vec());
    }
    out
}

#[test]
fn a_live_run_observes_exactly_one_frame_over_ipv4_and_ipv6() {
    if !can_capture() {
        return;
    }
    for to in ["127.0.0.1:0", "[::1]:0"] {
        let dir = tempfile::tempdir().unwrap();
        let v = run_json(dir.path(), &["--to", to]);
        assert_eq!(v["verdict"], "pass", "{v:#}");
        assert_eq!(v["capture"]["mode"], "live");
        assert_eq!(v["capture"]["observed"]["frames"], 1, "{v:#}");
        assert_eq!(v["capture"]["check"]["matched_count"], 1);
        assert_eq!(v["capture"]["equivalent"], true, "{v:#}");
        let observed = dir.path().join("hello-lola.observed.pcap");
        assert_eq!(frames_of(&observed).len(), 1);
    }
}

#[test]
fn the_comparison_names_the_expected_differences() {
    if !can_capture() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    lola()
        .current_dir(dir.path())
        .args(["run", "--port", "0", "--capture", "live"])
        .assert()
        .code(0)
        .stdout(contains("synthesized vs observed: equivalent"))
        .stdout(contains("ip.id"))
        .stdout(contains("expected: Linux picks the IPv4 identification"))
        .stdout(contains(
            "expected: Linux leaves the UDP checksum partial on lo",
        ));
}

#[test]
fn the_observed_file_matches_what_tcpdump_records() {
    if !can_capture() || !have("tcpdump") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // A free port, so tcpdump's filter can name it before lola runs.
    let port = free_udp_port();
    let reference = dir.path().join("tcpdump.pcap");
    let mut tcpdump = StdCommand::new("tcpdump")
        .args(["-i", "lo", "-nn", "--immediate-mode", "-U", "-w"])
        .arg(&reference)
        .arg(format!("udp port {port}"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(tcpdump.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("listening on") {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "tcpdump did not start"
        );
    }
    let v = run_json(dir.path(), &["--port", &port.to_string()]);
    assert_eq!(v["verdict"], "pass");
    // Give tcpdump time to write, then stop it as a person would (Ctrl-C).
    let deadline = Instant::now() + Duration::from_secs(5);
    while frames_of_len(&reference) < 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    // SAFETY: sending SIGINT to a child we spawned.
    unsafe { libc::kill(tcpdump.id() as i32, libc::SIGINT) };
    tcpdump.wait().unwrap();
    let ours = frames_of(&dir.path().join("hello-lola.observed.pcap"));
    let theirs = frames_of(&reference);
    assert_eq!(ours.len(), theirs.len(), "frame count");
    assert_eq!(ours, theirs, "same bytes, apart from timestamps");
}

fn frames_of_len(path: &Path) -> usize {
    match CaptureReader::open(path) {
        Ok(mut r) => {
            let mut n = 0;
            while let Ok(Some(_)) = r.next_frame() {
                n += 1;
            }
            n
        }
        Err(_) => 0,
    }
}

#[test]
fn twenty_parallel_runs_each_observe_only_their_own_datagram() {
    if !can_capture() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("lola");
    let children: Vec<_> = (0..20)
        .map(|i| {
            StdCommand::new(&bin)
                .current_dir(dir.path())
                .args(["run", "--port", "0", "--capture", "live", "--json", "-o"])
                .arg(format!("run{i}.pcap"))
                .arg("--message")
                .arg(format!("Hello Lola {i}"))
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(0), "run {i}");
        let v: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(v["capture"]["observed"]["frames"], 1, "run {i}: {v:#}");
        assert_eq!(v["capture"]["check"]["frames"], 1, "run {i}");
        let frames = frames_of(&dir.path().join(format!("run{i}.observed.pcap")));
        assert!(
            frames[0].ends_with(format!("Hello Lola {i}").as_bytes()),
            "run {i} saw another run's frame"
        );
    }
}

#[test]
fn a_send_with_no_listener_is_captured_with_the_icmp_port_unreachable() {
    if !can_capture() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // A port nobody listens on: bound, read, released.
    let port = free_udp_port();
    let out = dir.path().join("send.pcap");
    lola()
        .args([
            "send",
            "--to",
            &format!("127.0.0.1:{port}"),
            "--capture",
            "live",
            "-o",
        ])
        .arg(&out)
        .assert()
        .code(0)
        .stdout(contains("captured on the host lo: 2 frames"))
        .stdout(contains("the datagram 127.0.0.1:"))
        .stdout(contains(format!(
            "ICMP port unreachable from 127.0.0.1: nobody listens on 127.0.0.1:{port}"
        )));
    lola()
        .arg("check")
        .arg(&out)
        .args(["--dst-port", &port.to_string()])
        .assert()
        .code(0)
        .stdout(contains("frame 2: ICMP port unreachable"));
    assert_eq!(frames_of(&out).len(), 2);
}

#[test]
fn capture_live_fails_with_exit_2_where_it_is_not_permitted() {
    // Only meaningful without the capability; as root this checks the
    // opposite: --capture live succeeds.
    let dir = tempfile::tempdir().unwrap();
    let permitted = lola::live::Capture::open("lo", lola::live::FlowFilter::default()).is_ok();
    let assert = lola()
        .current_dir(dir.path())
        .args(["run", "--port", "0", "--capture", "live"])
        .assert();
    if permitted {
        assert.code(0);
    } else {
        assert
            .code(2)
            .stderr(contains("live capture needs CAP_NET_RAW"));
    }
    fs::remove_dir_all(dir.path()).ok();
}
