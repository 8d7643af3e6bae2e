//! `lola run`: the exchange, the frame, the file, the check; and, where
//! permitted, what really crossed `lo`.

use std::path::PathBuf;

use lola::Error;
use lola::capture::is_standard_output;
use lola::check::expect::{ExpectationSet, SetReport, check_file_with_set};
use lola::check::quote_bytes;
use lola::harness::{self, CaptureMode, LiveOutcome, RunOptions, RunOutcome};
use lola::host::exchange::Event;

use super::args::RunArgs;
use super::check_expect::expectation_file;
use super::output::{
    Exit, diff_text_in, frames_word, humans_to_stderr, out, out_json, prepare_outputs,
    report_error, report_text_in, set_text_in, write_junit,
};
use super::pictures::{append_summary, check_report_path, flows_of, wants_summary, write_report};

pub fn run(args: RunArgs) -> Result<Exit, Error> {
    let (output, format) = args.output.resolve();
    if let Err(e) = super::output::refuse_host_without_privilege(args.capture) {
        let file = output.display().to_string();
        return Err(report_error(&args.report, "lola run", &file, e)?);
    }
    let on_stdout = is_standard_output(&output);
    // A bad expectation file stops the run before anything is sent.
    let set = expectation_file(args.expect_file.as_deref(), &output)?;
    let options = RunOptions {
        to: args.endpoint.addr(),
        payload: args.message.clone().into_bytes(),
        output,
        format,
        timeout: args.timeout,
        capture: args.capture,
        linger: args.linger,
        expect_like: args.expect_like.clone(),
        buffer_size: args.live.bytes(),
    };
    humans_to_stderr(on_stdout);
    let mut outcome = match exchange(&args, &options, on_stdout) {
        Ok(outcome) => outcome,
        Err(e) => {
            let file = options.output.display().to_string();
            return Err(report_error(&args.report, "lola run", &file, e)?);
        }
    };
    let expected = match &set {
        Some(set) => Some(check_file_with_set(&outcome.output, set)?),
        None => None,
    };
    annotate(&mut outcome, set.as_ref())?;
    if let Some(path) = &args.report.junit {
        let mut suites = lola::report::junit::run_suites(&outcome);
        if let Some(r) = &expected {
            suites.push(
                lola::report::junit::Suite::new(
                    format!("lola run --expect {}", r.file),
                    lola::report::junit::set_cases(r),
                )
                .with_property("capture", r.file.clone()),
            );
        }
        write_junit(path, suites)?;
    }
    pictures(&args, &outcome, expected.as_ref(), on_stdout)?;
    if args.report.json {
        let mut doc: serde_json::Value = serde_json::from_str(&outcome.to_json()?)?;
        if let (Some(r), Some(map)) = (&expected, doc.as_object_mut()) {
            map.insert("expect".into(), serde_json::to_value(r)?);
            if !r.passed() {
                map.insert("verdict".into(), "fail".into());
            }
        }
        out_json(&serde_json::to_string_pretty(&doc)?);
    } else if !args.quiet {
        print_text(&outcome, args.color.color());
        if let Some(r) = &expected {
            out(set_text_in(r, args.color.color()));
        }
    }
    let passed = outcome.passed() && expected.as_ref().is_none_or(|r| r.passed());
    Ok(Exit::verdict(passed))
}

/// The pcapng files written, commented frame by frame: the synthesized
/// one by the expectation file when given (else by the run's check), the
/// observed one by the check of the observed frames.
fn annotate(outcome: &mut RunOutcome, set: Option<&ExpectationSet>) -> Result<(), Error> {
    let (path, report) = (&outcome.output, &outcome.report);
    super::annotate::written(
        path,
        &mut outcome.written,
        set,
        &report.expectation,
        report.lost,
    )?;
    if let Some(live) = &mut outcome.live
        && let Some(path) = &live.output
    {
        let report = &live.report;
        super::annotate::written(
            path,
            &mut live.written,
            None,
            &report.expectation,
            report.lost,
        )?;
    }
    Ok(())
}

/// Every output made ready, then the exchange, with the seed's banners
/// (unless JSON or quiet).
fn exchange(args: &RunArgs, options: &RunOptions, on_stdout: bool) -> Result<RunOutcome, Error> {
    let mut outputs = vec![options.output.clone()];
    if args.capture != CaptureMode::Off && !on_stdout {
        outputs.push(harness::observed_path(&options.output));
    }
    outputs.extend(args.report.junit.clone());
    prepare_outputs(outputs.iter().map(PathBuf::as_path))?;
    check_report_path(args.pictures.report.as_deref())?;
    let silent = args.report.json || args.quiet;
    harness::run(options, |event| match event {
        _ if silent => {}
        Event::Listening(addr) => out(format_args!("Just here on {}...\n", addr.port())),
        Event::Sending(..) => out("Sending data...\n"),
    })
}

/// The HTML report and the step summary, with the ladder of what crossed
/// lo when it was recorded, else of the frame written.
fn pictures(
    args: &RunArgs,
    outcome: &RunOutcome,
    expected: Option<&SetReport>,
    on_stdout: bool,
) -> Result<(), Error> {
    let summary = wants_summary(&args.pictures);
    if args.pictures.report.is_none() && !summary {
        return Ok(());
    }
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
    // The expectation file judged the written capture: its frame numbers
    // are that capture's.
    let written = match expected {
        Some(_) if !on_stdout => flows_of(&outcome.output)?,
        _ => None,
    };
    if let Some(path) = &args.pictures.report {
        let expected = expected.map(|set| (set, written.as_ref()));
        let html = lola::report::html::run_expecting(outcome, expected, flows.as_ref());
        write_report(path, &html)?;
    }
    if summary {
        let mut md = lola::report::markdown::run(outcome, flows.as_ref());
        if let (Some(set), Some(file)) = (expected, &args.expect_file) {
            let title = format!("lola run --expect {}", file.display());
            md.push('\n');
            md.push_str(&lola::report::markdown::expectations(&title, set, None));
        }
        append_summary(&md);
    }
    Ok(())
}

fn print_text(outcome: &RunOutcome, color: bool) {
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
    out(report_text_in(&outcome.report, color));
    if let Some(note) = &outcome.capture_note {
        out(format_args!("note: {note}; --capture off silences this\n"));
    }
    if let Some(live) = &outcome.live {
        print_live(live, &outcome.output, color);
    }
    if let Some(like) = &outcome.like {
        out(diff_text_in(like, color));
    }
}

fn print_live(live: &LiveOutcome, output: &std::path::Path, color: bool) {
    let went = if is_standard_output(output) {
        "standard output".to_string()
    } else {
        format!("{}, which is no regular file", output.display())
    };
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
            "captured on {}: {} {} of this run's flow; checked, not written (the capture went to {went})\n",
            live.place,
            live.written.frames,
            frames_word(live.written.frames),
        )),
    }
    out(report_text_in(&live.report, color));
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
