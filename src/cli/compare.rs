//! `lola compare`: the same message over TCP and over UDP, with ladder
//! diagrams, and the checker's verdict on each.

use lola::check::quote_bytes;
use lola::flow::{ladder, side_by_side};
use lola::harness::{self, CompareOptions, CompareOutcome, Side};
use lola::{Error, Report};

use super::args::CompareArgs;
use super::output::{Exit, error_json, out, out_json, write_junit, write_junit_error};

pub fn run(args: CompareArgs) -> Result<Exit, Error> {
    let options = CompareOptions {
        to: args.endpoint.addr(),
        payload: args.message.into_bytes(),
        out_dir: args.out_dir,
        format: args.format,
        timeout: args.timeout,
        capture: args.capture,
        ..Default::default()
    };
    let outcome = match harness::compare(&options) {
        Ok(outcome) => outcome,
        Err(e) => {
            // Exit 2 still leaves the reports CI asked for.
            if let Some(path) = &args.report.junit {
                write_junit_error(path, "lola compare", &e)?;
            }
            if args.report.json {
                let dir = options.out_dir.display().to_string();
                out_json(&serde_json::to_string_pretty(&error_json(&e, &dir))?);
            }
            return Err(e);
        }
    };
    if let Some(path) = &args.report.junit {
        write_junit(path, &[("lola compare", outcome.junit_cases())])?;
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
            "{name}: {what} {quoted}, {} → {}\n",
            how(side),
            side.path.display()
        ));
        match side.conversation() {
            Some(c) => out(ladder(c, width, color)),
            None => out("  (no frames)\n"),
        }
        out("\n");
    }
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
    let verdict = |r: &Report| {
        if r.passed() {
            "PASS".to_string()
        } else {
            format!("FAIL ({})", r.failures_line())
        }
    };
    for side in [&outcome.tcp, &outcome.udp] {
        out(format_args!(
            "lola check {}: {}\n",
            side.path.display(),
            verdict(&side.check)
        ));
    }
}
