//! `lola run`: the exchange, the frame, the file, the check; and, where
//! permitted, what really crossed `lo`.

use std::path::Path;

use lola::Error;
use lola::check::expect::{ExpectationSet, check_file_with_set};
use lola::check::quote_bytes;
use lola::exchange::Event;
use lola::harness::{self, LiveOutcome, RunOptions, RunOutcome};

use super::args::RunArgs;
use super::output::{Exit, diff_text, frames_word, out, out_json, report_text, write_junit};

pub fn run(args: RunArgs) -> Result<Exit, Error> {
    let (output, format) = args.output.resolve();
    if output == Path::new("-") {
        return Err(Error::Invalid(
            "run writes the capture to a file and reads it back; give -o a file name (lola build -o - writes to stdout)"
                .into(),
        ));
    }
    // A bad expectation file stops the run before anything is sent.
    let set = match &args.expect_file {
        Some(path) => Some(ExpectationSet::read(path)?),
        None => None,
    };
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
    let json = args.report.json;
    let outcome = harness::run(&options, |event| match event {
        _ if json => {}
        Event::Listening(addr) => out(format_args!("Just here on {}...\n", addr.port())),
        Event::Sending(..) => out("Sending data...\n"),
    })?;
    let expected = match &set {
        Some(set) => Some(check_file_with_set(&outcome.output, set)?),
        None => None,
    };
    if let Some(path) = &args.report.junit {
        let mut suites = outcome.junit_suites();
        if let Some(r) = &expected {
            suites.push((format!("lola run --expect {}", r.file), r.junit_cases()));
        }
        write_junit(path, &suites)?;
    }
    if json {
        let mut doc: serde_json::Value = serde_json::from_str(&outcome.to_json()?)?;
        if let (Some(r), Some(map)) = (&expected, doc.as_object_mut()) {
            map.insert("expect".into(), serde_json::to_value(r)?);
        }
        out_json(&serde_json::to_string_pretty(&doc)?);
    } else {
        print_text(&outcome);
        if let Some(r) = &expected {
            out(r);
        }
    }
    let passed = outcome.passed() && expected.as_ref().is_none_or(|r| r.passed());
    Ok(Exit::verdict(passed))
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
