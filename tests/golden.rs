//! Pins what lola prints: the text, JSON and JUnit of `check`, `flow`, `diff`,
//! `build`, `run` and `compare` on the fixtures, byte for byte, against
//! `tests/golden/`. A change to any output shows up here as a diff.
//!
//! Runs whose ports and times change on every run (`run`, `compare`) are
//! normalized first: their ephemeral ports become `<port>`, RFC 3339 times
//! `<time>`, nanosecond times `<ns>` and millisecond figures `<ms>`.
//!
//! After an intended change of output, bless the new files with
//! `LOLA_BLESS=1 cargo test --test golden` and read the diff before committing.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::lola;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs lola with `args` in `dir` and renders exit code, stdout and stderr.
fn run_in(dir: &Path, args: &[&str]) -> String {
    let output = lola()
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "$ lola {}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    scrub_temp_dirs(&text)
}

/// `/tmp/.tmpAbC123/x` → `$TMP/x`: temporary directories differ every run.
fn scrub_temp_dirs(text: &str) -> String {
    let prefix = format!("{}/.tmp", std::env::temp_dir().display()).replace("//", "/");
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(&prefix) {
        out += &rest[..i];
        out += "$TMP";
        let after = &rest[i + prefix.len()..];
        let name_len = after
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(after.len());
        rest = &after[name_len..];
    }
    out + rest
}

/// JUnit's `time="0.004"` and `timestamp="2026-…"` → `time="<t>"`: they
/// measure the run.
fn scrub_junit_times(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = [" time=\"", " timestamp=\""]
        .iter()
        .filter_map(|attr| rest.find(attr).map(|i| i + attr.len()))
        .min()
    {
        out += &rest[..i];
        out += "<t>";
        rest = &rest[i..];
        rest = &rest[rest.find('"').unwrap_or(0)..];
    }
    out + rest
}

/// Compares `actual` with the golden file `name`, or writes it when blessing.
fn assert_golden(name: &str, actual: &str) -> Option<String> {
    let actual = scrub_junit_times(actual);
    let actual = actual.as_str();
    let path = golden_dir().join(format!("{name}.txt"));
    if std::env::var_os("LOLA_BLESS").is_some() {
        std::fs::create_dir_all(golden_dir()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return None;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; bless with LOLA_BLESS=1", path.display()));
    if expected == actual {
        return None;
    }
    let first = expected
        .lines()
        .zip(actual.lines())
        .position(|(a, b)| a != b)
        .unwrap_or(expected.lines().count().min(actual.lines().count()));
    Some(format!(
        "{name}: output changed at line {}\n  golden: {:?}\n  now:    {:?}",
        first + 1,
        expected.lines().nth(first),
        actual.lines().nth(first)
    ))
}

fn check_all(cases: Vec<(String, String)>) {
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(name, actual)| assert_golden(name, actual))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn fixtures() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo().join("fixtures"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".pcap") || n.ends_with(".pcapng"))
        .collect();
    names.sort();
    names
}

#[test]
fn check_output_on_every_fixture_is_pinned() {
    let dir = tempfile::tempdir().unwrap();
    let mut cases = Vec::new();
    for name in fixtures() {
        let file = format!("fixtures/{name}");
        let junit = dir.path().join(format!("{name}.xml"));
        let mut text = run_in(repo(), &["check", &file]);
        text += &run_in(repo(), &["check", &file, "--json"]);
        text += &run_in(
            repo(),
            &[
                "check",
                &file,
                "--quiet",
                "--junit",
                junit.to_str().unwrap(),
            ],
        );
        text += &format!(
            "--- junit\n{}",
            std::fs::read_to_string(&junit).unwrap_or_default()
        );
        cases.push((format!("check-{name}"), text));
    }
    check_all(cases);
}

