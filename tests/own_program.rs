//! The user's own program, first class: `lola exec` with no claim records
//! the conversations and writes an expectation draft that the capture
//! passes when fed back; `./lola.toml` is the expectation file when no claim
//! is given (`--no-config` records instead); every command that judges by
//! an expectation file (`check --expect`, `run --expect`, `exec`) writes the
//! HTML report and the step summary the built-in check gets, from the same
//! typed results; and the frames closest to a failed expectation are never
//! frames that satisfy another one.

mod common;

use std::fs;
use std::path::Path;
use std::process::Output;

use assert_cmd::Command;
use common::browser::{assert_rendered, assert_valid_html, chromium, dump_dom, screenshot};
use common::sandbox::{netns_allowed, root_for};
use common::{fixture, lola, text};

/// What the echo service must do: three requests, three replies, each
/// after the first request.
const ECHO_TOML: &str = r#"[[expect]]
name = "request"
match = "udp.dstport == 9999"
count = 3

[[expect]]
name = "reply"
match = "udp.srcport == 9999"
count = 3
after = "request"
"#;

/// A directory holding `echo.py`, when this machine lets root make a
/// private lo (in CI it must).
fn echo_dir() -> Option<tempfile::TempDir> {
    if !root_for("lola exec on a private lo") || !netns_allowed() {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    // The README's own program (tests/scripts/echo.py): a UDP echo service
    // on 127.0.0.1:9999 answering in capitals, and a client sending
    // `ping 0`..`ping 2`; it exits with `$STATUS` (0 unless set).
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/echo.py");
    fs::copy(script, dir.path().join("echo.py")).unwrap();
    Some(dir)
}

/// `lola ARGS` in `dir`, with no step summary unless one is set.
fn lola_in(dir: &Path, args: &[&str]) -> Command {
    let mut c = lola();
    c.current_dir(dir)
        .args(args)
        .env_remove("CI")
        .env_remove("GITHUB_STEP_SUMMARY");
    c
}

/// The exit code, and what a person sees: stdout then stderr.
fn run(c: &mut Command) -> (Option<i32>, String) {
    let o: Output = c.output().unwrap();
    let seen = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.code(), seen)
}

#[test]
fn exec_with_no_claim_draws_the_conversations_and_writes_a_draft_that_passes() {
    let Some(dir) = echo_dir() else { return };
    let d = dir.path();
    let (code, out) = run(&mut lola_in(d, &["exec", "--", "python3", "echo.py"]));
    assert_eq!(code, Some(0), "{out}");
    // The program's output, how it ended, and what was written.
    assert!(out.contains("PING 2\n"), "{out}");
    assert!(out.contains("python3 exited with status 0\n"), "{out}");
    assert!(out.contains(": 6 frames; wrote exec.pcap (pcap, "), "{out}");
    // The ladder, as lola flow --payload draws it: one conversation, six
    // arrows labelled with what they carry.
    assert!(out.contains(" ⇄ 127.0.0.1:9999\n  6 frames, "), "{out}");
    assert_eq!(out.matches(" · 48 B ").count(), 6, "{out}");
    assert!(out.contains("UDP · 6 B \"ping 1\" · 48 B"), "{out}");
    assert!(out.contains("UDP · 6 B \"PING 1\" · 48 B"), "{out}");
    assert!(!out.contains("PASS") && !out.contains("FAIL"), "{out}");
    // The draft and the one command that checks it.
    assert!(
        out.contains("draft: wrote exec.toml (2 expectations, which this capture passes;"),
        "{out}"
    );
    assert!(
        out.ends_with(
            "check the program against it: lola exec --expect exec.toml -- python3 echo.py\n"
        ),
        "{out}"
    );
    // The draft is lola expect record's, and the capture passes it.
    let draft = fs::read_to_string(d.join("exec.toml")).unwrap();
    let (code, recorded) = run(&mut lola_in(d, &["expect", "record", "exec.pcap"]));
    assert_eq!(code, Some(0), "{recorded}");
    let body = |t: &str| {
        t.lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(body(&draft), body(&recorded));
    let (code, checked) = run(&mut lola_in(
        d,
        &["check", "--expect", "exec.toml", "exec.pcap"],
    ));
    assert_eq!(code, Some(0), "{checked}");
    assert!(
        checked.starts_with("PASS exec.pcap: 3 claims held in 6 frames\n"),
        "{checked}"
    );

    // The program's status is lola's, and the draft is still written, at
    // --record and beside -o.
    let (code, out) = run(lola_in(
        d,
        &["exec", "-o", "failed.pcapng", "--", "python3", "echo.py"],
    )
    .env("STATUS", "3"));
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("python3 exited with status 3\n"), "{out}");
    assert!(out.contains("draft: wrote failed.toml "), "{out}");
    let (code, out) = run(&mut lola_in(
        d,
        &[
            "exec",
            "--record",
            "mine.toml",
            "-q",
            "--",
            "python3",
            "echo.py",
        ],
    ));
    assert_eq!(code, Some(0), "{out}");
    assert!(d.join("mine.toml").is_file());
    assert_eq!(
        out, "PING 0\nPING 1\nPING 2\n",
        "-q: only the program speaks"
    );
    // --json names the draft (or why there is none), beside the check it
    // holds the capture to.
    let o = lola_in(
        d,
        &[
            "exec", "--json", "--record", "j.toml", "--", "python3", "echo.py",
        ],
    )
    .output()
    .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["draft"]["path"], "j.toml", "{doc}");
    assert_eq!(doc["draft"]["expectations"], 2, "{doc}");
    assert_eq!(doc["check"]["expectations"][1]["name"], "flow-2", "{doc}");
    let o = lola_in(
        d,
        &[
            "exec",
            "--json",
            "-o",
            "/dev/null",
            "--",
            "python3",
            "echo.py",
        ],
    )
    .output()
    .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(doc["draft"].get("path").is_none(), "{doc}");
    assert!(
        doc["draft"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("/dev/null is no regular file")),
        "{doc}"
    );
}

