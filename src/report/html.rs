//! The one-file HTML report a CI job uploads as an artifact: the verdict,
//! each expectation and its evidence, the per-field comparison of the
//! synthesized and the observed frame, and the ladder diagrams. Inline CSS
//! and SVG only: no script, no font or image from elsewhere, no link out.

use std::fmt::Write as _;

use super::escape;
use super::svg::{Embedding, Panel, ladders};
use crate::check::expect::{ExpectOutcome, RuleOutcome, SetReport};
use crate::check::flow::{Arrow, Conversation, Flows};
use crate::check::frame_diff::{Comparison, Status};
use crate::check::{FrameLine, Report};
use crate::harness::{CompareOutcome, RunOutcome};
use crate::packet::summary::{numbers, plural};
use crate::report::ladder::summary_rows;

const CSS: &str = "\
body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:2em auto;max-width:60em;padding:0 1em;color:#1f2328;background:#fff;line-height:1.45}\
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #d1d9e0}\
code,td.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,'Liberation Mono',monospace;font-size:.9em}\
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #d1d9e0;padding:.2em .6em;text-align:left;vertical-align:top}\
td.num{text-align:right}caption{text-align:left;font-weight:600;padding:.3em 0}\
.verdict{display:inline-block;font-weight:700;padding:.1em .6em;border-radius:.3em;color:#fff}\
.pass{background:#1a7f37}.fail{background:#cf222e}\
.same{color:#59636e}.expected{color:#9a6700}.different{color:#cf222e;font-weight:700}\
figure{margin:0;overflow-x:auto}\
@media (prefers-color-scheme:dark){body{color:#e6edf3;background:#0d1117}\
h2,th,td{border-color:#3d444d}.same{color:#9198a1}.expected{color:#d29922}.different{color:#f85149}}";

/// A page: the document, its title, its style, then `body`.
fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n\
         <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        escape(title)
    )
}

fn verdict_badge(passed: bool) -> &'static str {
    if passed {
        "<span class=\"verdict pass\">PASS</span>"
    } else {
        "<span class=\"verdict fail\">FAIL</span>"
    }
}

/// One check: what was expected, the verdict, the failures and notes, and
/// the frames that are the evidence.
fn report_section(out: &mut String, heading: &str, report: &Report) {
    let _ = writeln!(
        out,
        "<h2>{}</h2>\n<p>{} <code>{}</code>: expected {}</p>",
        escape(heading),
        verdict_badge(report.passed()),
        escape(&report.file),
        escape(&report.expected)
    );
    let _ = writeln!(
        out,
        "<p>{} {} read; {} matched, {} other datagrams on the expected endpoints, {} TCP segments on them.</p>",
        report.frames,
        if report.frames == 1 {
            "frame"
        } else {
            "frames"
        },
        report.matched_count,
        report.offending_count,
        report.tcp_count
    );
    list(
        out,
        "Why it failed",
        report.failures.iter().map(|f| f.to_string()),
    );
    list(out, "Notes", report.notes.iter().map(|n| n.to_string()));
    for (caption, lines) in [
        ("Matching datagrams", &report.matched),
        (
            "Other datagrams on the expected endpoints",
            &report.offending,
        ),
        ("TCP segments on the expected endpoints", &report.tcp),
        ("Near misses", &report.near_misses),
    ] {
        frames_table(out, caption, lines);
    }
}

fn list(out: &mut String, heading: &str, items: impl Iterator<Item = String>) {
    let items: Vec<String> = items.collect();
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "<p>{}:</p>\n<ul>", escape(heading));
    for item in items {
        let _ = writeln!(out, "<li>{}</li>", escape(&item));
    }
    out.push_str("</ul>\n");
}

