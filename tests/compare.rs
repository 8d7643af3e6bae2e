//! `lola compare` and `lola flow`: the same message over TCP and UDP, side by
//! side; the handshake detector's negative control on real traffic.

mod common;

use std::process::Command as StdCommand;

use common::{can_capture, fixture, have, json_of, lola};
use predicates::prelude::*;
use predicates::str::contains;

fn compare_json(dir: &std::path::Path, capture: &str) -> serde_json::Value {
    json_of(
        lola()
            .args([
                "compare",
                "--port",
                "0",
                "--json",
                "--capture",
                capture,
                "--out-dir",
            ])
            .arg(dir),
    )
}

/// The checks `compare` promises: tcp.pcap fails with its handshake listed,
/// udp.pcap passes.
fn assert_negative_control(dir: &std::path::Path, v: &serde_json::Value) {
    let tcp = &v["tcp"]["conversation"];
    assert_eq!(tcp["frames"], 8, "{v:#}");
    assert_eq!(tcp["handshake"], 3);
    assert_eq!(tcp["teardown"], 3);
    assert_eq!(v["udp"]["conversation"]["frames"], 1);
    assert_eq!(v["udp"]["conversation"]["handshake"], 0);
    let tcp_port = tcp["right"]["port"].to_string();
    let udp_port = v["udp"]["conversation"]["right"]["port"].to_string();
    lola()
        .arg("check")
        .arg(dir.join("tcp.pcap"))
        .args(["--dst-port", &tcp_port])
        .assert()
        .code(1)
        .stdout(contains("including a handshake"))
        .stdout(contains("[SYN]"))
        .stdout(contains("[SYN, ACK]"));
    lola()
        .arg("check")
        .arg(dir.join("udp.pcap"))
        .args(["--dst-port", &udp_port])
        .assert()
        .code(0);
}

#[test]
fn compare_live_shows_a_handshake_for_tcp_and_one_frame_for_udp() {
    if !can_capture() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let v = compare_json(dir.path(), "live");
    assert_eq!(v["tcp"]["live"], true);
    assert_eq!(v["udp"]["live"], true);
    assert_eq!(v["verdict"], "pass");
    assert_negative_control(dir.path(), &v);
}

#[test]
fn compare_synthesized_is_a_correct_tcp_conversation() {
    let dir = tempfile::tempdir().unwrap();
    let v = compare_json(dir.path(), "off");
    assert_eq!(v["tcp"]["live"], false);
    assert_negative_control(dir.path(), &v);
    if !have("tshark") {
        return;
    }
    let tcp = dir.path().join("tcp.pcap");
    let expert = StdCommand::new("tshark")
        .args([
            "-o",
            "tcp.check_checksum:TRUE",
            "-o",
            "ip.check_checksum:TRUE",
            "-q",
            "-z",
            "expert",
            "-r",
        ])
        .arg(&tcp)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&expert.stdout);
    for bad in [
        "Warnings",
        "Errors",
        "previous segment not captured",
        "Bad checksum",
        "Out-Of-Order",
    ] {
        assert!(
            !text.contains(bad),
            "tshark expert info has {bad:?}:\n{text}"
        );
    }
    let conv = StdCommand::new("tshark")
        .args(["-q", "-z", "conv,tcp", "-r"])
        .arg(&tcp)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&conv.stdout);
    let row = text
        .lines()
        .find(|l| l.contains("<->"))
        .unwrap_or_else(|| panic!("{text}"));
    // "A <-> B  3 166 bytes  5 284 bytes  8 450 bytes ...": frames before each "bytes".
    let words: Vec<&str> = row.split_whitespace().collect();
    let groups: Vec<usize> = words
        .iter()
        .enumerate()
        .filter(|(_, w)| **w == "bytes")
        .map(|(i, _)| i)
        .collect();
    let total_frames = words[groups[2] - 2];
    assert_eq!(total_frames, "8", "tshark's conversation table: {row}");
}

