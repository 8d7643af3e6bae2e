//! lola in other people's pipelines: `lola diff` against golden captures,
//! `run --expect-like`, JUnit reports, JSON schema versions, completions, and
//! the annotations a pcapng carries for a person opening it in Wireshark.

mod common;

use std::fs;

use std::process::Command as StdCommand;

use common::{built, fixture, have, lola};
use predicates::str::contains;

#[test]
fn diff_says_same_for_a_tcpdump_capture_of_the_golden_exchange() {
    // Only what varies between runs differs: source port, IPv4 id, checksums.
    lola()
        .arg("diff")
        .arg(fixture("hello-lola.pcap"))
        .arg(fixture("seed-ipv4.pcap"))
        .assert()
        .code(0)
        .stdout(contains("PASS "))
        .stdout(contains(
            "udp.srcport (the client's ephemeral port varies between runs)",
        ));
    // --exact names every one of them.
    lola()
        .arg("diff")
        .arg(fixture("hello-lola.pcap"))
        .arg(fixture("seed-ipv4.pcap"))
        .arg("--exact")
        .assert()
        .code(1)
        .stdout(contains("frame 1: ip.id 0x0000 → 0x46ce"))
        .stdout(contains("frame 1: udp.srcport 40000 → 48801"))
        .stdout(contains(
            "frame 1: udp.checksum 0x6ba4 good → 0xfe25 partial",
        ));
}

#[test]
fn diff_names_changed_fields_and_missing_or_extra_frames() {
    let dir = tempfile::tempdir().unwrap();
    let other = built(
        dir.path(),
        "o.pcap",
        &["--message", "Hello Lolo", "--timestamp", "99"],
    );
    lola()
        .arg("diff")
        .arg(fixture("hello-lola.pcap"))
        .arg(&other)
        .assert()
        .code(1)
        .stdout(contains("frame 1: data \"Hello Lola\" → \"Hello Lolo\""));
    lola()
        .arg("diff")
        .arg(fixture("seed-ipv4-twice.pcap"))
        .arg(fixture("seed-ipv4.pcap"))
        .assert()
        .code(1)
        .stdout(contains("frame count: 2 in"))
        .stdout(contains("frame 2: missing in"));
    lola()
        .arg("diff")
        .arg(fixture("seed-ipv4.pcap"))
        .arg(fixture("seed-ipv4-twice.pcap"))
        .assert()
        .code(1)
        .stdout(contains("frame 2: extra in"));
    lola()
        .arg("diff")
        .arg(fixture("hello-lola.pcap"))
        .arg(fixture("bad-magic.pcap"))
        .assert()
        .code(2)
        .stderr(contains("bad magic number"));
}

#[test]
fn run_expect_like_holds_the_run_against_the_golden_capture() {
    let dir = tempfile::tempdir().unwrap();
    lola()
        .current_dir(dir.path())
        .args(["run", "--port", "0", "--capture", "off", "--expect-like"])
        .arg(fixture("hello-lola.pcap"))
        .assert()
        .code(0)
        .stdout(contains("PASS "))
        .stdout(contains(
            "udp.dstport (the server's port is ephemeral (--port 0))",
        ));
    lola()
        .current_dir(dir.path())
        .args([
            "run",
            "--port",
            "0",
            "--capture",
            "off",
            "--message",
            "Bye",
            "--expect-like",
        ])
        .arg(fixture("hello-lola.pcap"))
        .assert()
        .code(1)
        .stdout(contains("frame 1: data \"Hello Lola\" → \"Bye\""));
}

/// Parses JUnit XML with a real XML parser and returns (testcases, failures).
fn junit_counts(xml: &str) -> (usize, usize) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut cases, mut failures, mut depth) = (0, 0, 0i32);
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Empty(e) if e.name().as_ref() == "testcase" => {
                cases += 1;
                assert!(
                    e.try_get_attribute("name").unwrap().is_some(),
                    "every testcase has a name"
                );
            }
            Event::Start(e) if e.name().as_ref() == "testcase" => {
                cases += 1;
                depth += 1;
                assert!(
                    e.try_get_attribute("name").unwrap().is_some(),
                    "every testcase has a name"
                );
            }
            Event::Start(e) if e.name().as_ref() == "failure" => {
                failures += 1;
                depth += 1;
                assert!(e.try_get_attribute("message").unwrap().is_some());
            }
            Event::Start(_) => depth += 1,
            Event::End(_) => depth -= 1,
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0, "every element is closed");
    (cases, failures)
}