#[test]
fn exec_with_a_claim_flag_judges_it_as_before() {
    let Some(dir) = echo_dir() else { return };
    let d = dir.path();
    fs::write(d.join("lola.toml"), ECHO_TOML).unwrap();
    // A claim flag is the built-in check: the seed's claim, changed by it;
    // neither lola.toml nor a draft.
    let (code, out) = run(&mut lola_in(
        d,
        &[
            "exec",
            "--dst-port",
            "9999",
            "--any-payload",
            "--count",
            "3",
            "--",
            "python3",
            "echo.py",
        ],
    ));
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("PASS exec.pcap: exactly 3 datagrams to port 9999"),
        "{out}"
    );
    assert!(
        !out.contains("lola.toml") && !out.contains("draft"),
        "{out}"
    );
    assert!(!d.join("exec.toml").exists());
}

#[test]
fn lola_toml_in_the_working_directory_is_the_expectation_file_unless_no_config() {
    let Some(dir) = echo_dir() else { return };
    let d = dir.path();
    fs::write(d.join("lola.toml"), ECHO_TOML).unwrap();
    let (code, out) = run(&mut lola_in(d, &["exec", "--", "python3", "echo.py"]));
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("expectations: lola.toml, found in the working directory (--no-config records a draft instead)\nPASS exec.pcap: 2 claims held in 6 frames\n"),
        "{out}"
    );
    assert!(
        out.contains("  ok    reply: 3 frames held (count 3)\n"),
        "{out}"
    );
    assert!(!d.join("exec.toml").exists(), "no draft: {out}");

    // It judges: a lola.toml the program does not meet fails the run.
    fs::write(
        d.join("lola.toml"),
        ECHO_TOML.replace("count = 3\nafter", "count = 4\nafter"),
    )
    .unwrap();
    let (code, out) = run(&mut lola_in(
        d,
        &["exec", "--json", "--", "python3", "echo.py"],
    ));
    assert_eq!(code, Some(1), "{out}");
    let o = lola_in(d, &["exec", "--json", "--", "python3", "echo.py"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["check"]["expectations"][1]["name"], "reply", "{v:#}");
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("lola: expectations: lola.toml, found in the working directory"),
        "with --json the report's words go to stderr"
    );

    // --no-config: the program is recorded as if there were none.
    let (code, out) = run(&mut lola_in(
        d,
        &["exec", "--no-config", "--", "python3", "echo.py"],
    ));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("draft: wrote exec.toml "), "{out}");
    assert!(!out.contains("lola.toml"), "{out}");
    // A draft named after the capture never replaces that lola.toml.
    let before = fs::read_to_string(d.join("lola.toml")).unwrap();
    let (code, out) = run(&mut lola_in(
        d,
        &[
            "exec",
            "--no-config",
            "-o",
            "lola.pcap",
            "--",
            "python3",
            "echo.py",
        ],
    ));
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("the draft would replace lola.toml"), "{out}");
    assert_eq!(fs::read_to_string(d.join("lola.toml")).unwrap(), before);
    // Not a lola.toml elsewhere, nor a directory of that name.
    let sub = d.join("sub");
    fs::create_dir_all(sub.join("lola.toml")).unwrap();
    fs::copy(d.join("echo.py"), sub.join("echo.py")).unwrap();
    let (code, out) = run(&mut lola_in(&sub, &["exec", "--", "python3", "echo.py"]));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("draft: wrote exec.toml "), "{out}");
}