#[test]
fn compare_writes_a_junit_report_of_the_negative_control() {
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("compare.xml");
    lola()
        .args(["compare", "--port", "0", "--capture", "off", "--out-dir"])
        .arg(dir.path())
        .arg("--junit")
        .arg(&xml)
        .assert()
        .code(0);
    let text = std::fs::read_to_string(&xml).unwrap();
    assert!(text.contains(r#"tests="2" failures="0""#), "{text}");
    assert!(text.contains("finds the TCP handshake"), "{text}");
}

#[test]
fn compare_prints_ladders_and_the_summary_table() {
    let dir = tempfile::tempdir().unwrap();
    lola()
        .args(["compare", "--port", "0", "--capture", "off", "--out-dir"])
        .arg(dir.path())
        .env("NO_COLOR", "1")
        .assert()
        .code(0)
        .stdout(contains("TCP: one connection carrying \"Hello Lola\""))
        .stdout(contains("UDP: one datagram carrying \"Hello Lola\""))
        .stdout(contains("SYN, ACK"))
        .stdout(contains("UDP · 10 B data · 52 B"))
        .stdout(contains("legend: one arrow per frame"))
        .stdout(predicate::str::is_match(r"handshake frames\s+3\s+0").unwrap())
        .stdout(predicate::str::is_match(r"frames\s+8\s+1").unwrap())
        .stdout(contains("tcp.pcap: handshake found, as expected"))
        .stdout(contains(
            "udp.pcap: one datagram, no handshake: lola check passes",
        ))
        .stdout(predicate::str::contains("FAIL").not());
}

#[test]
fn flow_draws_any_capture_within_80_columns_and_without_colour_off_a_terminal() {
    let output = lola()
        .arg("flow")
        .arg(fixture("seed-tcp.pcap"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        !text.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
    for line in text.lines() {
        assert!(line.chars().count() <= 80, "{line:?}");
    }
    assert_eq!(
        text.matches("|<").count() + text.matches(">|").count(),
        8,
        "{text}"
    );
    assert!(
        text.contains("TCP 127.0.0.1:51844 ⇄ 127.0.0.1:7456\n  8 frames"),
        "{text}"
    );

    let udp = lola()
        .arg("flow")
        .arg(fixture("seed-ipv4.pcap"))
        .output()
        .unwrap();
    let text = String::from_utf8(udp.stdout).unwrap();
    assert_eq!(text.matches(">|").count(), 1, "UDP shows one arrow: {text}");

    let forced = lola()
        .args(["flow", "--color", "always"])
        .arg(fixture("seed-tcp.pcap"))
        .output()
        .unwrap();
    assert!(
        String::from_utf8(forced.stdout)
            .unwrap()
            .contains("\x1b[33m"),
        "handshake in yellow"
    );
}

#[test]
fn flow_reports_the_icmp_answer_in_the_datagrams_conversation() {
    lola()
        .arg("flow")
        .arg(fixture("seed-ipv4-no-listener.pcap"))
        .assert()
        .code(0)
        .stdout(contains("UDP 127.0.0.1:47300 ⇄ 127.0.0.1:7457\n  2 frames"))
        .stdout(contains("<-"))
        .stdout(contains("ICMP port unreachable"));
}

/// `--out-dir` may hold FIFOs that a reader drains (as `wireshark -k -i`
/// would): compare writes each side through its FIFO and judges it from the
/// bytes it wrote, never re-opening the FIFO (which would wait for a writer
/// forever).
#[test]
fn compare_writes_through_fifos_in_its_out_dir_and_judges_what_it_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let mut readers = Vec::new();
    for side in ["tcp", "udp"] {
        let fifo = dir.path().join(format!("{side}.pcap"));
        assert!(
            StdCommand::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let copy = std::fs::File::create(dir.path().join(format!("{side}.copy.pcap"))).unwrap();
        readers.push(
            StdCommand::new("cat")
                .arg(&fifo)
                .stdout(copy)
                .spawn()
                .unwrap(),
        );
    }
    let v = json_of(
        lola()
            .args([
                "compare",
                "--port",
                "0",
                "--json",
                "--capture",
                "off",
                "--out-dir",
            ])
            .arg(dir.path())
            .timeout(std::time::Duration::from_secs(30)),
    );
    // A reader whose FIFO lola never wrote would wait forever: bounded.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    for mut reader in readers {
        while reader.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = reader.kill();
        assert!(
            reader.wait().unwrap().success(),
            "a FIFO was not written whole"
        );
    }
    assert_eq!(v["tcp"]["conversation"]["frames"], 8, "{v:#}");
    assert_eq!(v["udp"]["conversation"]["frames"], 1, "{v:#}");
    assert_eq!(v["udp"]["check"]["verdict"], "pass", "{v:#}");
    // What the readers got is the whole capture.
    let udp_port = v["udp"]["conversation"]["right"]["port"].to_string();
    lola()
        .arg("check")
        .arg(dir.path().join("udp.copy.pcap"))
        .args(["--dst-port", &udp_port])
        .assert()
        .code(0);
    for side in ["tcp", "udp"] {
        let kind = std::fs::metadata(dir.path().join(format!("{side}.pcap")))
            .unwrap()
            .file_type();
        assert!(std::os::unix::fs::FileTypeExt::is_fifo(&kind));
    }
}
