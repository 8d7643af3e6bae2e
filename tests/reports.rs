//! The reports CI reads, and one command line for many files: JUnit names
//! that do not change between runs, JUnit and JSON even on exit 2, JUnit
//! valid against the schema, several captures checked at once in argument
//! order, colour as NO_COLOR and CLICOLOR_FORCE say, the values of every
//! fixed-choice option in the completions.

mod common;

use std::fs;
use std::process::Command as StdCommand;

use common::{assert_valid_junit, fixture, have, in_ci, lola};
use predicates::prelude::*;
use predicates::str::contains;

/// The `(classname, name)` of every test case in a JUnit document.
fn case_ids(xml: &str) -> Vec<(String, String)> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut ids = Vec::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Empty(e) | Event::Start(e) if e.name().as_ref() == "testcase" => {
                let attr = |name: &str| {
                    e.try_get_attribute(name)
                        .unwrap()
                        .map(|a| a.value.to_string())
                        .unwrap_or_default()
                };
                ids.push((attr("classname"), attr("name")));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    ids
}

#[test]
fn junit_names_stay_the_same_when_the_ports_change() {
    if !have("python3") && in_ci() {
        panic!("python3 missing");
    }
    let dir = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    for i in 0..2 {
        let xml = dir.path().join(format!("r{i}.xml"));
        let pcap = dir.path().join("run.pcap");
        lola()
            .current_dir(dir.path())
            .args(["run", "--port", "0", "--capture", "off", "-o"])
            .arg(&pcap)
            .arg("--junit")
            .arg(&xml)
            .assert()
            .code(0);
        let text = fs::read_to_string(&xml).unwrap();
        assert!(!text.contains("hostname"), "{text}");
        assert!(text.contains(" timestamp=\""), "{text}");
        assert!(text.contains(" time=\""), "{text}");
        assert_valid_junit(&xml);
        runs.push(case_ids(&text));
    }
    assert!(!runs[0].is_empty());
    assert_eq!(runs[0], runs[1], "test ids differ between two runs");
    for (_, name) in &runs[0] {
        assert!(
            !name.contains("127.0.0.1:"),
            "a port in a test name: {name}"
        );
    }
}

#[test]
fn exit_2_still_writes_junit_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("e.xml");
    let out = lola()
        .arg("check")
        .arg(fixture("bad-magic.pcap"))
        .arg("--junit")
        .arg(&xml)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON document");
    assert_eq!(doc["verdict"], "error");
    assert_eq!(doc["schema_version"], 3);
    assert_eq!(doc["error"]["kind"], "malformed");
    assert_eq!(doc["error"]["offset"], 0);
    assert!(
        doc["error"]["path"]
            .as_str()
            .unwrap()
            .ends_with("bad-magic.pcap")
    );
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("bad magic number 0xdeadbeef")
    );
    let text = fs::read_to_string(&xml).unwrap();
    assert!(text.contains(r#"errors="1""#), "{text}");
    assert!(text.contains("<error message="), "{text}");
    assert!(text.contains("bad magic number 0xdeadbeef"), "{text}");
    assert_valid_junit(&xml);

    // diff too.
    let xml = dir.path().join("d.xml");
    let out = lola()
        .arg("diff")
        .arg(fixture("seed-ipv4.pcap"))
        .arg(dir.path().join("missing.pcap"))
        .arg("--junit")
        .arg(&xml)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (&doc["verdict"], &doc["error"]["kind"]),
        (&"error".into(), &"io".into())
    );
    assert!(fs::read_to_string(&xml).unwrap().contains("<error "));
    assert_valid_junit(&xml);
}