#[test]
fn check_options_are_pinned() {
    let runs: &[(&str, &[&str])] = &[
        (
            "strict",
            &[
                "check",
                "fixtures/seed-ipv4.pcap",
                "--checksums",
                "strict",
                "--json",
            ],
        ),
        (
            "at-least-any-payload",
            &[
                "check",
                "fixtures/seed-ipv4-twice.pcap",
                "--at-least",
                "1",
                "--any-payload",
            ],
        ),
        (
            "dst-port",
            &[
                "check",
                "fixtures/other-9999.pcapng",
                "--dst-port",
                "9999",
                "--json",
            ],
        ),
        (
            "allow-tcp",
            &[
                "check",
                "fixtures/seed-tcp.pcap",
                "--exactly",
                "0",
                "--allow-tcp",
            ],
        ),
        (
            "src-dst",
            &[
                "check",
                "fixtures/seed-ipv6.pcap",
                "--src",
                "::1",
                "--dst",
                "[::1]:7456",
                "--json",
            ],
        ),
        (
            "hex-payload",
            &[
                "check",
                "fixtures/seed-ipv4.pcap",
                "--payload-hex",
                "ff00fe",
                "--json",
            ],
        ),
        (
            "no-file",
            &["check", "fixtures/no-such-file.pcap", "--json"],
        ),
    ];
    check_all(
        runs.iter()
            .map(|(name, args)| (format!("check-option-{name}"), run_in(repo(), args)))
            .collect(),
    );
}

#[test]
fn flow_output_is_pinned() {
    let mut cases = Vec::new();
    for name in fixtures() {
        let file = format!("fixtures/{name}");
        let mut text = run_in(repo(), &["flow", &file, "--color", "never"]);
        text += &run_in(repo(), &["flow", &file, "--json"]);
        cases.push((format!("flow-{name}"), text));
    }
    check_all(cases);
}

#[test]
fn diff_output_is_pinned() {
    let dir = tempfile::tempdir().unwrap();
    let pairs = [
        ("seed-ipv4.pcap", "seed-ipv4-twice.pcap"),
        ("seed-ipv4.pcap", "hello-lola.pcap"),
        ("seed-ipv4.pcap", "seed-ipv6.pcap"),
        ("seed-ipv4.pcap", "seed-tcp.pcap"),
        ("hello-lola.pcap", "hello-lola.pcap"),
    ];
    let mut cases = Vec::new();
    for (a, b) in pairs {
        let (a, b) = (format!("fixtures/{a}"), format!("fixtures/{b}"));
        let junit = dir.path().join("d.xml");
        let mut text = run_in(repo(), &["diff", &a, &b]);
        text += &run_in(repo(), &["diff", &a, &b, "--json"]);
        text += &run_in(
            repo(),
            &["diff", &a, &b, "--exact", "--ignore", "udp.srcport"],
        );
        text += &run_in(
            repo(),
            &["diff", &a, &b, "--junit", junit.to_str().unwrap()],
        );
        text += &format!("--- junit\n{}", std::fs::read_to_string(&junit).unwrap());
        cases.push((
            format!(
                "diff-{}-{}",
                a.trim_start_matches("fixtures/"),
                b.trim_start_matches("fixtures/")
            ),
            text,
        ));
    }
    check_all(cases);
}

#[test]
fn build_output_and_bytes_are_pinned() {
    let dir = tempfile::tempdir().unwrap();
    let runs: &[(&str, &[&str])] = &[
        (
            "ipv4",
            &["--src", "127.0.0.1:40000", "--dst", "127.0.0.1:7456"],
        ),
        (
            "ipv6-pcapng",
            &[
                "--src",
                "[::1]:40000",
                "--dst",
                "[::1]:7456",
                "--format",
                "pcapng",
            ],
        ),
        (
            "hex",
            &[
                "--src",
                "127.0.0.1:40000",
                "--dst",
                "127.0.0.1:7456",
                "--payload-hex",
                "ff00fe",
            ],
        ),
        (
            "time",
            &[
                "--src",
                "127.0.0.1:1",
                "--dst",
                "127.0.0.1:2",
                "--timestamp",
                "1700000000.5",
            ],
        ),
        ("mixed", &["--src", "127.0.0.1:1", "--dst", "[::1]:2"]),
    ];
    let mut cases = Vec::new();
    for (name, args) in runs {
        let out = format!("{name}.out");
        let mut text = String::new();
        for json in [false, true] {
            let mut all = vec!["build"];
            all.extend_from_slice(args);
            all.extend_from_slice(&["-o", &out]);
            if json {
                all.push("--json");
            }
            text += &run_in(dir.path(), &all);
        }
        let bytes = std::fs::read(dir.path().join(&out)).unwrap_or_default();
        text += "--- file\n";
        for chunk in bytes.chunks(32) {
            text += &chunk.iter().map(|b| format!("{b:02x}")).collect::<String>();
            text += "\n";
        }
        cases.push((format!("build-{name}"), text));
    }
    check_all(cases);
}