#[test]
fn junit_reports_are_valid_xml_with_one_case_per_expectation() {
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("check.xml");
    lola()
        .arg("check")
        .arg(fixture("seed-tcp.pcap"))
        .arg("--junit")
        .arg(&xml)
        .assert()
        .code(1);
    let text = fs::read_to_string(&xml).unwrap();
    assert_eq!(junit_counts(&text), (3, 2), "{text}");
    assert!(text.contains("including a handshake"), "{text}");
    assert!(
        text.contains("[SYN, ACK]"),
        "the failure carries the frames: {text}"
    );

    let xml = dir.path().join("pass.xml");
    lola()
        .arg("check")
        .arg(fixture("seed-ipv4.pcap"))
        .arg("--junit")
        .arg(&xml)
        .assert()
        .code(0);
    assert_eq!(junit_counts(&fs::read_to_string(&xml).unwrap()), (3, 0));

    let xml = dir.path().join("run.xml");
    lola()
        .current_dir(dir.path())
        .args(["run", "--port", "0", "--capture", "off", "--junit"])
        .arg(&xml)
        .args(["--expect-like"])
        .arg(fixture("hello-lola.pcap"))
        .assert()
        .code(0);
    let (cases, failures) = junit_counts(&fs::read_to_string(&xml).unwrap());
    assert!(cases >= 5 && failures == 0, "{cases} {failures}");

    let xml = dir.path().join("diff.xml");
    lola()
        .arg("diff")
        .arg(fixture("seed-ipv4-twice.pcap"))
        .arg(fixture("seed-ipv4.pcap"))
        .arg("--junit")
        .arg(&xml)
        .assert()
        .code(1);
    assert_eq!(junit_counts(&fs::read_to_string(&xml).unwrap()), (2, 2));
}

#[test]
fn every_json_report_carries_a_schema_version() {
    let dir = tempfile::tempdir().unwrap();
    let reports = [
        lola()
            .arg("check")
            .arg(fixture("seed-ipv4.pcap"))
            .arg("--json")
            .output()
            .unwrap(),
        lola()
            .arg("diff")
            .arg(fixture("hello-lola.pcap"))
            .arg(fixture("seed-ipv4.pcap"))
            .arg("--json")
            .output()
            .unwrap(),
        lola()
            .current_dir(dir.path())
            .args(["run", "--port", "0", "--capture", "off", "--json"])
            .output()
            .unwrap(),
        lola()
            .args([
                "build",
                "--src",
                "127.0.0.1:1",
                "--dst",
                "127.0.0.1:2",
                "--json",
                "-o",
            ])
            .arg(dir.path().join("b.pcap"))
            .output()
            .unwrap(),
    ];
    for output in reports {
        let v: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(v["schema_version"], 3, "{v:#}");
    }
}

#[test]
fn completions_for_bash_zsh_and_fish() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef lola"),
        ("fish", "complete -c lola"),
    ] {
        lola()
            .args(["completions", shell])
            .assert()
            .code(0)
            .stdout(contains(marker));
    }
    lola().args(["completions", "tcsh"]).assert().code(2);
}

#[test]
fn pcapng_output_names_lola_the_interface_and_each_frame() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("annotated.pcapng");
    lola()
        .current_dir(dir.path())
        .args(["run", "--port", "0", "--capture", "off", "-o"])
        .arg(&out)
        .assert()
        .code(0);
    if !have("tshark") || !have("capinfos") {
        return;
    }
    let comments = StdCommand::new("tshark")
        .args(["-T", "fields", "-e", "frame.comment", "-r"])
        .arg(&out)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&comments.stdout);
    assert!(
        text.contains("synthesized by lola from the datagram the server received at 20"),
        "{text}"
    );
    let info = StdCommand::new("capinfos").arg(&out).output().unwrap();
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(
        text.contains(concat!(
            "Capture application: lola ",
            env!("CARGO_PKG_VERSION")
        )),
        "{text}"
    );
    assert!(text.contains("Capture oper-sys:"), "{text}");
    assert!(text.contains("Name = lo"), "{text}");
    assert!(text.contains("Time precision = nanoseconds"), "{text}");
    assert!(text.contains("Encapsulation = Ethernet"), "{text}");
}
