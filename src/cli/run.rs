//! `lola run`: the exchange, the frame, the file, the check; and, where
//! permitted, what really crossed `lo`.

use std::path::PathBuf;

use lola::Error;
use lola::capture::is_standard_output;
use lola::check::quote_bytes;
use lola::exchange::Event;
use lola::harness::{self, CaptureMode, LiveOutcome, RunOptions, RunOutcome};

use super::args::RunArgs;
use super::output::{
    Exit, diff_text, frames_word, humans_to_stderr, out, out_json, prepare_outputs, report_text,
    write_junit,
};
use super::pictures::{append_summary, check_report_path, flows_of, wants_summary, write_report};

pub fn run(args: RunArgs) -> Result<Exit, Error> {
    let (output, format) = args.output.resolve();
    let on_stdout = is_standard_output(&output);
    let mut outputs = vec![output.clone()];
    if args.capture != CaptureMode::Off && !on_stdout {
        outputs.push(harness::observed_path(&output));
    }
    outputs.extend(args.report.junit.clone());
    prepare_outputs(outputs.iter().map(PathBuf::as_path))?;
    humans_to_stderr(on_stdout);
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
        let observed = outcome.live.as_ref().and_then(|l| l.output.as_ref());
        let drawn = match observed {
            Some(path) => Some(path),
            None if !on_stdout => Some(&outcome.output),
            None => None,
        };
        let flows = match drawn {
            Some(path) => flows_of(path)?,
            None => None,
        };
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
    match &live.output {
        Some(path) => out(format_args!(
            "captured on {}: {} {} of this run's flow; wrote {} ({}, {} bytes)\n",
            live.place,
            live.written.frames,
            frames_word(live.written.frames),
            path.display(),
            live.written.format,
            live.written.bytes
        )),
        None => out(format_args!(
            "captured on {}: {} {} of this run's flow; checked, not written (the capture went to standard output)\n",
            live.place,
            live.written.frames,
            frames_word(live.written.frames),
        )),
    }
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
