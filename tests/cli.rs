//! The README's promises, one test each, against the real binary.

use std::fs;
use std::io::{BufRead, BufReader};
use std::net::UdpSocket;

use std::process::{Command as StdCommand, Stdio};

mod common;

use common::{built, fixture, have, lola};
use predicates::prelude::*;
use predicates::str::contains;

// ---- lola run ----------------------------------------------------------------

#[test]
fn run_sends_hello_lola_writes_one_frame_and_passes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("hello-lola.pcap");
    lola()
        .args(["run", "--port", "0", "-o"])
        .arg(&out)
        .assert()
        .code(0)
        .stdout(contains("Just here on "))
        .stdout(contains("Sending data..."))
        .stdout(predicate::str::is_match(r#"FROM: 127\.0\.0\.1:\d+ DATA: "Hello Lola""#).unwrap())
        .stdout(contains("wrote "))
        .stdout(contains("PASS "))
        .stdout(contains("udp.checksum.status good"));
    let bytes = fs::read(&out).unwrap();
    assert_eq!(bytes.len(), 24 + 16 + 52, "one 52-byte frame in a pcap");
    assert_eq!(&bytes[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "little-endian pcap");
}

#[test]
fn run_defaults_to_hello_lola_pcap_in_the_current_directory() {
    let dir = tempfile::tempdir().unwrap();
    lola()
        .current_dir(dir.path())
        .args(["run", "--port", "0"])
        .assert()
        .code(0);
    assert!(dir.path().join("hello-lola.pcap").is_file());
    lola()
        .current_dir(dir.path())
        .args(["run", "--port", "0", "--format", "pcapng"])
        .assert()
        .code(0);
    let ng = fs::read(dir.path().join("hello-lola.pcapng")).unwrap();
    assert_eq!(&ng[..4], &[0x0a, 0x0d, 0x0d, 0x0a], "pcapng section header");
}

#[test]
fn run_over_ipv6_loopback() {
    let dir = tempfile::tempdir().unwrap();
    lola()
        .current_dir(dir.path())
        .args(["run", "--to", "[::1]:0"])
        .assert()
        .code(0)
        .stdout(predicate::str::is_match(r#"FROM: \[::1\]:\d+ DATA: "Hello Lola""#).unwrap())
        .stdout(contains("UDP 72"));
}

#[test]
fn run_json_is_machine_readable() {
    let dir = tempfile::tempdir().unwrap();
    let output = lola()
        .current_dir(dir.path())
        .args(["run", "--port", "0", "--json", "--message", "hi there"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let v: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("stdout is one JSON document");
    assert_eq!(v["schema_version"], 3);
    assert_eq!(v["verdict"], "pass");
    assert_eq!(v["exchange"]["payload"]["text"], "hi there");
    assert_eq!(v["exchange"]["payload"]["hex"], "6869207468657265");
    assert_eq!(v["output"]["frames"], 1);
    assert_eq!(v["check"]["matched_count"], 1);
    assert_eq!(v["check"]["matched"][0]["udp_checksum"], "good");
}

#[test]
fn run_on_a_busy_port_says_so_and_exits_2() {
    let busy = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    lola()
        .current_dir(dir.path())
        .args(["run", "--to", &addr.to_string()])
        .assert()
        .code(2)
        .stderr(format!(
            "lola: cannot bind {addr}: address in use; try --port 0\n"
        ));
    assert!(
        !dir.path().join("hello-lola.pcap").exists(),
        "no capture on failure"
    );
}

#[test]
fn run_refuses_an_output_directory_it_cannot_make_before_sending() {
    // A missing directory is created (like pytest's --junitxml); a file in
    // the way is not a directory, and nothing is sent.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("afile"), b"").unwrap();
    lola()
        .current_dir(dir.path())
        .args(["run", "--port", "0", "-o", "afile/x.pcap"])
        .assert()
        .code(2)
        .stdout("")
        .stderr("lola: afile/x.pcap: a path component is not a directory\n");
}

#[test]
fn run_refuses_an_unspecified_destination() {
    lola()
        .args(["run", "--to", "0.0.0.0:0"])
        .assert()
        .code(2)
        .stderr(contains("must be a concrete address"));
}

#[test]
fn bad_arguments_exit_2() {
    lola()
        .args(["run", "--timeout", "soon"])
        .assert()
        .code(2)
        .stderr(contains("duration"));
    lola().args(["run", "--to", "nowhere"]).assert().code(2);
    lola().args(["check"]).assert().code(2);
}

// ---- lola listen / send --------------------------------------------------------

#[test]
fn listen_and_send_work_like_the_two_seed_scripts() {
    let bin = assert_cmd::cargo::cargo_bin("lola");
    let mut server = StdCommand::new(&bin)
        .args(["listen", "--port", "0", "--timeout", "10s"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let port = first
        .strip_prefix("Just here on ")
        .and_then(|s| s.strip_suffix("..."))
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
    lola()
        .args(["send", "--to", &format!("127.0.0.1:{port}"), "Hello Lola"])
        .assert()
        .code(0)
        .stdout("Sending data...\n");
    let from = lines.next().unwrap().unwrap();
    assert!(from.starts_with("FROM: 127.0.0.1:"), "{from}");
    assert!(from.ends_with(r#"DATA: "Hello Lola""#), "{from}");
    assert!(server.wait().unwrap().success());
}

#[test]
fn listen_times_out_with_exit_2_instead_of_blocking_forever() {
    lola()
        .args(["listen", "--port", "0", "--timeout", "100ms"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::is_match(
                r"^lola: no datagram reached 127\.0\.0\.1:\d+ within 100ms\n$",
            )
            .unwrap(),
        );
}

// ---- lola build ----------------------------------------------------------------

#[test]
fn build_reproduces_the_golden_fixture_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let out = built(
        dir.path(),
        "g.pcap",
        &["--timestamp", "2026-11-25T00:00:00Z"],
    );
    assert_eq!(
        fs::read(out).unwrap(),
        fs::read(fixture("hello-lola.pcap")).unwrap()
    );
    let out6 = dir.path().join("g6.pcapng");
    lola()
        .args(["build", "--src", "[::1]:40000", "--dst", "[::1]:7456"])
        .args(["--timestamp", "2026-11-25T00:00:00Z", "-o"])
        .arg(&out6)
        .assert()
        .success();
    assert_eq!(
        fs::read(out6).unwrap(),
        fs::read(fixture("hello-lola-ipv6.pcapng")).unwrap()
    );
}

#[test]
fn build_message_and_payload_hex_give_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let a = built(dir.path(), "a.pcap", &["--message", "Hello Lola"]);
    let b = built(
        dir.path(),
        "b.pcap",
        &["--payload-hex", "48656c6c6f204c6f6c61"],
    );
    assert_eq!(fs::read(a).unwrap(), fs::read(b).unwrap());
}

#[test]
fn build_refuses_what_cannot_be_one_datagram() {
    lola()
        .args([
            "build",
            "--src",
            "127.0.0.1:1",
            "--dst",
            "[::1]:7456",
            "-o",
            "/dev/null",
        ])
        .assert()
        .code(2)
        .stderr(contains("different address families"));
    lola()
        .args([
            "build",
            "--src",
            "127.0.0.1:1",
            "--dst",
            "127.0.0.1:2",
            "--payload-hex",
            "4g",
        ])
        .assert()
        .code(2)
        .stderr(contains("hex"));
}

#[test]
fn a_failed_write_never_clobbers_a_good_capture() {
    let dir = tempfile::tempdir().unwrap();
    let good = built(dir.path(), "keep.pcap", &[]);
    let before = fs::read(&good).unwrap();
    let huge = "x".repeat(70_000);
    lola()
        .args([
            "build",
            "--src",
            "127.0.0.1:1",
            "--dst",
            "127.0.0.1:2",
            "--message",
            &huge,
            "-o",
        ])
        .arg(&good)
        .assert()
        .code(2)
        .stderr(contains("does not fit in one UDP datagram"));
    assert_eq!(fs::read(&good).unwrap(), before);
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        names,
        vec![std::ffi::OsString::from("keep.pcap")],
        "no temporary file left"
    );
}

// ---- lola check: passes ----------------------------------------------------------

#[test]
fn check_passes_real_tcpdump_captures_of_the_seed() {
    for name in ["seed-ipv4.pcap", "seed-ipv6.pcap"] {
        lola()
            .arg("check")
            .arg(fixture(name))
            .assert()
            .code(0)
            .stdout(contains("PASS "))
            .stdout(contains("udp.checksum.status partial"))
            .stdout(contains("maybe caused by checksum offload"));
    }
}

#[test]
fn check_passes_the_golden_file_and_counts_flexibly() {
    lola()
        .arg("check")
        .arg(fixture("hello-lola.pcap"))
        .assert()
        .code(0);
    lola()
        .arg("check")
        .arg(fixture("hello-lola-ipv6.pcapng"))
        .assert()
        .code(0);
    lola()
        .arg("check")
        .arg(fixture("seed-ipv4-twice.pcap"))
        .args(["--exactly", "2"])
        .assert()
        .code(0);
    lola()
        .arg("check")
        .arg(fixture("seed-ipv4-twice.pcap"))
        .args(["--at-least", "1"])
        .assert()
        .code(0);
}

#[test]
fn check_reports_the_icmp_port_unreachable_of_a_send_with_no_listener() {
    lola()
        .arg("check")
        .arg(fixture("seed-ipv4-no-listener.pcap"))
        .args(["--dst-port", "7457"])
        .assert()
        .code(0)
        .stdout(contains("frame 2: ICMP port unreachable"))
        .stdout(contains("nobody was listening on 127.0.0.1:7457"));
}

#[test]
fn check_json_has_a_schema_version_and_the_fields_found() {
    let output = lola()
        .arg("check")
        .arg(fixture("seed-ipv4.pcap"))
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(v["schema_version"], 3);
    assert_eq!(v["verdict"], "pass");
    assert_eq!(v["matched"][0]["dst"]["addr"], "127.0.0.1");
    assert_eq!(v["matched"][0]["dst"]["port"], 7456);
    assert_eq!(v["matched"][0]["udp_checksum"], "partial");
    assert_eq!(v["matched"][0]["ip_checksum"], "good");
}

// ---- lola check: failures, exit 1, naming frame and field --------------------------

#[test]
fn two_datagrams_fail() {
    lola()
        .arg("check")
        .arg(fixture("seed-ipv4-twice.pcap"))
        .assert()
        .code(1)
        .stdout(contains("FAIL "))
        .stdout(contains("found 2 matching datagrams in 2 frames"))
        .stdout(contains("frame 2 "));
}

#[test]
fn the_wrong_payload_fails_naming_frame_and_payload() {
    let dir = tempfile::tempdir().unwrap();
    let file = built(dir.path(), "p.pcap", &["--message", "Hello Lolo"]);
    lola()
        .arg("check")
        .arg(&file)
        .assert()
        .code(1)
        .stdout(contains("found 0 matching datagrams in 1 frame"))
        .stdout(contains(r#"frame 1 "#))
        .stdout(contains(r#"payload "Hello Lolo", expected "Hello Lola""#));
}

#[test]
fn the_wrong_port_fails_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let file = common::built_to(dir.path(), "port.pcap", "127.0.0.1:7457", &[]);
    lola()
        .arg("check")
        .arg(&file)
        .assert()
        .code(1)
        .stdout(contains("frame 1 "))
        .stdout(contains("udp.dstport 7457, expected 7456"));
}

#[test]
fn a_bad_checksum_fails_naming_the_field_and_the_right_value() {
    let dir = tempfile::tempdir().unwrap();
    let file = built(dir.path(), "sum.pcap", &[]);
    let mut bytes = fs::read(&file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] = b'b'; // "Hello Lola" -> "Hello Lolb", checksum left as it was
    fs::write(&file, &bytes).unwrap();
    lola()
        .arg("check")
        .arg(&file)
        .args(["--message", "Hello Lolb"])
        .assert()
        .code(1)
        .stdout(
            predicate::str::is_match(
                r"udp\.checksum 0x[0-9a-f]{4} bad \(should be 0x[0-9a-f]{4}\)",
            )
            .unwrap(),
        );
    // With --checksums ignore the same file passes.
    lola()
        .arg("check")
        .arg(&file)
        .args(["--message", "Hello Lolb", "--checksums", "ignore"])
        .assert()
        .code(0);
}

#[test]
fn strict_checksums_fail_the_partial_loopback_checksum() {
    lola()
        .arg("check")
        .arg(fixture("seed-ipv4.pcap"))
        .args(["--checksums", "strict"])
        .assert()
        .code(1)
        .stdout(contains("udp.checksum 0xfe25 partial"));
}

#[test]
fn any_tcp_on_the_port_fails_and_lists_the_handshake() {
    lola()
        .arg("check")
        .arg(fixture("seed-tcp.pcap"))
        .assert()
        .code(1)
        .stdout(contains(
            "8 TCP segments on the expected endpoints, including a handshake",
        ))
        .stdout(contains("[SYN]"))
        .stdout(contains("[SYN, ACK]"))
        .stdout(contains("=> handshake on the expected endpoints"));
    lola()
        .arg("check")
        .arg(fixture("seed-tcp.pcap"))
        .args(["--allow-tcp", "--exactly", "0"])
        .assert()
        .code(0);
}

// ---- lola check: could not run, exit 2 ------------------------------------------------

#[test]
fn unreadable_and_malformed_files_exit_2_naming_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "empty.pcap",
            vec![],
            "empty file: not a pcap or pcapng capture (at byte 0)",
        ),
        (
            "text.pcap",
            b"just some notes\n".to_vec(),
            "starts with text",
        ),
        (
            "short.pcap",
            vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0],
            "pcap file header cut short: 6 of 24 bytes",
        ),
        (
            "bad-magic.pcap",
            vec![0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0],
            "bad magic number 0xdeadbeef",
        ),
    ];
    for (name, bytes, message) in cases {
        let path = dir.path().join(name);
        fs::write(&path, bytes).unwrap();
        lola()
            .arg("check")
            .arg(&path)
            .assert()
            .code(2)
            .stderr(contains(name))
            .stderr(contains(message));
    }
    let golden = fs::read(fixture("hello-lola.pcap")).unwrap();
    let cut = dir.path().join("cut.pcap");
    fs::write(&cut, &golden[..golden.len() - 5]).unwrap();
    // A file cut at its end is judged, not refused: see
    // a_capture_cut_short_shows_what_was_read_and_cannot_pass.
    lola()
        .arg("check")
        .arg(&cut)
        .assert()
        .code(1)
        .stdout(contains(
            "cut short at byte 24 (record cut short: claims 52 captured bytes, only 47 left in the file)",
        ));
    let mut huge = golden.clone();
    huge[32..36].copy_from_slice(&u32::MAX.to_le_bytes());
    let huge_path = dir.path().join("huge.pcap");
    fs::write(&huge_path, huge).unwrap();
    lola()
        .arg("check")
        .arg(&huge_path)
        .assert()
        .code(2)
        .stderr(contains(
            "invalid packet capture length 4294967295, bigger than maximum of 262144 (at byte 24)",
        ));
    lola()
        .arg("check")
        .arg(dir.path().join("missing.pcap"))
        .assert()
        .code(2)
        .stderr(contains("missing.pcap: no such file or directory"));
}

// ---- interop: tshark and tcpdump read what lola writes ---------------------------------

#[test]
fn tshark_decodes_the_frame_with_both_checksums_correct_and_no_warnings() {
    if !have("tshark") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for format in ["pcap", "pcapng"] {
        let out = dir.path().join(format!("interop.{format}"));
        let run = lola()
            .args(["run", "--port", "0", "--json", "-o"])
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(run.status.code(), Some(0));
        let v: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
        let client = v["exchange"]["client"]["port"].to_string();
        let server = v["exchange"]["server"]["port"].to_string();
        let summary = StdCommand::new("tshark")
            .arg("-r")
            .arg(&out)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&summary.stdout);
        let want = format!("127.0.0.1 → 127.0.0.1    UDP 52 {client} → {server} Len=10");
        assert!(
            text.contains(&want),
            "{format}: tshark said {text:?}, wanted {want:?}"
        );
        let verbose = StdCommand::new("tshark")
            .args([
                "-o",
                "ip.check_checksum:TRUE",
                "-o",
                "udp.check_checksum:TRUE",
                "-V",
                "-r",
            ])
            .arg(&out)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&verbose.stdout);
        assert!(
            text.contains("Header Checksum: 0x") && text.contains("[correct]"),
            "{text}"
        );
        assert_eq!(
            text.matches("[correct]").count(),
            2,
            "ip and udp checksums: {text}"
        );
        assert!(!text.contains("Expert Info (Warning"), "{text}");
        assert!(!text.contains("Expert Info (Error"), "{text}");
        let experts = StdCommand::new("tshark")
            .args([
                "-o",
                "ip.check_checksum:TRUE",
                "-o",
                "udp.check_checksum:TRUE",
                "-q",
                "-z",
                "expert,warn",
                "-r",
            ])
            .arg(&out)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&experts.stdout);
        assert!(
            !text.contains("Warning") && !text.contains("Error"),
            "{text}"
        );
    }
}

#[test]
fn tcpdump_reads_what_lola_writes() {
    if !have("tcpdump") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for format in ["pcap", "pcapng"] {
        let out = dir.path().join(format!("td.{format}"));
        lola()
            .args(["run", "--port", "0", "-o"])
            .arg(&out)
            .assert()
            .code(0);
        let read = StdCommand::new("tcpdump")
            .args(["-nn", "-r"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            read.status.success(),
            "{}",
            String::from_utf8_lossy(&read.stderr)
        );
        let text = String::from_utf8_lossy(&read.stdout);
        assert!(
            text.contains("127.0.0.1.") && text.contains("UDP, length 10"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 1, "{text}");
    }
}
