//! Every input has a bound, and names are shown, never obeyed (issue 24,
//! items 6 and 7): hostile or absurd inputs get one line and exit 2, never a
//! panic, an endless read or a terminal taken over.

mod common;

use std::fs;
use std::process::Command as StdCommand;
use std::time::{Duration, Instant};

use common::{fixture, lola, text};

/// `lola check --expect FILE fixtures/CAPTURE`.
fn check_expect(file: &std::path::Path, capture: &str) -> std::process::Output {
    lola()
        .args(["check", "--expect"])
        .arg(file)
        .arg(fixture(capture))
        .output()
        .unwrap()
}

/// The one line lola printed on stderr, and that there was only one.
fn one_line(stderr: &[u8]) -> String {
    let s = String::from_utf8_lossy(stderr).into_owned();
    assert_eq!(s.lines().count(), 1, "one line expected, got:\n{s}");
    s
}

#[test]
fn an_endless_expectation_file_is_refused_after_16_mib() {
    let started = Instant::now();
    let out = lola()
        .args(["check", "--expect", "/dev/zero"])
        .arg(fixture("seed-ipv4.pcap"))
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(
        one_line(&out.stderr),
        "lola: /dev/zero: an expectation file is at most 16 MiB; this one is larger\n"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn an_expectation_file_that_is_not_utf8_is_refused_at_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    fs::write(&file, b"[[expect]]\nname = \"a\xff\"\nmatch = \"udp\"\n").unwrap();
    let out = check_expect(&file, "seed-ipv4.pcap");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let line = one_line(&out.stderr);
    assert!(line.contains("bad.toml:2:10: not UTF-8 text"), "{line}");
}

#[test]
fn durations_that_would_overflow_are_refused_not_panicked_on() {
    let dir = tempfile::tempdir().unwrap();
    let out = lola()
        .args([
            "run",
            "--port",
            "0",
            "--linger",
            "18446744073709551615s",
            "-o",
        ])
        .arg(dir.path().join("x.pcap"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("is too long: durations go up to"),
        "{}",
        text(&out)
    );

    // In an expectation file, `within` and `tolerance` too.
    for (setting, within) in [
        ("tolerance = \"1000%\"", "18446744073709551615s"),
        ("", "1000000001s"),
    ] {
        let toml = format!(
            "[settings]\n{setting}\n[[expect]]\nname = \"first\"\nmatch = \"udp\"\n\
             [[expect]]\nname = \"second\"\nmatch = \"udp\"\nafter = \"first\"\nwithin = \"{within}\"\n"
        );
        let file = dir.path().join("within.toml");
        fs::write(&file, toml).unwrap();
        let out = check_expect(&file, "seed-ipv4-twice.pcap");
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        let line = one_line(&out.stderr);
        assert!(
            line.contains("within.toml:10:10: within: longer than any capture"),
            "{line}"
        );
    }

    // A wide but legal window with a large tolerance saturates: no overflow.
    let file = dir.path().join("wide.toml");
    fs::write(
        &file,
        "[settings]\ntolerance = \"4000000000%\"\n[[expect]]\nname = \"first\"\nmatch = \"udp\"\n\
         [[expect]]\nname = \"second\"\nmatch = \"udp\"\nafter = \"first\"\nwithin = \"999999999s\"\n",
    )
    .unwrap();
    let out = check_expect(&file, "seed-ipv4-twice.pcap");
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out));
}

#[test]
fn an_escape_sequence_in_a_file_name_is_shown_not_obeyed() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = dir.path().join("\x1b[2J\x1b]0;owned\x07x.pcap");
    fs::copy(fixture("seed-ipv4.pcap"), &hostile).unwrap();
    fs::copy(fixture("seed-ipv4-twice.pcap"), dir.path().join("b.pcap")).unwrap();

    // Plain text: no control character at all reaches the terminal.
    let out = lola()
        .env("NO_COLOR", "1")
        .arg("check")
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(
        !stdout.contains('\x1b') && !stdout.contains('\x07'),
        "{stdout:?}"
    );
    assert!(
        stdout.contains("\\x1b[2J\\x1b]0;owned\\x07x.pcap"),
        "{stdout}"
    );

    // In colour, the only escapes are lola's own colours.
    let out = lola()
        .env("CLICOLOR_FORCE", "1")
        .env_remove("NO_COLOR")
        .arg("check")
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("\x1b[32m"), "colour was forced: {stdout:?}");
    assert!(
        !stdout.contains("\x1b[2J") && !stdout.contains('\x07'),
        "{stdout:?}"
    );

    // An error naming the file: shown escaped on stderr too.
    let missing = dir.path().join("\x1b[2Jgone.pcap");
    let out = lola().arg("check").arg(&missing).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let line = one_line(&out.stderr);
    assert!(
        !line.contains('\x1b') && line.contains("\\x1b[2Jgone.pcap"),
        "{line:?}"
    );
}

#[test]
fn many_jobs_under_a_low_open_file_limit_wait_for_descriptors() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..400 {
        fs::copy(
            fixture("seed-ipv4.pcap"),
            dir.path().join(format!("{i}.pcap")),
        )
        .unwrap();
    }
    let bin = assert_cmd::cargo::cargo_bin("lola");
    // The hard limit too, so that lola cannot simply raise the soft one.
    let out = StdCommand::new("sh")
        .arg("-c")
        .arg("ulimit -n 64 && exec \"$0\" check -j 1000 \"$1\"")
        .arg(&bin)
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.ends_with("400 files: 400 passed, 0 failed\n"),
        "{stdout}"
    );
}

/// `match = '…'` of `predicate`, in an expectation file in `dir`.
fn predicate_file(dir: &std::path::Path, predicate: &str) -> std::path::PathBuf {
    let file = dir.join("big.toml");
    fs::write(
        &file,
        format!("[[expect]]\nname = \"a\"\nmatch = '{predicate}'\n"),
    )
    .unwrap();
    file
}

#[test]
fn a_predicate_of_any_size_loads_or_is_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    // A flat chain of 100,000 tests: loads and holds.
    let chain = vec!["udp.dstport == 7456"; 100_000].join(" && ");
    let started = Instant::now();
    let out = check_expect(&predicate_file(dir.path(), &chain), "seed-ipv4.pcap");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(started.elapsed() < Duration::from_secs(20));
    let or = vec!["udp.dstport == 1"; 100_000].join(" || ");
    let out = check_expect(&predicate_file(dir.path(), &or), "seed-ipv4.pcap");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    // 25,100 `!`: an even run is the test itself.
    let nots = format!("{}udp", "!".repeat(25_100));
    let out = check_expect(&predicate_file(dir.path(), &nots), "seed-ipv4.pcap");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // 10,300 parentheses: refused at the column nesting goes too deep.
    let deep = format!("{}udp{}", "(".repeat(10_300), ")".repeat(10_300));
    let out = check_expect(&predicate_file(dir.path(), &deep), "seed-ipv4.pcap");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let line = one_line(&out.stderr);
    assert!(line.contains("big.toml:3:74: "), "{line}");
    assert!(line.contains("nested more than 64 levels deep"), "{line}");
    assert!(line.len() < 300, "{line}");
    // A 1 MB field name: one line, the name shown once and cut short.
    let name = "x".repeat(1 << 20);
    let out = check_expect(
        &predicate_file(dir.path(), &format!("{name} == 1")),
        "seed-ipv4.pcap",
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let line = one_line(&out.stderr);
    assert!(line.len() < 300, "{}", &line[..300]);
    assert!(line.contains("unknown field xxx"), "{line}");
}