fn frames_table(out: &mut String, caption: &str, lines: &[FrameLine]) {
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<table>\n<caption>{}</caption>\n<tr><th>frame</th><th>time</th><th>source</th><th>destination</th>\
         <th>protocol</th><th>length</th><th>info</th><th>why shown</th></tr>",
        escape(caption)
    );
    for l in lines {
        let _ = writeln!(
            out,
            "<tr><td class=\"num\">{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td>\
             <td>{}</td><td class=\"num\">{}</td><td class=\"mono\">{}</td><td>{}</td></tr>",
            l.frame,
            escape(&l.time),
            escape(&l.src.to_string()),
            escape(&l.dst.to_string()),
            escape(&l.protocol),
            l.length,
            escape(&l.info),
            escape(&l.reasons.join("; "))
        );
    }
    out.push_str("</table>\n");
}

fn comparison_table(out: &mut String, c: &Comparison) {
    let _ = writeln!(
        out,
        "<h2>Synthesized vs observed</h2>\n<p>{}</p>\n<table>\n\
         <tr><th>field</th><th>synthesized</th><th>observed</th><th>how they compare</th></tr>",
        if c.equivalent() {
            "Equivalent: they differ only where Linux is expected to differ."
        } else {
            "<strong>Different</strong> where they should not be."
        }
    );
    for f in &c.fields {
        let (class, why) = match &f.status {
            Status::Same => ("same", "same".to_string()),
            Status::Expected(why) => ("expected", format!("differs, as expected: {why}")),
            Status::Different => ("different", "DIFFERENT".to_string()),
        };
        let _ = writeln!(
            out,
            "<tr class=\"{class}\"><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td>{}</td></tr>",
            escape(f.field),
            escape(&f.left),
            escape(&f.right),
            escape(&why)
        );
    }
    out.push_str("</table>\n");
}

