//! `lola run`: the exchange, the frame, the file, the check; and, where
//! permitted, what really crossed `lo`.

use std::path::Path;

use lola::Error;
use lola::check::quote_bytes;
use lola::exchange::Event;
use lola::harness::{self, LiveOutcome, RunOptions, RunOutcome};

use super::args::RunArgs;
use super::output::{Exit, diff_text, frames_word, out, out_json, report_text, write_junit};
use super::pictures::{append_summary, check_report_path, flows_of, wants_summary, write_report};

pub fn run(args: RunArgs) -> Result<Exit, Error> {
    let (output, format) = args.output.resolve();
    if output == Path::new("-") {
        return Err(Error::Invalid(
            "run writes the capture to a file and reads it back; give -o a file name (lola build -o - writes to stdout)"
                .into(),
        ));
    }
    let options = RunOptions {
        to: args.endpoint.addr(),
        payload: args.message.into_bytes(),
        output,
        format,
        timeout: args.timeout,
        capture: args.capture,
        linger: args.linger,
        expect_like: args.expect_like,
    };
    check_report_path(args.pictures.report.as_deref())?;
    let json = args.report.json;
    let outcome = harness::run(&options, |event| match event {
        _ if json => {}
        Event::Listening(addr) => out(format_args!("Just here on {}...\n", addr.port())),
        Event::Sending(..) => out("Sending data...\n"),
    })?;
    if let Some(path) = &args.report.junit {
        write_junit(path, &outcome.junit_suites())?;
    }
    let summary = wants_summary(&args.pictures);
    if args.pictures.report.is_some() || summary {
        // The ladder of what crossed lo when it was recorded, else of the frame written.
        let drawn = outcome.live.as_ref().map_or(&outcome.output, |l| &l.output);
        let flows = flows_of(drawn)?;
        if let Some(path) = &args.pictures.report {
            write_report(path, &lola::render::html::run(&outcome, flows.as_ref()))?;
        }
        if summary {
            append_summary(&lola::render::markdown::run(&outcome, flows.as_ref()));
        }
    }
    if json {
        out_json(&outcome.to_json()?);
    } else {
        print_text(&outcome);
    }
    Ok(Exit::verdict(outcome.passed()))
}

fn print_text(outcome: &RunOutcome) {
    let d = &outcome.exchange.received;
    out(format_args!(
        "FROM: {} DATA: {}\n",
        d.src,
        quote_bytes(&d.payload)
    ));
    for stray in &outcome.exchange.strays {
        out(format_args!(
            "note: ignored a datagram from another sender {} DATA: {}\n",
            stray.src,
            quote_bytes(&stray.payload)
        ));
    }
    out(format_args!(
        "wrote {} ({}, {} frame, {} bytes)\n",
        outcome.output.display(),
        outcome.written.format,
        outcome.written.frames,
        outcome.written.bytes
    ));
    out(report_text(&outcome.report));
    if let Some(note) = &outcome.capture_note {
        out(format_args!("note: {note}; --capture off silences this\n"));
    }
    if let Some(live) = &outcome.live {
        print_live(live);
    }
    if let Some(like) = &outcome.like {
        out(diff_text(like));
    }
}

fn print_live(live: &LiveOutcome) {
    out(format_args!(
        "captured on {}: {} {} of this run's flow; wrote {} ({}, {} bytes)\n",
        live.place,
        live.written.frames,
        frames_word(live.written.frames),
        live.output.display(),
        live.written.format,
        live.written.bytes
    ));
    out(report_text(&live.report));
    match &live.comparison {
        Some(c) => {
            out(format_args!(
                "synthesized vs observed: {}\n",
                if c.equivalent() {
                    "equivalent (differences only where expected)"
                } else {
                    "DIFFERENT"
                }
            ));
            out(c);
        }
        None => out("synthesized vs observed: the datagram was not seen on lo\n"),
    }
}