/// Replaces what changes from run to run: the ports of `ip:port` endpoints
/// (other than the seed's 7456), RFC 3339 times, and decimal figures.
fn normalize(text: &str) -> String {
    let mut ports = BTreeSet::new();
    for (i, _) in text.match_indices(':') {
        let digits: String = text[i + 1..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let before = text[..i].chars().last();
        if digits.len() >= 4 && matches!(before, Some('0'..='9' | ']')) && digits != "7456" {
            ports.insert(digits);
        }
    }
    // Ports in JSON endpoint objects: `"port": 41755`.
    for (i, m) in text.match_indices("\"port\": ") {
        let digits: String = text[i + m.len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if digits.len() >= 4 && digits != "7456" {
            ports.insert(digits);
        }
    }
    let mut out = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c.is_ascii_digit() {
            let token: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '-'))
                .collect();
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if token.len() >= 20 && token.as_bytes()[4] == b'-' && token.contains('T') {
                out += "<time>";
                rest = &rest[token.len()..];
                continue;
            }
            let number: String = rest
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let number = number.trim_end_matches('.');
            match number.matches('.').count() {
                0 => {}
                1 => {
                    out += "<ms>";
                    rest = &rest[number.len()..];
                    continue;
                }
                _ => {
                    // An IPv4 address: as it is.
                    out += number;
                    rest = &rest[number.len()..];
                    continue;
                }
            }
            if digits.len() >= 16 {
                // A time in nanoseconds since the epoch (`time_ns`).
                out += "<ns>";
            } else if ports.contains(&digits) {
                out += "<port>";
            } else {
                out += &digits;
            }
            rest = &rest[digits.len()..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
        // Skip over the rest of an identifier so "ipv4" keeps its digit.
        if c.is_ascii_alphabetic() || c == '_' {
            let word: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            out += &word;
            rest = &rest[word.len()..];
        }
    }
    out
}

#[test]
fn normalize_hides_only_what_varies() {
    assert_eq!(
        normalize(
            "FROM: 127.0.0.1:46135 to 127.0.0.1:7456 at 2026-11-25T10:13:46.978267Z 0.048 ms ipv4 52"
        ),
        "FROM: 127.0.0.1:<port> to 127.0.0.1:7456 at <time> <ms> ms ipv4 52"
    );
    assert_eq!(
        normalize("\"dst_port\": 41755, [::1]:41755"),
        "\"dst_port\": <port>, [::1]:<port>"
    );
}

#[test]
fn run_and_compare_output_is_pinned() {
    let mut cases = Vec::new();
    for (name, args) in [
        ("run", &["run", "--port", "0", "--capture", "off"][..]),
        (
            "run-json",
            &["run", "--port", "0", "--capture", "off", "--json"],
        ),
        (
            "run-ipv6-pcapng",
            &[
                "run",
                "--to",
                "[::1]:0",
                "--capture",
                "off",
                "--format",
                "pcapng",
            ],
        ),
        (
            "compare",
            &[
                "compare",
                "--port",
                "0",
                "--capture",
                "off",
                "--color",
                "never",
            ],
        ),
        (
            "compare-json",
            &["compare", "--port", "0", "--capture", "off", "--json"],
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut text = run_in(dir.path(), args);
        let mut files: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        text += &format!("--- files\n{}\n", files.join("\n"));
        // Collapse runs of spaces: column padding follows the width of the figures.
        let text = normalize(&text)
            .split(' ')
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        cases.push((name.to_string(), text));
    }
    check_all(cases);
}