fn summary_table(out: &mut String, columns: &[(&str, Option<&Conversation>)]) {
    out.push_str("<table>\n<tr><th></th>");
    for (name, _) in columns {
        let _ = write!(out, "<th>{}</th>", escape(name));
    }
    out.push_str("</tr>\n");
    for (label, cells) in summary_rows(columns) {
        let _ = write!(out, "<tr><th>{}</th>", escape(label));
        for c in cells {
            let _ = write!(out, "<td class=\"num\">{}</td>", escape(&c));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

/// Every conversation of a capture, one ladder each.
fn flows_section(out: &mut String, heading: &str, flows: &Flows) {
    let _ = writeln!(out, "<h2>{}</h2>", escape(heading));
    if flows.conversations.is_empty() {
        out.push_str("<p>No UDP or TCP conversation.</p>\n");
    }
    for c in &flows.conversations {
        ladder_figure(out, c);
    }
    if flows.more_conversations > 0 {
        let _ = writeln!(
            out,
            "<p>… and {} more conversations.</p>",
            flows.more_conversations
        );
    }
}

/// The report of `lola check`, with the capture's ladders when it could be
/// read again (not from standard input).
///
/// ```
/// let path = "fixtures/seed-tcp.pcap";
/// let report = lola::check_file(path.as_ref(), &lola::Expectation::seed()).unwrap();
/// let flows = lola::check::flow::flows(lola::capture::CaptureReader::open(path.as_ref()).unwrap()).unwrap();
/// let html = lola::report::html::check(&report, Some(&flows));
/// assert!(html.starts_with("<!DOCTYPE html>"));
/// assert!(html.contains("<span class=\"verdict fail\">FAIL</span>"));
/// assert!(html.contains("8 TCP segments on the expected endpoints, including a handshake"));
/// assert!(html.contains(">SYN · 74 B</text>"));
/// ```
pub fn check(report: &Report, flows: Option<&Flows>) -> String {
    let mut body = format!(
        "<h1>{} lola check {}</h1>\n",
        verdict_badge(report.passed()),
        escape(&report.file)
    );
    report_section(&mut body, "Expectation", report);
    match flows {
        Some(flows) => flows_section(&mut body, "Ladder", flows),
        None => body.push_str(
            "<h2>Ladder</h2>\n<p>Not drawn: the capture could be read only once (standard input).</p>\n",
        ),
    }
    page(&format!("lola check {}", report.file), &body)
}

/// The report of an expectation file (`check --expect`, `exec`, `run
/// --expect`), titled `title` (the command): the verdict, then one section
/// per expectation with its verdict, the frames that held it, why it failed
/// and the frames that came closest, and the ladder of the conversations
/// its frames belong to; one section per rule; the conversations no
/// expectation names. `flows` are the capture's conversations, when it
/// could be read again.
///
/// ```
/// use lola::check::expect::{ExpectationSet, check_file_with_set};
/// let path = "fixtures/seed-tcp.pcap";
/// let set = ExpectationSet::parse("x.toml", r#"
/// [[expect]]
/// name = "syn"
/// match = "tcp.flags.syn == 1 && tcp.flags.ack == 0"
/// [[expect]]
/// name = "udp"
/// match = "udp && udp.dstport == 7456"
/// "#).unwrap();
/// let report = check_file_with_set(path.as_ref(), &set).unwrap();
/// let flows = lola::check::flow::flows(lola::capture::CaptureReader::open(path.as_ref()).unwrap()).unwrap();
/// let html = lola::report::html::expectations("lola check --expect x.toml", &report, Some(&flows));
/// assert!(html.contains("<h2 id=\"expect-1\"><span class=\"verdict pass\">PASS</span> syn</h2>"));
/// assert!(html.contains("<h2 id=\"expect-2\"><span class=\"verdict fail\">FAIL</span> udp</h2>"));
/// assert!(html.contains(">SYN · 74 B</text>"));
/// ```
pub fn expectations(title: &str, report: &SetReport, flows: Option<&Flows>) -> String {
    let rules = match report.rules.len() {
        0 => String::new(),
        n => format!(
            ", {} of {n} rules kept",
            report.rules.iter().filter(|r| r.verdict.passed()).count()
        ),
    };
    let mut body = format!(
        "<h1>{} {}</h1>\n<p><code>{}</code>: {} of {} expectations held{rules}, in {}.</p>\n",
        verdict_badge(report.passed()),
        escape(title),
        escape(&report.file),
        report.held(),
        report.expectations.len(),
        plural(report.frames, "frame"),
    );
    let mut notes: Vec<String> = report.notes.clone();
    if let Some(lost) = &report.lost {
        notes.push(format!(
            "the capture admits {} lost frames ({lost})",
            lost.total()
        ));
    }
    list(&mut body, "Notes", notes.into_iter());
    expectations_body(&mut body, report, flows);
    page(title, &body)
}

/// The sections of [`expectations`], for a page that holds other sections
/// too (`lola run --expect`).
fn expectations_body(out: &mut String, report: &SetReport, flows: Option<&Flows>) {
    let mut named = vec![false; flows.map_or(0, |f| f.conversations.len())];
    for (i, e) in report.expectations.iter().enumerate() {
        expectation_section(out, i + 1, e, flows, &mut named);
    }
    for r in &report.rules {
        rule_section(out, r);
    }
    let Some(flows) = flows else {
        out.push_str(
            "<h2>Ladder</h2>\n<p>Not drawn: the capture could be read only once (standard input).</p>\n",
        );
        return;
    };
    let others: Vec<&Conversation> = flows
        .conversations
        .iter()
        .zip(&named)
        .filter(|(_, named)| !**named)
        .map(|(c, _)| c)
        .collect();
    if !others.is_empty() {
        out.push_str("<h2>Other conversations</h2>\n");
        for c in others {
            ladder_figure(out, c);
        }
    }
}

/// One expectation: its verdict, what it matches, how many frames held it
/// and which, why it failed and what came closest, and its conversations.
fn expectation_section(
    out: &mut String,
    n: usize,
    e: &ExpectOutcome,
    flows: Option<&Flows>,
    named: &mut [bool],
) {
    let _ = writeln!(
        out,
        "<h2 id=\"expect-{n}\">{} {}</h2>\n<p><code>{}</code>; count {}; {} held it{}.</p>",
        verdict_badge(e.verdict.passed()),
        escape(&e.name),
        escape(&e.matches),
        escape(&e.count),
        plural(e.held, "frame"),
        if e.missed > 0 {
            format!(", {} matched but missed", e.missed)
        } else {
            String::new()
        }
    );
    list(out, "Why it failed", e.failures.iter().cloned());
    let mut evidence = e.evidence.clone();
    if e.more_evidence > 0 {
        evidence.push(format!("… and {} more", e.more_evidence));
    }
    let heading = if e.verdict.passed() {
        "Frames it matched that did not hold it"
    } else {
        "The frames that came closest"
    };
    list(out, heading, evidence.into_iter());
    let Some(flows) = flows else {
        if !e.frames.is_empty() {
            let _ = writeln!(out, "<p>Frames that held it: {}.</p>", numbers(&e.frames));
        }
        return;
    };
    held_table(out, e, flows);
    // The conversations of the frames that held it, and of those that came
    // closest.
    let shown = |a: &Arrow| e.frames.contains(&a.frame) || e.near.contains(&a.frame);
    for (c, named) in flows.conversations.iter().zip(named.iter_mut()) {
        if c.arrows.iter().any(shown) {
            *named = true;
            ladder_figure(out, c);
        }
    }
}

/// The frames that held an expectation, as its conversations' arrows show
/// them.
fn held_table(out: &mut String, e: &ExpectOutcome, flows: &Flows) {
    if e.frames.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<table>\n<caption>Frames that held it{}</caption>\n<tr><th>frame</th><th>time (ms)</th><th>from</th><th>to</th><th>what</th></tr>",
        if e.held > e.frames.len() as u64 {
            format!(" (the first {} of {})", e.frames.len(), e.held)
        } else {
            String::new()
        }
    );
    for &frame in &e.frames {
        let arrow = flows
            .conversations
            .iter()
            .find_map(|c| c.arrows.iter().find(|a| a.frame == frame).map(|a| (c, a)));
        match arrow {
            Some((c, a)) => {
                let (from, to) = if a.rightward {
                    (c.left, c.right)
                } else {
                    (c.right, c.left)
                };
                let _ = writeln!(
                    out,
                    "<tr><td class=\"num\">{frame}</td><td class=\"num\">{:.3}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td></tr>",
                    a.time.as_secs_f64() * 1000.0,
                    escape(&from.to_string()),
                    escape(&to.to_string()),
                    escape(&a.caption())
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "<tr><td class=\"num\">{frame}</td><td colspan=\"4\">not in a drawn conversation</td></tr>"
                );
            }
        }
    }
    out.push_str("</table>\n");
}

/// A `forbid` rule or `exclusive`: its verdict and the frames that broke it.
fn rule_section(out: &mut String, r: &RuleOutcome) {
    let _ = writeln!(
        out,
        "<h2>{} {}</h2>\n<p>{} broke it.</p>",
        verdict_badge(r.verdict.passed()),
        escape(&r.name),
        plural(r.count, "frame")
    );
    list(out, "Why it failed", r.failures.iter().cloned());
    let mut evidence = r.evidence.clone();
    if r.count > r.evidence.len() as u64 {
        evidence.push(format!("… and {} more", r.count - r.evidence.len() as u64));
    }
    list(out, "The frames that broke it", evidence.into_iter());
}

/// One conversation's ladder, as an inline SVG figure.
fn ladder_figure(out: &mut String, c: &Conversation) {
    let title = c.title();
    let panel = Panel {
        title: &title,
        conversation: Some(c),
    };
    let _ = writeln!(
        out,
        "<figure>{}</figure>",
        ladders(&[panel], Embedding::Inline)
    );
}

/// The report of `lola run`: the datagram, the check of the written
/// capture, and, when captured live, the check of what crossed `lo` and the
/// per-field comparison.
pub fn run(outcome: &RunOutcome, flows: Option<&Flows>) -> String {
    run_expecting(outcome, None, flows)
}

/// [`run`], with the written capture's check against an expectation file
/// (`lola run --expect FILE`) and that capture's conversations after the
/// built-in check's sections.
pub fn run_expecting(
    outcome: &RunOutcome,
    expected: Option<(&SetReport, Option<&Flows>)>,
    flows: Option<&Flows>,
) -> String {
    let d = &outcome.exchange.received;
    let passed = outcome.passed() && expected.is_none_or(|(set, _)| set.passed());
    let mut body = format!(
        "<h1>{} lola run</h1>\n<p>The server received from <code>{}</code>: <code>{}</code>; \
         lola wrote <code>{}</code> ({}, {} frame, {} bytes).</p>\n",
        verdict_badge(passed),
        escape(&d.src.to_string()),
        escape(&crate::check::quote_bytes(&d.payload)),
        escape(&outcome.output.display().to_string()),
        outcome.written.format,
        outcome.written.frames,
        outcome.written.bytes
    );
    if let Some(note) = &outcome.capture_note {
        let _ = writeln!(body, "<p>Note: {}</p>", escape(note));
    }
    report_section(&mut body, "The written capture", &outcome.report);
    if let Some(live) = &outcome.live {
        let heading = format!("What crossed {}", live.place);
        report_section(&mut body, &heading, &live.report);
        match &live.comparison {
            Some(c) => comparison_table(&mut body, c),
            None => body.push_str(
                "<h2>Synthesized vs observed</h2>\n<p>The datagram was not seen on lo.</p>\n",
            ),
        }
    }
    if let Some(like) = &outcome.like {
        let _ = writeln!(
            body,
            "<h2>Against the golden capture</h2>\n<pre>{}</pre>",
            escape(&like.to_string())
        );
    }
    if let Some(flows) = flows {
        flows_section(&mut body, "Ladder", flows);
    }
    if let Some((set, written)) = expected {
        let _ = writeln!(
            body,
            "<h2>{} The expectation file</h2>\n<p><code>{}</code>: {} of {} expectations held.</p>",
            verdict_badge(set.passed()),
            escape(&set.file),
            set.expectations
                .iter()
                .filter(|e| e.verdict.passed())
                .count(),
            set.expectations.len()
        );
        expectations_body(&mut body, set, written);
    }
    page("lola run", &body)
}

/// The report of `lola compare`: the outcome, the table, the two ladders
/// side by side, and both checks.
///
/// ```
/// use lola::harness::{compare, CaptureMode, CompareOptions};
/// let dir = tempfile::tempdir().unwrap();
/// let options = CompareOptions {
///     to: "127.0.0.1:0".parse().unwrap(),
///     out_dir: dir.path().to_path_buf(),
///     capture: CaptureMode::Off,
///     ..CompareOptions::default()
/// };
/// let html = lola::report::html::compare(&compare(&options).unwrap());
/// assert!(html.contains("handshake found, as expected"));
/// assert!(html.contains(">UDP · 10 B data · 52 B</text>"));
/// ```
pub fn compare(outcome: &CompareOutcome) -> String {
    let mut body = format!(
        "<h1>{} lola compare</h1>\n<p>{}</p>\n",
        verdict_badge(outcome.demonstrated()),
        if outcome.demonstrated() {
            "The same message over TCP and over UDP: the checker flags the TCP capture's \
             handshake and passes the single UDP datagram."
        } else {
            "The checker did not tell the TCP capture from the UDP one."
        }
    );
    if let Some(note) = &outcome.capture_note {
        let _ = writeln!(body, "<p>Note: {}</p>", escape(note));
    }
    let columns = [
        ("TCP", outcome.tcp.conversation()),
        ("UDP", outcome.udp.conversation()),
    ];
    summary_table(&mut body, &columns);
    let panels = columns.map(|(title, conversation)| Panel {
        title,
        conversation,
    });
    let _ = writeln!(
        body,
        "<h2>Ladder</h2>\n<figure>{}</figure>",
        ladders(&panels, Embedding::Inline)
    );
    let tcp_heading = if outcome.tcp.check.tcp_count > 0 && !outcome.tcp.check.passed() {
        format!(
            "{}: handshake found, as expected",
            outcome.tcp.path.display()
        )
    } else {
        format!(
            "{}: the checker did not flag TCP",
            outcome.tcp.path.display()
        )
    };
    report_section(&mut body, &tcp_heading, &outcome.tcp.check);
    let udp_heading = format!("{}: one datagram", outcome.udp.path.display());
    report_section(&mut body, &udp_heading, &outcome.udp.check);
    page("lola compare", &body)
}
