//! Markdown: Mermaid diagrams and summary tables, for pull requests, issues
//! and `$GITHUB_STEP_SUMMARY` (which GitHub renders on the run's page).

use std::fmt::Write as _;

use super::mermaid::sequence;
use crate::check::Report;
use crate::check::expect::SetReport;
use crate::check::flow::{Conversation, Flows};
use crate::harness::{CompareOutcome, RunOutcome};
use crate::report::ladder::summary_rows;

/// A conversation's heading, its counts, and its Mermaid diagram.
///
/// ```
/// # let reader = lola::capture::CaptureReader::open("fixtures/seed-tcp.pcap".as_ref()).unwrap();
/// let flows = lola::check::flow::flows(reader).unwrap();
/// let md = lola::report::markdown::conversation(&flows.conversations[0]);
/// assert!(md.starts_with("**TCP 127.0.0.1:51844 ⇄ 127.0.0.1:7456**: 8 frames, 554 bytes on the wire"));
/// assert!(md.contains("\n```mermaid\nsequenceDiagram\n"));
/// ```
pub fn conversation(c: &Conversation) -> String {
    format!(
        "**{}**: {}\n\n```mermaid\n{}```\n",
        c.title(),
        c.tally(),
        sequence(c)
    )
}

/// The summary table, one column per conversation, as a markdown table.
///
/// ```
/// # let reader = lola::capture::CaptureReader::open("fixtures/seed-tcp.pcap".as_ref()).unwrap();
/// let flows = lola::check::flow::flows(reader).unwrap();
/// let md = lola::report::markdown::table(&[("TCP", Some(&flows.conversations[0])), ("UDP", None)]);
/// assert_eq!(md.lines().nth(2), Some("| frames | 8 | - |"));
/// ```
pub fn table(columns: &[(&str, Option<&Conversation>)]) -> String {
    let mut out = String::from("| |");
    for (name, _) in columns {
        let _ = write!(out, " {} |", cell(name));
    }
    out.push_str("\n|---|");
    out.push_str(&"---:|".repeat(columns.len()));
    out.push('\n');
    for (label, cells) in summary_rows(columns) {
        let _ = write!(out, "| {label} |");
        for c in cells {
            let _ = write!(out, " {} |", cell(&c));
        }
        out.push('\n');
    }
    out
}

/// `lola flow --format markdown`: every conversation's diagram, then the
/// table of all of them.
///
/// ```
/// # let reader = lola::capture::CaptureReader::open("fixtures/other-flows.pcap".as_ref()).unwrap();
/// let flows = lola::check::flow::flows(reader).unwrap();
/// let md = lola::report::markdown::flows("other-flows.pcap", &flows);
/// assert!(md.starts_with("### other-flows.pcap: 3 conversations\n"));
/// assert_eq!(md.matches("```mermaid").count(), 3);
/// ```
pub fn flows(name: &str, flows: &Flows) -> String {
    let n = flows.conversations.len();
    let mut out = format!(
        "### {}: {n} {}\n\n",
        cell(name),
        if n == 1 {
            "conversation"
        } else {
            "conversations"
        }
    );
    for c in &flows.conversations {
        out.push_str(&conversation(c));
        out.push('\n');
    }
    if n > 0 {
        let names: Vec<String> = (1..=n)
            .map(|i| format!("{} {i}", flows.conversations[i - 1].protocol))
            .collect();
        let columns: Vec<(&str, Option<&Conversation>)> = names
            .iter()
            .zip(&flows.conversations)
            .map(|(name, c)| (name.as_str(), Some(c)))
            .collect();
        out.push_str(&table(&columns));
    }
    if flows.more_conversations > 0 {
        let _ = writeln!(
            out,
            "\n… and {} more conversations",
            flows.more_conversations
        );
    }
    out
}

/// The verdict of a check on one line: `✅ **PASS** …` or `❌ **FAIL** …`.
fn verdict(report: &Report) -> String {
    if report.passed() {
        format!(
            "✅ **PASS** `{}`: {}",
            code(&report.file),
            cell(&report.expected)
        )
    } else {
        format!(
            "❌ **FAIL** `{}`: {}; {}",
            code(&report.file),
            cell(&report.expected),
            cell(&report.failures_line())
        )
    }
}

/// What `lola check` adds to `$GITHUB_STEP_SUMMARY`: the verdict, the
/// notes, and the capture's diagrams when it could be read again.
///
/// ```
/// let path = "fixtures/seed-ipv4.pcap";
/// let report = lola::check_file(path.as_ref(), &lola::Expectation::seed()).unwrap();
/// let flows = lola::check::flow::flows(lola::capture::CaptureReader::open(path.as_ref()).unwrap()).unwrap();
/// let md = lola::report::markdown::check(&report, Some(&flows));
/// assert!(md.starts_with("### lola check\n\n✅ **PASS** `fixtures/seed-ipv4.pcap`"));
/// ```
pub fn check(report: &Report, flows: Option<&Flows>) -> String {
    let mut out = format!("### lola check\n\n{}\n", verdict(report));
    notes(&mut out, report);
    diagrams(&mut out, flows);
    out
}

fn notes(out: &mut String, report: &Report) {
    if !report.notes.is_empty() {
        out.push('\n');
        for n in &report.notes {
            let _ = writeln!(out, "- note: {}", cell(&n.to_string()));
        }
    }
}

fn diagrams(out: &mut String, flows: Option<&Flows>) {
    if let Some(flows) = flows {
        for c in &flows.conversations {
            out.push('\n');
            out.push_str(&conversation(c));
        }
    }
}

