//! Expectation files (`lola check --expect`, `lola expect`) and frames out
//! as NDJSON (`lola check --emit`), against the real binary.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

mod common;

use common::{assert_valid_junit, fixture, in_ci, lola};
use predicates::str::contains;

/// Every readable capture fixture.
fn captures() -> Vec<PathBuf> {
    common::capture_fixtures(false)
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path
}

/// Exit status of `lola check --expect FILE CAPTURE`.
fn check_with(toml: &str, capture: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "lola.toml", toml);
    let out = lola()
        .args(["check", "--expect"])
        .arg(&path)
        .arg(fixture(capture))
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap(), text)
}

fn one(match_: &str, capture: &str) -> i32 {
    check_with(
        &format!("[[expect]]\nname = \"x\"\nmatch = '{match_}'\ncount = \">= 1\"\n"),
        capture,
    )
    .0
}

#[test]
fn the_default_set_gives_the_builtin_verdict_on_every_fixture() {
    let dir = tempfile::tempdir().unwrap();
    let out = lola().args(["expect", "show-default"]).output().unwrap();
    assert!(out.status.success());
    let default = write(
        dir.path(),
        "default.toml",
        &String::from_utf8(out.stdout).unwrap(),
    );
    for capture in captures() {
        let builtin = lola()
            .arg("check")
            .arg("-q")
            .arg(&capture)
            .output()
            .unwrap();
        let set = lola()
            .args(["check", "-q", "--expect"])
            .arg(&default)
            .arg(&capture)
            .output()
            .unwrap();
        assert_eq!(
            builtin.status.code(),
            set.status.code(),
            "{}",
            capture.display()
        );
    }
}