/// What the HTML report of an expectation file must show: a verdict per
/// expectation, the frames that held it, and its ladder.
fn assert_expectation_report(path: &Path, title: &str) {
    let html = fs::read_to_string(path).unwrap();
    assert!(
        html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"),
        "{html}"
    );
    assert!(
        html.contains(&format!("<title>{title}</title>")),
        "{}: {html}",
        path.display()
    );
    for name in ["request", "reply"] {
        assert!(
            html.contains(&format!(
                "<span class=\"verdict pass\">PASS</span> {name}</h2>"
            )),
            "{name} in {html}"
        );
    }
    assert!(
        html.contains("<caption>Frames that held it</caption>"),
        "{html}"
    );
    assert_eq!(
        html.matches("<figure>").count(),
        2,
        "one ladder per expectation: {html}"
    );
    for outside in [
        "http:", "https:", "src=", "href=", "url(", "<script", "@import",
    ] {
        assert!(!html.contains(outside), "{} has {outside}", path.display());
    }
}

#[test]
fn every_expectation_file_run_writes_the_html_report_and_the_step_summary() {
    let Some(dir) = echo_dir() else { return };
    let d = dir.path();
    fs::write(d.join("echo.toml"), ECHO_TOML).unwrap();
    let summary = d.join("summary.md");
    fs::write(&summary, "earlier step\n").unwrap();
    let with_summary = |args: &[&str]| {
        let mut c = lola_in(d, args);
        c.env("GITHUB_STEP_SUMMARY", &summary);
        run(&mut c)
    };
    let (code, out) = with_summary(&[
        "exec",
        "--expect",
        "echo.toml",
        "--report",
        "exec.html",
        "--junit",
        "exec.xml",
        "--",
        "python3",
        "echo.py",
    ]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = with_summary(&[
        "check",
        "--expect",
        "echo.toml",
        "exec.pcap",
        "--report",
        "check.html",
    ]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = with_summary(&[
        "exec",
        "--report",
        "draft.html",
        "-o",
        "d.pcap",
        "--",
        "python3",
        "echo.py",
    ]);
    assert_eq!(code, Some(0), "{out}");
    // run --expect: the seed's datagram judged by a file of its own.
    fs::write(
        d.join("seed.toml"),
        "[[expect]]\nname = \"hello\"\nmatch = \"udp && data.text == \\\"Hello Lola\\\"\"\n",
    )
    .unwrap();
    let (code, out) = with_summary(&[
        "run",
        "--port",
        "0",
        "--capture",
        "off",
        "-o",
        "run.pcap",
        "--expect",
        "seed.toml",
        "--report",
        "run.html",
    ]);
    assert_eq!(code, Some(0), "{out}");

    assert_expectation_report(
        &d.join("exec.html"),
        "lola exec --expect echo.toml -- python3",
    );
    assert_expectation_report(&d.join("check.html"), "lola check --expect echo.toml");
    let draft = fs::read_to_string(d.join("draft.html")).unwrap();
    assert!(
        draft.contains("<title>lola exec -- python3 (draft: d.toml)</title>"),
        "{draft}"
    );
    assert!(
        draft.contains("<span class=\"verdict pass\">PASS</span> flow-2</h2>"),
        "{draft}"
    );
    let run_html = fs::read_to_string(d.join("run.html")).unwrap();
    assert!(
        run_html.contains("<span class=\"verdict pass\">PASS</span> The expectation file</h2>"),
        "{run_html}"
    );
    assert!(
        run_html.contains("<span class=\"verdict pass\">PASS</span> hello</h2>"),
        "{run_html}"
    );

    let text = fs::read_to_string(&summary).unwrap();
    for heading in [
        "### lola exec --expect echo.toml -- python3\n\n✅ **PASS** `exec.pcap`: 2 of 2 expectations held in 6 frames\n",
        "### lola check --expect echo.toml\n\n✅ **PASS** `exec.pcap`: 2 of 2 expectations held in 6 frames\n",
        "### lola exec -- python3 (draft: d.toml)\n\n✅ **PASS** `d.pcap`: 2 of 2 expectations held in 6 frames\n",
        "### lola run --expect seed.toml\n\n✅ **PASS** `run.pcap`: 1 of 1 expectations held in 1 frame\n",
    ] {
        assert!(text.contains(heading), "{heading} not in:\n{text}");
    }
    assert!(
        text.contains("| ✅ | reply | `udp.srcport == 9999` | 3 | 3 |"),
        "{text}"
    );
    assert!(text.starts_with("earlier step\n"), "{text}");
    // JUnit as before: one case per expectation.
    let junit = fs::read_to_string(d.join("exec.xml")).unwrap();
    assert!(junit.contains("name=\"reply\""), "{junit}");

    assert_valid_html(d);
    let Some(browser) = chromium() else { return };
    for name in ["exec.html", "check.html", "draft.html", "run.html"] {
        let path = d.join(name);
        assert_rendered(&screenshot(browser, &path, 1000, 1200), 1000);
        let dom = dump_dom(browser, &path);
        assert!(
            dom.contains("UDP · 6 B data · 48 B") || name == "run.html",
            "{name}: {dom}"
        );
    }
}

#[test]
fn near_misses_are_never_frames_that_satisfy_another_expectation() {
    // other-flows.pcap: frame 1 is UDP to 9999, frame 8 Hello Lola to 7456.
    // Both are UDP, one condition of `missing`; frame 1 satisfies `other`.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(
        d.join("near.toml"),
        r#"[[expect]]
name = "other"
match = "udp.dstport == 9999"

[[expect]]
name = "missing"
match = "udp && udp.dstport == 7000"
"#,
    )
    .unwrap();
    let capture = fixture("other-flows.pcap");
    let capture = capture.to_str().unwrap();
    let o = lola_in(
        d,
        &[
            "check",
            "--expect",
            "near.toml",
            "--json",
            capture,
            "--report",
            "near.html",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let evidence = &v["expectations"][1]["evidence"];
    let [closest] = evidence.as_array().unwrap().as_slice() else {
        panic!("one closest frame: {v:#}")
    };
    let closest = closest.as_str().unwrap();
    assert!(closest.starts_with("closest: frame 8: "), "{closest}");
    let html = fs::read_to_string(d.join("near.html")).unwrap();
    assert!(
        html.contains("<p>The frames that came closest:</p>\n<ul>\n<li>closest: frame 8: "),
        "{html}"
    );
    assert!(!html.contains("frame 1: "), "frame 1 held `other`: {html}");

    // An echo: the request and the reply each hold an expectation; a third
    // that nothing holds has no near miss among them.
    fs::write(
        d.join("echo.toml"),
        r#"[[expect]]
name = "request"
match = "udp.dstport == 7456"

[[expect]]
name = "reply"
match = "udp.srcport == 7456"

[[expect]]
name = "second request"
match = "udp.dstport == 7456 && data.text == \"Hi\""
"#,
    )
    .unwrap();
    let reply = fixture("reply.pcap");
    let (code, out) = run(&mut lola_in(
        d,
        &["check", "--expect", "echo.toml", reply.to_str().unwrap()],
    ));
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains(
            "  FAIL  second request: 0 frames held (count 1)\n          0 frames held, expected 1\n"
        ),
        "{out}"
    );
    assert!(
        !out.contains("closest") && !out.contains("frame 2:"),
        "{out}"
    );
}