/// What a check against an expectation file (`check --expect`, `exec`, `run
/// --expect`) adds to `$GITHUB_STEP_SUMMARY`, under the heading `title`:
/// the verdict, a table of the expectations and rules with why each failed
/// and what came closest, the notes, and the capture's diagrams.
///
/// ```
/// use lola::check::expect::{ExpectationSet, check_file_with_set};
/// let set = ExpectationSet::parse("x.toml", "[[expect]]\nname = \"syn\"\nmatch = \"tcp.flags.syn == 1\"\ncount = 2\n").unwrap();
/// let report = check_file_with_set("fixtures/seed-tcp.pcap".as_ref(), &set).unwrap();
/// let md = lola::report::markdown::expectations("lola check --expect x.toml", &report, None);
/// assert!(md.starts_with("### lola check --expect x.toml\n\n✅ **PASS** `fixtures/seed-tcp.pcap`: 1 of 1 expectations held"));
/// assert!(md.contains("| ✅ | syn | `tcp.flags.syn == 1` | 2 | 2 |  |"));
/// ```
pub fn expectations(title: &str, report: &SetReport, flows: Option<&Flows>) -> String {
    let mut out = format!(
        "### {}\n\n{} `{}`: {} of {} expectations held in {}\n\n\
         | | expectation | match | count | frames held | why it failed, closest frames |\n\
         |---|---|---|---|---:|---|\n",
        cell(title),
        if report.passed() {
            "✅ **PASS**"
        } else {
            "❌ **FAIL**"
        },
        code(&report.file),
        report.held(),
        report.expectations.len(),
        crate::packet::summary::plural(report.frames, "frame"),
    );
    let mark = |passed: bool| if passed { "✅" } else { "❌" };
    for e in &report.expectations {
        let why: Vec<String> = if e.verdict.passed() {
            Vec::new()
        } else {
            e.failures
                .iter()
                .chain(&e.evidence)
                .map(|w| cell(w))
                .collect()
        };
        let _ = writeln!(
            out,
            "| {} | {} | `{}` | {} | {} | {} |",
            mark(e.verdict.passed()),
            cell(&e.name),
            cell(&code(&e.matches)),
            cell(&e.count),
            e.held,
            why.join("<br>")
        );
    }
    for r in &report.rules {
        let why: Vec<String> = r
            .failures
            .iter()
            .chain(&r.evidence)
            .map(|w| cell(w))
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | | | {} broke it | {} |",
            mark(r.verdict.passed()),
            cell(&r.name),
            r.count,
            why.join("<br>")
        );
    }
    if !report.notes.is_empty() {
        out.push('\n');
        for n in &report.notes {
            let _ = writeln!(out, "- note: {}", cell(n));
        }
    }
    diagrams(&mut out, flows);
    out
}

/// What `lola run` adds to `$GITHUB_STEP_SUMMARY`: the datagram, the
/// verdicts on the written (and the observed) capture, and the diagram.
pub fn run(outcome: &RunOutcome, flows: Option<&Flows>) -> String {
    let d = &outcome.exchange.received;
    let mut out = format!(
        "### lola run\n\nreceived from `{}`: {}\n\n{}\n",
        d.src,
        cell(&crate::check::quote_bytes(&d.payload)),
        verdict(&outcome.report)
    );
    notes(&mut out, &outcome.report);
    if let Some(live) = &outcome.live {
        let _ = writeln!(
            out,
            "\ncaptured on {}: {}",
            live.place,
            verdict(&live.report)
        );
        lost(&mut out, &live.report);
        if let Some(c) = &live.comparison {
            let _ = writeln!(
                out,
                "\nsynthesized vs observed: {}",
                if c.equivalent() {
                    "equivalent (differences only where expected)"
                } else {
                    "**DIFFERENT**"
                }
            );
        }
    }
    if let Some(note) = &outcome.capture_note {
        let _ = writeln!(out, "\nnote: {}", cell(note));
    }
    diagrams(&mut out, flows);
    out
}

/// What `lola compare` adds to `$GITHUB_STEP_SUMMARY`: the outcome, the
/// table, and both diagrams.
pub fn compare(outcome: &CompareOutcome) -> String {
    let mut out = format!(
        "### lola compare\n\n{}\n\n",
        if outcome.demonstrated() {
            "✅ **PASS**: the checker flags the TCP handshake and passes the single UDP datagram"
        } else {
            "❌ **FAIL**: the checker did not tell TCP from UDP"
        }
    );
    let columns = [
        ("TCP", outcome.tcp.conversation()),
        ("UDP", outcome.udp.conversation()),
    ];
    out.push_str(&table(&columns));
    for (name, c) in columns {
        match c {
            Some(c) => {
                out.push('\n');
                out.push_str(&conversation(c));
            }
            None => {
                let _ = writeln!(out, "\n**{name}**: no frames");
            }
        }
    }
    if let Some(note) = &outcome.capture_note {
        let _ = writeln!(out, "\nnote: {}", cell(note));
    }
    lost(&mut out, &outcome.tcp.check);
    lost(&mut out, &outcome.udp.check);
    out
}

/// The frames a capture admits it lost (or the kernel dropped while lola
/// captured it), when any: said even where the verdict passed.
fn lost(out: &mut String, report: &Report) {
    if let Some(d) = report.lost {
        let _ = writeln!(
            out,
            "\nnote: `{}`: the capture admits {} ({})",
            code(&report.file),
            crate::packet::summary::plural(d.total(), "lost frame"),
            cell(&d.to_string())
        );
    }
}

/// Text safe in a table cell or a line: `|` would end the cell, and `<`
/// would start HTML.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('<', "&lt;")
}

/// Text safe inside a code span.
fn code(text: &str) -> String {
    text.replace('`', "'")
}