#[test]
fn flag_options_build_the_same_structure() {
    lola()
        .args([
            "expect",
            "show-default",
            "--dst-port",
            "9000",
            "--message",
            "Hi",
            "--allow-tcp",
        ])
        .assert()
        .success()
        .stdout(contains("match = 'udp.dstport == 9000'"))
        .stdout(contains(r#"where = ['udp.payload == "Hi"']"#))
        .stdout(contains("forbid = []"));
}

/// Every file under `dir`, in its subfolders too, in name order.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// `lola expect record` then `lola check --expect` on each capture: what
/// is recorded holds on the capture it came from. A capture lola cannot
/// read, or with nothing to record, is said so in one line (exit 2).
/// Returns how many were recorded, and the failures.
fn record_then_check(captures: &[PathBuf]) -> (usize, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let mut recorded = 0;
    let mut failures = Vec::new();
    for capture in captures {
        let out = lola()
            .args(["expect", "record"])
            .arg(capture)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.code() == Some(2) && stderr.lines().count() == 1 {
            let unreadable = lola()
                .args(["check", "-q"])
                .arg(capture)
                .output()
                .unwrap()
                .status
                .code()
                == Some(2);
            if !unreadable && !stderr.contains("no UDP or TCP frame") {
                failures.push(format!("{}: record: {stderr}", capture.display()));
            }
            continue;
        }
        if !out.status.success() {
            failures.push(format!("{}: record: {stderr}", capture.display()));
            continue;
        }
        let toml = write(
            dir.path(),
            "rec.toml",
            &String::from_utf8(out.stdout).unwrap(),
        );
        let check = lola()
            .args(["check", "--expect"])
            .arg(&toml)
            .arg(capture)
            .output()
            .unwrap();
        recorded += 1;
        if !check.status.success() {
            failures.push(format!(
                "{}: {}\n{}",
                capture.display(),
                String::from_utf8_lossy(&check.stdout),
                fs::read_to_string(&toml).unwrap()
            ));
        }
    }
    (recorded, failures)
}

#[test]
fn record_then_check_passes_on_every_fixture() {
    let captures: Vec<PathBuf> = files_under(&fixture(""))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
        .collect();
    let (recorded, failures) = record_then_check(&captures);
    eprintln!(
        "record then check: {recorded} fixtures recorded, {} failed",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(recorded > 30, "{recorded}");
}

/// The same over every capture of the corpus at `$LOLA_CORPUS` (the tcpdump
/// and libpcap projects' test captures: not in CI, which has no copy).
#[test]
fn record_then_check_passes_on_every_capture_of_the_corpus() {
    let Some(corpus) = std::env::var_os("LOLA_CORPUS") else {
        eprintln!("SKIPPED: LOLA_CORPUS is not set");
        return;
    };
    let (recorded, failures) = record_then_check(&files_under(Path::new(&corpus)));
    eprintln!(
        "record then check: {recorded} corpus captures recorded, {} failed",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(recorded > 0);
}

/// A chain of 10,000 expectations, each `after` the one before, is loaded
/// and judged in linear time: on one frame (which the first holds; the
/// second leaves it, its anchor's own frame; for the third it comes before
/// the second held anything), and on 10,000 frames, one per expectation.
#[test]
fn ten_thousand_chained_expectations_load_and_check_quickly() {
    const N: usize = 10_000;
    let dir = tempfile::tempdir().unwrap();
    let chain = |matches: &dyn Fn(usize) -> String, count: &str| {
        let mut text = String::new();
        for i in 1..=N {
            text += &format!(
                "[[expect]]\nname = \"e{i}\"\nmatch = '{}'\ncount = {count}\n",
                matches(i)
            );
            if i > 1 {
                text += &format!("after = \"e{}\"\n", i - 1);
            }
        }
        text
    };
    let seed = fs::read(fixture("seed-ipv4.pcap")).unwrap();
    let mut many = seed.clone();
    for _ in 1..N {
        many.extend_from_slice(&seed[24..]);
    }
    let many = {
        let path = dir.path().join("many.pcap");
        fs::write(&path, many).unwrap();
        path
    };
    let cases = [
        (
            "one.toml",
            chain(&|_| "udp".into(), "\"<= 1\""),
            fixture("seed-ipv4.pcap"),
            1,
        ),
        (
            "many.toml",
            chain(&|i| format!("frame.number == {i}"), "1"),
            many,
            0,
        ),
    ];
    for (name, text, capture, code) in cases {
        let toml = write(dir.path(), name, &text);
        let started = std::time::Instant::now();
        let out = lola()
            .args(["check", "--expect"])
            .arg(&toml)
            .arg(&capture)
            .output()
            .unwrap();
        let took = started.elapsed();
        eprintln!(
            "{N} chained expectations ({name}): {:.2} s",
            took.as_secs_f64()
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(code), "{name}: {stdout}");
        if code == 1 {
            assert!(stdout.contains("  ok    e2: 0 frames held"), "{stdout}");
            assert!(
                stdout.contains("FAIL  e3: 0 frames held (count at most 1)\n          1 frame matched before the first held frame of \"e2\""),
                "{stdout}"
            );
        }
        assert!(took.as_secs_f64() < 5.0, "{name}: {took:?}");
    }
}

#[test]
fn every_operator() {
    let cases = [
        ("udp.dstport == 7456", 0),
        ("udp.dstport != 7456", 1),
        ("udp.dstport eq 7456", 0),
        (
            "ip.ttl < 65 && ip.ttl <= 64 && ip.ttl > 63 && ip.ttl >= 64",
            0,
        ),
        ("ip.ttl > 64", 1),
        ("udp.port in {53, 7456}", 0),
        ("udp.port in {53, 54}", 1),
        ("data.text contains \"Lola\"", 0),
        ("data.data contains 4c:6f", 0),
        ("data.data == 48:65:6c:6c:6f:20:4c:6f:6c:61", 0),
        ("ip.dst == 127.0.0.0/8", 0),
        ("ip.dst == 10.0.0.0/8", 1),
        ("!tcp && (udp || tcp)", 0),
        ("not udp or tcp", 1),
        ("udp.checksum.status == \"Unverified\"", 0),
        ("ip.checksum.status == \"good\"", 0),
        ("eth.src == 00:00:00:00:00:00", 0),
        ("ip.flags.df == 1 and ip.flags.mf == 0", 0),
    ];
    for (predicate, status) in cases {
        assert_eq!(one(predicate, "seed-ipv4.pcap"), status, "{predicate}");
    }
    assert_eq!(
        one("ipv6.dst == ::1 && udp.dstport == 7456", "seed-ipv6.pcap"),
        0
    );
    assert_eq!(
        one(
            "tcp.seq == 0 && tcp.flags.syn == 1 && tcp.ack == 1",
            "seed-tcp.pcap"
        ),
        0
    );
}

#[test]
fn count_forms() {
    let cases = [
        ("2", 0),
        ("1", 1),
        ("\">= 2\"", 0),
        ("\"> 2\"", 1),
        ("\"<= 3\"", 0),
        ("\"< 2\"", 1),
        ("\"1..=2\"", 0),
        ("0", 1),
    ];
    for (count, status) in cases {
        let toml =
            format!("[[expect]]\nname = \"x\"\nmatch = 'udp.dstport == 7456'\ncount = {count}\n");
        assert_eq!(
            check_with(&toml, "seed-ipv4-twice.pcap").0,
            status,
            "{count}"
        );
    }
}

#[test]
fn where_failures_say_field_and_actual_value() {
    let (status, text) = check_with(
        "[[expect]]\nname = \"hello\"\nmatch = 'udp.dstport == 7456'\nwhere = ['ip.ttl == 63']\n",
        "seed-ipv4.pcap",
    );
    assert_eq!(status, 1);
    assert!(
        text.contains("1 frame matched but failed a condition"),
        "{text}"
    );
    assert!(text.contains("ip.ttl == 63: ip.ttl is 64"), "{text}");
}

#[test]
fn a_missing_frame_shows_what_came_closest() {
    let (status, text) = check_with(
        "[[expect]]\nname = \"x\"\nmatch = 'udp.dstport == 7456 && ip.ttl == 1'\n",
        "seed-ipv4.pcap",
    );
    assert_eq!(status, 1);
    assert!(text.contains("closest: frame 1"), "{text}");
    assert!(
        text.contains("1 of 2 conditions held; ip.ttl is 64"),
        "{text}"
    );
}

/// A frame the fast path skips (no predicate can hold on its ports) is
/// still a candidate for "closest": the datagram that went to another port.
#[test]
fn a_datagram_to_another_port_is_what_came_closest() {
    let dir = tempfile::tempdir().unwrap();
    let capture = common::built_to(dir.path(), "p9000.pcap", "127.0.0.1:9000", &[]);
    let set = write(
        dir.path(),
        "lola.toml",
        "[[expect]]\nname = \"hello\"\nmatch = 'udp.dstport == 7456 && data.text == \"Hello Lola\"'\n",
    );
    let out = lola()
        .args(["check", "--expect"])
        .arg(&set)
        .arg(&capture)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(
            "closest: frame 1: UDP 127.0.0.1:40000 → 127.0.0.1:9000 Len=10: 1 of 2 conditions held; udp.dstport is 9000"
        ),
        "{text}"
    );
}

const REPLY: &str = "[[expect]]
name = \"hello\"
match = 'udp.dstport == 7456'
[[expect]]
name = \"reply\"
match = 'udp.srcport == 7456'
after = \"hello\"
within = \"WITHIN\"
[settings]
tolerance = \"TOL\"
";

fn reply_gap_ns() -> u64 {
    let dir = tempfile::tempdir().unwrap();
    let toml = REPLY.replace("WITHIN", "1h").replace("TOL", "0s");
    let path = write(dir.path(), "r.toml", &toml);
    let out = lola()
        .args(["check", "--json", "--expect"])
        .arg(&path)
        .arg(fixture("reply.pcap"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json["expectations"][1]["gap_ns"].as_u64().unwrap()
}

#[test]
fn after_and_within_with_absolute_and_relative_tolerance() {
    let gap = reply_gap_ns();
    assert!(gap > 0);
    let half = format!("{}ns", gap / 2);
    let run = |within: &str, tol: &str| {
        check_with(
            &REPLY.replace("WITHIN", within).replace("TOL", tol),
            "reply.pcap",
        )
    };
    // The window alone is too short; the tolerance makes up for it.
    let (status, text) = run(&half, "0s");
    assert_eq!(status, 1, "{text}");
    assert!(text.contains("first frame came"), "{text}");
    assert_eq!(run(&half, &format!("{}ns", gap)).0, 0);
    assert_eq!(run(&half, "50%").0, 1);
    assert_eq!(run(&half, "150%").0, 0);
    // LOLA_TIME_TOLERANCE overrides the file's, for slow CI hosts.
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "r.toml",
        &REPLY.replace("WITHIN", &half).replace("TOL", "0s"),
    );
    lola()
        .env("LOLA_TIME_TOLERANCE", "1s")
        .args(["check", "--expect"])
        .arg(&path)
        .arg(fixture("reply.pcap"))
        .assert()
        .success();
    // Order: the reply before the hello does not count.
    let reversed = "[[expect]]\nname = \"reply\"\nmatch = 'udp.srcport == 7456'\n[[expect]]\nname = \"hello\"\nmatch = 'udp.dstport == 7456'\nafter = \"reply\"\n";
    let (status, text) = check_with(reversed, "reply.pcap");
    assert_eq!(status, 1);
    assert!(
        text.contains("matched before the first held frame of \"reply\""),
        "{text}"
    );
}

#[test]
fn forbid_and_exclusive() {
    let forbid = "[[expect]]\nname = \"x\"\nmatch = 'udp'\ncount = 0\n[settings]\nforbid = ['tcp.flags.syn == 1']\n";
    let (status, text) = check_with(forbid, "seed-tcp.pcap");
    assert_eq!(status, 1);
    assert!(
        text.contains("FAIL  forbid: tcp.flags.syn == 1: 2 frames"),
        "{text}"
    );
    assert_eq!(
        check_with(forbid, "seed-ipv4.pcap").0,
        1,
        "count 0 but one datagram"
    );
    let exclusive = "[[expect]]\nname = \"hello\"\nmatch = 'udp.dstport == 7456'\n[settings]\nexclusive = true\n";
    assert_eq!(check_with(exclusive, "seed-ipv4.pcap").0, 0);
    let (status, text) = check_with(exclusive, "reply.pcap");
    assert_eq!(status, 1);
    assert!(
        text.contains("exclusive: every frame matched by an expectation: 1 frame"),
        "{text}"
    );
}

#[test]
fn junit_has_one_case_per_expectation_and_rule() {
    let dir = tempfile::tempdir().unwrap();
    let toml = write(
        dir.path(),
        "l.toml",
        "[[expect]]\nname = \"hello\"\nmatch = 'udp.dstport == 7456'\n[settings]\nforbid = ['tcp']\nexclusive = true\n",
    );
    let junit = dir.path().join("j.xml");
    lola()
        .args(["check", "--expect"])
        .arg(&toml)
        .arg("--junit")
        .arg(&junit)
        .arg(fixture("seed-ipv4.pcap"))
        .assert()
        .success();
    let xml = fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testcase").count(), 3, "{xml}");
    assert!(xml.contains("name=\"hello\""), "{xml}");
}

#[test]
fn malformed_files_exit_2_with_file_line_and_column() {
    let cases = [
        ("[[expect]\nname = 1\n", ":1:"),
        (
            "[[expect]]\nname = \"a\"\nmatch = 'udp'\ncolour = 1\n",
            ":4:1: unknown field `colour`",
        ),
        (
            "[[expect]]\nname = \"a\"\nmatch = 'udp.prot == 1'\n",
            ":3:10: udp.prot == 1: unknown field udp.prot; did you mean udp.port?",
        ),
        (
            "[[expect]]\nname = \"a\"\nmatch = 'udp'\nwhere = ['udp.dstprot == 7456']\n",
            ":4:11: udp.dstprot == 7456: unknown field udp.dstprot; did you mean udp.dstport?",
        ),
        (
            "[[expect]]\nname = \"a\"\nmatch = 'ip.ttl == \"x\"'\n",
            ":3:20: ip.ttl == \"x\": ip.ttl is an unsigned integer, not a string",
        ),
        (
            "[[expect]]\nname = \"a\"\nmatch = 'udp'\n[[expect]]\nname = \"a\"\nmatch = 'udp'\n",
            ":5:8: duplicate expectation name \"a\"",
        ),
        (
            "[[expect]]\nname = \"a\"\nmatch = 'udp'\nafter = \"b\"\n",
            ":4:9: after names no expectation: \"b\"",
        ),
        (
            "[[expect]]\nname = \"a\"\nmatch = 'udp'\ncount = \"some\"\n",
            ":4:9: count is",
        ),
        (
            "[[expect]]\nname = \"a\"\nmatch = 'udp'\nwithin = \"5ms\"\n",
            ":4:10: within needs after",
        ),
    ];
    for (text, want) in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "bad.toml", text);
        let out = lola()
            .args(["check", "--expect"])
            .arg(&path)
            .arg(fixture("seed-ipv4.pcap"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {stderr}");
        assert!(
            stderr.contains(&format!("bad.toml{want}")),
            "{text}: {stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
}

// The fields' agreement with tshark: tests/wireshark.rs (every field, every
// occurrence, on every fixture) and tests/occurrences.rs (layers).

#[test]
fn emit_writes_one_row_per_frame_and_keeps_the_builtin_report() {
    let dir = tempfile::tempdir().unwrap();
    let rows = dir.path().join("frames.ndjson");
    let plain = lola()
        .arg("check")
        .arg(fixture("reply.pcap"))
        .output()
        .unwrap();
    let with = lola()
        .arg("check")
        .arg("--emit")
        .arg(&rows)
        .arg(fixture("reply.pcap"))
        .output()
        .unwrap();
    assert_eq!(plain.stdout, with.stdout);
    assert_eq!(plain.status.code(), with.status.code());
    let text = fs::read_to_string(&rows).unwrap();
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["schema"], "lola.frame.v1");
    assert_eq!(rows[0]["expect"], serde_json::json!(["datagram"]));
    assert_eq!(rows[1]["expect"], serde_json::json!([]));
    assert_eq!(rows[1]["udp.srcport"], 7456);
    assert!(rows[0]["time"].as_str().unwrap().ends_with('Z'));
    // A capture that cannot be read leaves no rows file behind.
    let bad = dir.path().join("bad.ndjson");
    lola()
        .arg("check")
        .arg("--emit")
        .arg(&bad)
        .arg(fixture("bad-magic.pcap"))
        .assert()
        .code(2);
    assert!(!bad.exists());
}

/// DuckDB reads the rows; a SQL count per expectation and per flow equals lola's report.
#[test]
fn duckdb_counts_agree_with_the_report() {
    let python = StdCommand::new("python3")
        .args(["-c", "import duckdb"])
        .status();
    if !python.is_ok_and(|s| s.success()) {
        assert!(
            !in_ci(),
            "CI needs the duckdb Python package (.ci/run installs it)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let toml = write(
        dir.path(),
        "l.toml",
        "[[expect]]\nname = \"hello\"\nmatch = 'udp.dstport == 7456'\n[[expect]]\nname = \"reply\"\nmatch = 'udp.srcport == 7456'\nafter = \"hello\"\n",
    );
    let mut held = Vec::new();
    for (i, capture) in ["reply.pcap", "seed-ipv4.pcap", "seed-ipv4-twice.pcap"]
        .iter()
        .enumerate()
    {
        let out = lola()
            .args(["check", "--json", "--expect"])
            .arg(&toml)
            .arg("--emit")
            .arg(dir.path().join(format!("run{i}.ndjson")))
            .arg(fixture(capture))
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        for e in report["expectations"].as_array().unwrap() {
            held.push((
                e["name"].as_str().unwrap().to_string(),
                e["held"].as_u64().unwrap(),
            ));
        }
    }
    let total = |name: &str| {
        held.iter()
            .filter(|(n, _)| n == name)
            .map(|(_, h)| h)
            .sum::<u64>()
    };
    let sql = format!(
        "import duckdb\n\
         rows = duckdb.sql(\"SELECT e, count(*) FROM (SELECT unnest(expect) AS e FROM read_json_auto('{}/run*.ndjson')) GROUP BY e ORDER BY e\").fetchall()\n\
         flows = duckdb.sql(\"SELECT count(DISTINCT flow), count(*) FROM read_json_auto('{}/run*.ndjson')\").fetchall()\n\
         print(rows, flows)",
        dir.path().display(),
        dir.path().display()
    );
    let out = StdCommand::new("python3")
        .args(["-c", &sql])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // reply.pcap: 2 frames (one flow, both directions); seed-ipv4: 1; twice: 2 (two client ports).
    let want = format!(
        "[('hello', {}), ('reply', {})] [(3, 5)]",
        total("hello"),
        total("reply")
    );
    assert_eq!(text.trim(), want);
}

#[test]
fn run_checks_the_written_capture_against_an_expectation_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(
        dir.path(),
        "good.toml",
        "[[expect]]\nname = \"hello\"\nmatch = 'udp && data.text == \"Hello Lola\"'\n[settings]\nexclusive = true\n",
    );
    let bad = write(
        dir.path(),
        "bad.toml",
        "[[expect]]\nname = \"hello\"\nmatch = 'udp'\nwhere = ['ip.ttl == 1']\n",
    );
    let run = |toml: &Path| {
        lola()
            .current_dir(dir.path())
            .args([
                "run",
                "--port",
                "0",
                "--capture",
                "off",
                "-o",
                "h.pcap",
                "--expect",
            ])
            .arg(toml)
            .output()
            .unwrap()
    };
    let out = run(&good);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok    hello: 1 frame held"));
    let out = run(&bad);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("ip.ttl == 1: ip.ttl is 64"));
    // A file that cannot be read stops the run before anything is sent.
    let out = run(&dir.path().join("missing.toml"));
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

const HELLO: &str = "[[expect]]\nname = \"hello\"\nmatch = 'udp.dstport == 7456'\n[[expect]]\nname = \"reply\"\nmatch = 'udp.srcport == 7456'\ncount = \"<= 1\"\n";

#[test]
fn several_captures_against_one_expectation_file() {
    let dir = tempfile::tempdir().unwrap();
    let toml = write(dir.path(), "l.toml", HELLO);
    let (pass, fail, bad) = (
        fixture("reply.pcap"),
        fixture("seed-tcp.pcap"),
        fixture("bad-magic.pcap"),
    );
    let check = |files: &[&PathBuf], extra: &[&str]| {
        lola()
            .current_dir(dir.path())
            .args(["check", "--expect"])
            .arg(&toml)
            .args(extra)
            .args(files)
            .output()
            .unwrap()
    };
    // One verdict per file, in argument order, and the tally.
    let out = check(&[&pass, &fail], &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let line = |name: &str| text.lines().position(|l| l.contains(name)).unwrap();
    let (p, f) = (line("reply.pcap: "), line("seed-tcp.pcap: "));
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[p].starts_with("PASS ") && lines[p].ends_with(" held in 2 frames"),
        "{text}"
    );
    assert!(
        lines[f].starts_with("FAIL ") && lines[f].ends_with(" failed in 8 frames"),
        "{text}"
    );
    assert!(p < f, "{text}");
    assert!(text.ends_with("2 files: 1 passed, 1 failed\n"), "{text}");
    assert_eq!(check(&[&pass, &pass], &[]).status.code(), Some(0));
    // An unreadable file: its error at its place, the others still checked, exit 2.
    let out = check(&[&pass, &fail, &bad], &["-j", "1"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad-magic.pcap: not a capture file"),
        "{stderr}"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .ends_with("3 files: 1 passed, 1 failed, 1 could not be read\n")
    );
    // -j changes nothing in what is printed.
    assert_eq!(
        out.stdout,
        check(&[&pass, &fail, &bad], &["-j", "3"]).stdout
    );
    // --json: the multi-file document, with each file's expectation report.
    let out = check(&[&pass, &fail, &bad], &["--json"]);
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["verdict"].as_str(), v["files"].as_u64()),
        (Some("error"), Some(3))
    );
    assert_eq!(v["reports"][0]["verdict"], "pass");
    assert_eq!(v["reports"][0]["expectations"][1]["name"], "reply");
    assert_eq!(v["reports"][1]["verdict"], "fail");
    assert_eq!(v["reports"][2]["error"]["kind"], "malformed");
    // --junit: one suite per file, valid against the schema.
    let junit = dir.path().join("j.xml");
    let out = check(&[&pass, &fail, &bad], &["--junit", junit.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_valid_junit(&junit);
    let xml = fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testsuite ").count(), 3, "{xml}");
    assert!(
        xml.contains(&format!(
            "<testsuite name=\"lola check {}\" tests=\"2\" failures=\"0\"",
            pass.display()
        )),
        "{xml}"
    );
    assert!(
        xml.contains(&format!(
            "<testsuite name=\"lola check {}\" tests=\"2\" failures=\"1\"",
            fail.display()
        )),
        "{xml}"
    );
    assert!(
        xml.contains(&format!(
            "<testsuite name=\"lola check {}\" tests=\"1\" failures=\"0\" errors=\"1\"",
            bad.display()
        )),
        "{xml}"
    );
}

#[test]
fn a_bad_expectation_file_is_refused_before_any_capture_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let toml = write(
        dir.path(),
        "bad.toml",
        "[[expect]]\nname = \"a\"\nmatch = 'udp.prot == 1'\n",
    );
    let rows = dir.path().join("rows.ndjson");
    let out = lola()
        .args(["check", "--expect"])
        .arg(&toml)
        .arg("--emit")
        .arg(&rows)
        .arg(fixture("reply.pcap"))
        .arg(fixture("bad-magic.pcap"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.toml:3:10: udp.prot == 1: unknown field udp.prot"),
        "{stderr}"
    );
    assert_eq!(
        stderr.lines().count(),
        1,
        "not a word about the captures: {stderr}"
    );
    assert!(out.stdout.is_empty());
    assert!(!rows.exists());
}

#[test]
fn expect_refuses_the_flag_options() {
    let dir = tempfile::tempdir().unwrap();
    let toml = write(dir.path(), "l.toml", HELLO);
    for (flag, value) in [
        ("--dst-port", "9"),
        ("--message", "x"),
        ("--exactly", "2"),
        ("--checksums", "strict"),
    ] {
        let out = lola()
            .current_dir(dir.path())
            .args(["check", "--expect"])
            .arg(&toml)
            .args([flag, value])
            .arg(fixture("reply.pcap"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag}: {stderr}");
        assert!(
            stderr.starts_with(&format!(
                "lola: the argument '--expect <TOML>' cannot be used with '{flag} "
            )),
            "{stderr}"
        );
        assert!(out.stdout.is_empty());
    }
}

/// The rows `lola check --emit FILE ARGS` writes, and its exit code.
fn rows_of(dir: &Path, args: &[&str]) -> (Option<String>, i32) {
    let rows = dir.join("rows.ndjson");
    let _ = fs::remove_file(&rows);
    let out = lola()
        .current_dir(dir)
        .args(["check", "-q", "--emit", "rows.ndjson"])
        .args(args)
        .output()
        .unwrap();
    (fs::read_to_string(&rows).ok(), out.status.code().unwrap())
}

#[test]
fn emit_with_several_captures_writes_one_stream_in_file_order() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "l.toml", HELLO);
    let names = [
        "seed-ipv4-twice.pcap",
        "reply.pcap",
        "seed-tcp.pcap",
        "seed-ipv4.pcap",
    ];
    for name in names {
        fs::copy(fixture(name), dir.path().join(name)).unwrap();
    }
    for judge in [&[][..], &["--expect", "l.toml"][..]] {
        // Each file alone, then all at once: the stream is the files' rows, in order.
        let mut alone = String::new();
        for name in names {
            let args: Vec<&str> = judge.iter().copied().chain([name]).collect();
            alone += &rows_of(dir.path(), &args).0.unwrap();
        }
        for jobs in ["1", "4"] {
            let args: Vec<&str> = judge
                .iter()
                .copied()
                .chain(["-j", jobs])
                .chain(names)
                .collect();
            let (rows, code) = rows_of(dir.path(), &args);
            let rows = rows.unwrap();
            assert_eq!(rows, alone, "{args:?}");
            assert_eq!(code, 1, "seed-tcp.pcap fails either way");
            let files: Vec<String> = rows
                .lines()
                .map(|l| {
                    serde_json::from_str::<serde_json::Value>(l).unwrap()["file"]
                        .as_str()
                        .unwrap()
                        .to_string()
                })
                .collect();
            assert_eq!(files.len(), 2 + 2 + 8 + 1);
            let mut runs = files.clone();
            runs.dedup();
            assert_eq!(runs, names, "one run of rows per file, in argument order");
        }
        // No leftovers next to the output.
        let entries: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(entries.is_empty(), "{entries:?}");
        // A capture that cannot be read: no rows file at all.
        fs::copy(fixture("bad-magic.pcap"), dir.path().join("bad.pcap")).unwrap();
        let args: Vec<&str> = judge
            .iter()
            .copied()
            .chain(["reply.pcap", "bad.pcap"])
            .collect();
        assert_eq!(rows_of(dir.path(), &args), (None, 2));
    }
    // --emit - streams the same rows to stdout, and nothing else.
    let out = lola()
        .current_dir(dir.path())
        .args(["check", "--expect", "l.toml", "--emit", "-"])
        .args(names)
        .output()
        .unwrap();
    let (alone, _) = rows_of(
        dir.path(),
        &[&["--expect", "l.toml"][..], &names[..]].concat(),
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap(), alone.unwrap());
}

#[test]
fn an_expectation_files_verdict_is_coloured_as_the_builtin_checks_and_counts_one_claim_as_one() {
    let dir = tempfile::tempdir().unwrap();
    let one_claim = write(
        dir.path(),
        "one.toml",
        "[[expect]]\nname = \"hello\"\nmatch = 'udp.dstport == 7456'\ncount = 2\n",
    );
    let run = |color: &str| {
        let out = lola()
            .args(["check", "--color", color, "--expect"])
            .arg(&one_claim)
            .arg(fixture("seed-ipv4.pcap"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        String::from_utf8(out.stdout).unwrap()
    };
    let plain = run("never");
    assert!(
        plain.starts_with("FAIL ")
            && plain.contains("seed-ipv4.pcap: 1 of 1 claim failed in 1 frame\n"),
        "{plain}"
    );
    let painted = run("always");
    assert!(
        painted.starts_with("\x1b[1m\x1b[31mFAIL\x1b[0m "),
        "{painted:?}"
    );
}