#[test]
fn many_files_are_checked_with_one_verdict_each_in_argument_order() {
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("all.xml");
    let files = [
        "seed-tcp.pcap",
        "seed-ipv4.pcap",
        "bad-magic.pcap",
        "seed-ipv6.pcap",
    ];
    let out = lola()
        .arg("check")
        .args(files.iter().map(|f| fixture(f)))
        .arg("--junit")
        .arg(&xml)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a file could not be read: {text}"
    );
    let verdicts: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("PASS ") || l.starts_with("FAIL "))
        .collect();
    assert_eq!(verdicts.len(), 3, "{text}");
    assert!(verdicts[0].starts_with("FAIL") && verdicts[0].contains("seed-tcp.pcap"));
    assert!(verdicts[1].starts_with("PASS") && verdicts[1].contains("seed-ipv4.pcap"));
    assert!(verdicts[2].starts_with("PASS") && verdicts[2].contains("seed-ipv6.pcap"));
    assert!(
        text.ends_with("4 files: 2 passed, 1 failed, 1 could not be read\n"),
        "{text}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad magic number"));
    let junit = fs::read_to_string(&xml).unwrap();
    assert_eq!(junit.matches("<testsuite ").count(), 4, "{junit}");
    let suites: Vec<usize> = files
        .iter()
        .map(|f| {
            junit
                .find(&format!("lola check {}", fixture(f).display()))
                .unwrap()
        })
        .collect();
    assert!(suites.is_sorted(), "suites in argument order: {junit}");
    assert_valid_junit(&xml);

    // Exit 1 when one fails and all could be read; the same output with -j1.
    let args = |jobs: &str| {
        let out = lola()
            .arg("check")
            .arg(fixture("seed-ipv4.pcap"))
            .arg(fixture("seed-tcp.pcap"))
            .arg(fixture("seed-ipv6.pcap"))
            .args(["-j", jobs, "--json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        out.stdout
    };
    let parallel = args("4");
    assert_eq!(parallel, args("1"), "parallel and sequential output differ");
    let doc: serde_json::Value = serde_json::from_slice(&parallel).unwrap();
    assert_eq!(doc["verdict"], "fail");
    assert_eq!(doc["files"], 3);
    let verdicts: Vec<&str> = doc["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts, ["pass", "fail", "pass"]);
}

#[test]
fn a_directory_or_a_quoted_glob_stands_for_its_captures() {
    let dir = tempfile::tempdir().unwrap();
    for (name, from) in [
        ("b.pcap", "seed-ipv4.pcap"),
        ("a.pcapng", "seed-ipv6.pcap"),
        ("c.pcap", "seed-tcp.pcap"),
    ] {
        fs::copy(fixture(from), dir.path().join(name)).unwrap();
    }
    fs::write(dir.path().join("notes.txt"), "not a capture").unwrap();
    lola()
        .arg("check")
        .arg(dir.path())
        .env("NO_COLOR", "1")
        .assert()
        .code(1)
        .stdout(contains("3 files: 2 passed, 1 failed"));
    let out = lola()
        .current_dir(dir.path())
        .args(["check", "*.pcap", "-q"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "c.pcap fails");
    assert!(out.stdout.is_empty());
    lola()
        .current_dir(dir.path())
        .args(["check", "?.pcap"])
        .env("NO_COLOR", "1")
        .assert()
        .stdout(contains("PASS b.pcap").and(contains("FAIL c.pcap")));
    lola()
        .current_dir(dir.path())
        .args(["check", "x*.pcap"])
        .assert()
        .code(2)
        .stderr(contains("x*.pcap: no file matches"));
}

#[test]
fn colour_follows_no_color_clicolor_force_and_the_flag() {
    let seed = fixture("seed-ipv4.pcap");
    let escape = "\x1b[";
    let run = |envs: &[(&str, &str)], args: &[&str]| {
        let mut cmd = lola();
        cmd.arg("check").arg(&seed).args(args);
        cmd.env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        String::from_utf8(cmd.output().unwrap().stdout).unwrap()
    };
    // Not a terminal: no colour, unless forced.
    assert!(!run(&[], &[]).contains(escape));
    assert!(run(&[("CLICOLOR_FORCE", "1")], &[]).starts_with("\x1b[1m\x1b[32mPASS"));
    assert!(!run(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")], &[]).contains(escape));
    assert!(run(&[("NO_COLOR", "1")], &["--color", "always"]).contains(escape));
    assert!(!run(&[("CLICOLOR_FORCE", "1")], &["--color", "never"]).contains(escape));
}

#[test]
fn completions_offer_the_values_of_every_fixed_choice_option() {
    let out = lola().args(["completions", "bash"]).output().unwrap();
    let script = String::from_utf8(out.stdout).unwrap();
    for values in [
        "strict lenient ignore",
        "fail judge-complete-frames",
        "pcap pcapng",
        "host private auto off",
        "auto always never",
    ] {
        assert!(script.contains(values), "bash completions lack {values:?}");
    }
    lola()
        .args(["check", "--help"])
        .assert()
        .stdout(contains("[possible values: strict, lenient, ignore]"));
    lola()
        .args(["check", "x.pcap", "--checksums", "loose"])
        .assert()
        .code(2)
        .stderr(contains("possible values: strict, lenient, ignore"));
}

#[test]
fn a_datagram_to_another_port_gets_a_hint() {
    lola()
        .arg("check")
        .arg(fixture("seed-ipv4.pcap"))
        .args(["--dst-port", "9"])
        .assert()
        .code(1)
        .stdout(contains(
            "hint: the datagram in frame 1 goes to port 7456; use --dst-port 7456",
        ));
    // No hint when the payload differs too: the port alone would not do.
    lola()
        .arg("check")
        .arg(fixture("seed-ipv4.pcap"))
        .args(["--dst-port", "9", "--message", "other"])
        .assert()
        .code(1)
        .stdout(contains("hint:").not());
}

#[test]
fn tcpdump_style_r_reads_a_capture() {
    lola()
        .arg("check")
        .arg("-r")
        .arg(fixture("seed-ipv4.pcap"))
        .assert()
        .code(0);
}

#[test]
fn the_same_flag_means_the_same_thing_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    // -w writes a capture, as in tcpdump.
    lola()
        .current_dir(dir.path())
        .args([
            "build",
            "--src",
            "127.0.0.1:1",
            "--dst",
            "127.0.0.1:7456",
            "-w",
            "w.pcap",
        ])
        .assert()
        .code(0);
    lola()
        .arg("check")
        .arg(dir.path().join("w.pcap"))
        .assert()
        .code(0);
    // listen takes --to as run and send do; send takes --message as run does.
    for (command, flag) in [
        ("listen", "--to"),
        ("send", "--message"),
        ("flow", "--read"),
    ] {
        let out = lola().args([command, "--help"]).output().unwrap();
        let help = String::from_utf8(out.stdout).unwrap();
        assert!(help.contains(flag), "{command} --help lacks {flag}");
    }
    lola()
        .args(["send", "--message", "a", "b"])
        .assert()
        .code(2)
        .stderr(contains("cannot be used with"));
}

#[test]
fn argument_errors_are_one_line_and_a_usage_line() {
    lola().args(["chek", "x.pcap"]).assert().code(2).stderr(
        "lola: unrecognized subcommand 'chek' (a similar subcommand exists: 'check')\n\
             usage: lola <COMMAND>  (lola --help for more)\n",
    );
    let out = lola()
        .args(["check", "--cout", "2", "x.pcap"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with(
            "lola: unexpected argument '--cout' found (a similar argument exists: '--exactly')\n"
        ),
        "{stderr}"
    );
    assert!(stderr.lines().count() <= 2, "{stderr}");
    lola()
        .arg("--version")
        .assert()
        .code(0)
        .stdout(contains("lola "));
}

#[test]
fn man_prints_a_manual_page() {
    let out = lola().arg("man").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.contains(".TH lola 1"), "{page}");
    assert!(page.contains(".SH \"LOLA CHECK\""));
    if have("man") {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("lola.1");
        fs::write(&file, &page).unwrap();
        let shown = StdCommand::new("man")
            .arg("-l")
            .arg(&file)
            .env("MANWIDTH", "80")
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&shown.stdout).contains("LOLA CHECK"));
    }
}

#[test]
fn compare_says_when_it_could_not_use_the_same_port_for_udp() {
    // The UDP port is taken, the TCP one is free: compare must not move the
    // UDP side silently.
    let taken = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let out = lola()
        .args([
            "compare",
            "--capture",
            "off",
            "--port",
            &port.to_string(),
            "--out-dir",
        ])
        .arg(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(&format!(
            "note: UDP port {port} was taken, so the UDP server used port"
        )),
        "{text}"
    );
}

#[test]
fn compare_on_exit_2_still_writes_its_reports() {
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("c.xml");
    // A file where the output directory should be: it cannot be made.
    fs::write(dir.path().join("no-such-dir"), b"").unwrap();
    let out = lola()
        .args([
            "compare",
            "--port",
            "0",
            "--capture",
            "off",
            "--json",
            "--out-dir",
        ])
        .arg(dir.path().join("no-such-dir"))
        .arg("--junit")
        .arg(&xml)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (doc["verdict"].as_str(), doc["error"]["kind"].as_str()),
        (Some("error"), Some("io"))
    );
    let text = fs::read_to_string(&xml).unwrap();
    assert!(
        text.contains("<error message=") && text.contains("no-such-dir"),
        "{text}"
    );
    assert_valid_junit(&xml);
}

#[test]
fn diff_is_quiet_with_q_and_coloured_on_request() {
    let (a, b) = (fixture("seed-ipv4.pcap"), fixture("seed-ipv4-twice.pcap"));
    lola()
        .arg("diff")
        .arg(&a)
        .arg(&b)
        .arg("-q")
        .assert()
        .code(1)
        .stdout("");
    lola()
        .arg("diff")
        .arg(&a)
        .arg(&a)
        .args(["--color", "always"])
        .env("NO_COLOR", "1")
        .assert()
        .code(0)
        .stdout(contains("\x1b[1m\x1b[32mPASS"));
}

#[test]
fn run_on_exit_2_still_writes_its_reports() {
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("reports/r.xml");
    // A file where the capture's directory should be: nothing can be written there.
    fs::write(dir.path().join("blocked"), b"").unwrap();
    let out = lola()
        .current_dir(dir.path())
        .args(["run", "--port", "0", "--capture", "off", "--json", "-o"])
        .arg("blocked/hello.pcap")
        .arg("--junit")
        .arg(&xml)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["verdict"], "error", "{doc:#}");
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("blocked"),
        "{doc:#}"
    );
    let text = fs::read_to_string(&xml).unwrap();
    assert!(text.contains("<error message="), "{text}");
    assert_valid_junit(&xml);
}

#[test]
fn run_is_quiet_with_q_and_coloured_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let quiet = lola()
        .current_dir(dir.path())
        .args(["run", "--port", "0", "--capture", "off", "-q"])
        .output()
        .unwrap();
    assert_eq!(quiet.status.code(), Some(0));
    assert!(
        quiet.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&quiet.stdout)
    );
    let coloured = lola()
        .current_dir(dir.path())
        .args([
            "run",
            "--port",
            "0",
            "--capture",
            "off",
            "--color",
            "always",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&coloured.stdout);
    assert!(text.contains("\x1b["), "{text}");
    let plain = lola()
        .current_dir(dir.path())
        .args(["run", "--port", "0", "--capture", "off", "--color", "never"])
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&plain.stdout).contains("\x1b["));
}
