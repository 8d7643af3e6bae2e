//! `lola compare`: the same message over TCP and over UDP, with ladder
//! diagrams, and the checker's verdict on each.

use std::path::PathBuf;

use lola::capture::Format;
use lola::capture::{check_writable, write_file_atomically};
use lola::check::quote_bytes;
use lola::harness::{self, CompareOptions, CompareOutcome, Side};
use lola::report::ladder::{ladder, legend, side_by_side};
use lola::report::{html, markdown, mermaid, svg};
use lola::{Error, Report};

use super::args::CompareArgs;
use super::args::DiagramFormat;
use super::draw::{deprecated, drawing};
use super::output::{Exit, out, out_json, prepare_outputs, report_error, write_junit};
use super::pictures::{append_summary, check_report_path, wants_summary, write_report};

pub fn run(args: CompareArgs) -> Result<Exit, Error> {
    let options = CompareOptions {
        to: args.endpoint.addr(),
        payload: args.message.into_bytes(),
        out_dir: args.out_dir,
        format: args.format,
        timeout: args.timeout,
        capture: args.capture,
        buffer_size: args.live.bytes(),
        ..Default::default()
    };
    let ext = match options.format {
        Format::Pcap => "pcap",
        Format::PcapNg => "pcapng",
    };
    let files = ["tcp", "udp"].map(|name| options.out_dir.join(format!("{name}.{ext}")));
    if args.svg.is_some() {
        deprecated("compare", "--svg FILE", "-o FILE (or -o FILE --draw svg)");
    }
    // The drawing -o asks for; --svg FILE is -o FILE --draw svg.
    let picture = match (&args.output, &args.svg) {
        (Some(path), _) => Some((path.clone(), drawing(args.draw, Some(path))?)),
        (None, Some(path)) => Some((path.clone(), DiagramFormat::Svg)),
        (None, None) => None,
    };
    let ready = || -> Result<CompareOutcome, Error> {
        prepare_outputs(files.iter().map(PathBuf::as_path))?;
        check_report_path(args.pictures.report.as_deref())?;
        if let Some((path, _)) = &picture {
            check_writable(path)?;
        }
        harness::compare(&options)
    };
    let outcome = match ready() {
        Ok(outcome) => outcome,
        Err(e) => {
            let dir = options.out_dir.display().to_string();
            return Err(report_error(&args.report, "lola compare", &dir, e)?);
        }
    };
    if let Some((path, draw)) = &picture {
        let (tcp, udp) = (outcome.tcp.conversation(), outcome.udp.conversation());
        let columns = [("TCP", tcp), ("UDP", udp)];
        let drawn = match draw {
            DiagramFormat::Svg => svg::tcp_and_udp(tcp, udp),
            DiagramFormat::Mermaid => [tcp, udp]
                .into_iter()
                .flatten()
                .map(mermaid::sequence)
                .collect::<Vec<_>>()
                .join("\n"),
            DiagramFormat::Markdown => markdown::compare(&outcome),
            DiagramFormat::Text => format!("{}\n{}", side_by_side(&columns), legend(false)),
        };
        write_file_atomically(path, drawn.as_bytes())?;
    }
    if let Some(path) = &args.pictures.report {
        write_report(path, &html::compare(&outcome))?;
    }
    if wants_summary(&args.pictures) {
        append_summary(&markdown::compare(&outcome));
    }
    if let Some(path) = &args.report.junit {
        write_junit(path, vec![lola::report::junit::compare_suite(&outcome)])?;
    }
    if args.report.json {
        out_json(&outcome.to_json()?);
    } else {
        let (width, color) = (usize::from(args.display.width), args.display.color());
        print_text(&outcome, &options.payload, width, color);
    }
    Ok(Exit::verdict(outcome.demonstrated()))
}

fn print_text(outcome: &CompareOutcome, payload: &[u8], width: usize, color: bool) {
    let how = |side: &Side| match side.place {
        Some(place) => format!("captured live on {place}"),
        None => "synthesized (no live capture)".to_string(),
    };
    let quoted = quote_bytes(payload);
    for (name, what, side) in [
        ("TCP", "one connection carrying", &outcome.tcp),
        ("UDP", "one datagram carrying", &outcome.udp),
    ] {
        out(format_args!(
            "{name}: {what} {quoted} → {}\n  {}\n",
            side.path.display(),
            how(side)
        ));
        match side.conversation() {
            Some(c) => out(ladder(c, width, color)),
            None => out("  (no frames)\n"),
        }
        out("\n");
    }
    out(legend(color));
    out("\n");
    if let Some(note) = &outcome.capture_note {
        out(format_args!("note: {note}\n\n"));
    }
    // The UDP side takes the TCP side's port where it is free; say so when
    // it was not, rather than move the port silently.
    if let (Some(t), Some(u)) = (outcome.tcp.conversation(), outcome.udp.conversation())
        && t.right.port() != u.right.port()
    {
        out(format_args!(
            "note: UDP port {} was taken, so the UDP server used port {}\n\n",
            t.right.port(),
            u.right.port()
        ));
    }
    out(side_by_side(&[
        ("TCP", outcome.tcp.conversation()),
        ("UDP", outcome.udp.conversation()),
    ]));
    out("\n");
    out(format_args!("{}\n", tcp_line(outcome)));
    out(format_args!("{}\n", udp_line(outcome)));
    for side in [&outcome.tcp, &outcome.udp] {
        if let Some(d) = side.check.lost {
            out(format_args!(
                "note: {}: the capture admits {} lost {} ({d})\n",
                side.path.display(),
                d.total(),
                super::output::frames_word(d.total() as usize)
            ));
        }
    }
}

/// What the check of the TCP capture shows: its handshake is the expected
/// finding, so a failing check there is no failure of `compare`.
fn tcp_line(outcome: &CompareOutcome) -> String {
    let (path, r) = (outcome.tcp.path.display(), &outcome.tcp.check);
    if r.tcp_count > 0 && !r.passed() {
        format!(
            "{path}: handshake found, as expected (lola check rejects it: {} TCP segments)",
            r.tcp_count
        )
    } else {
        format!("{path}: NOT flagged: lola check {}", verdict(r))
    }
}

/// What the check of the UDP capture shows.
fn udp_line(outcome: &CompareOutcome) -> String {
    let (path, r) = (outcome.udp.path.display(), &outcome.udp.check);
    if r.passed() {
        format!("{path}: one datagram, no handshake: lola check passes")
    } else {
        format!("{path}: lola check {}", verdict(r))
    }
}

fn verdict(r: &Report) -> String {
    if r.passed() {
        "passes it".to_string()
    } else {
        format!("fails it ({})", r.failures_line())
    }
}
