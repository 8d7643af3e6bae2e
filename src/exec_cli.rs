//! `lola exec`: run a program on a private lo, write what it put there, check it.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use clap::Args;
use serde_json::json;

use lola::capture::Format;
use lola::check::{ChecksumPolicy, Count, Expectation};
use lola::exec::{ExecOptions, exec};
use lola::sandbox::Place;
use lola::{Error, Report};

use super::{out, parse_duration, verdict_code, verdict_colour, write_junit};

#[derive(Args)]
pub struct ExecArgs {
    /// Capture file to write [default: exec.pcap, or exec.pcapng with --format pcapng]
    #[arg(short, long, value_name = "PATH")]
    output: Option<PathBuf>,
    /// File format [default: from the extension of -o, else pcap]
    #[arg(long, value_name = "pcap|pcapng")]
    format: Option<Format>,
    /// How long the capture goes on after the program ended
    #[arg(long, value_name = "DURATION", default_value = "100ms", value_parser = parse_duration)]
    linger: Duration,
    /// Stop the program after this long (SIGTERM to its process group, SIGKILL 2s later)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    timeout: Option<Duration>,
    /// Record the host's lo instead of a private one (needs CAP_NET_RAW; no isolation)
    #[arg(long)]
    host: bool,
    /// Judge the capture even when the program fails or is killed (else exit 2)
    #[arg(long)]
    ignore_exit: bool,
    /// Expected destination port
    #[arg(long, value_name = "P", default_value_t = lola::check::SEED_PORT)]
    dst_port: u16,
    /// Expected payload
    #[arg(long, value_name = "TEXT", default_value = lola::check::SEED_MESSAGE)]
    message: String,
    /// Accept any payload
    #[arg(long)]
    any_payload: bool,
    /// Exactly N matching datagrams
    #[arg(long, value_name = "N", default_value_t = 1)]
    count: u64,
    /// Do not fail on TCP segments between the expected endpoints
    #[arg(long)]
    allow_tcp: bool,
    /// strict: only correct checksums pass; lenient: partial (offload) passes with a note; ignore
    #[arg(long, value_name = "POLICY", default_value = "lenient")]
    checksums: ChecksumPolicy,
    /// Print a JSON report on stdout instead of text (the program's stdout goes to stderr)
    #[arg(long)]
    json: bool,
    /// Also write a JUnit XML report
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// The program and its arguments, after --
    #[arg(last = true, required = true, value_name = "CMD")]
    command: Vec<OsString>,
}

/// The signal lola received, 0 until one comes.
static STOP: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(signal: libc::c_int) {
    STOP.store(signal, Ordering::Relaxed);
}

pub fn cmd_exec(args: ExecArgs) -> Result<ExitCode, Error> {
    let output = args.output.clone().unwrap_or_else(|| match args.format {
        Some(Format::PcapNg) => "exec.pcapng".into(),
        _ => "exec.pcap".into(),
    });
    let format = args
        .format
        .unwrap_or_else(|| match output.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("pcapng") => Format::PcapNg,
            _ => Format::Pcap,
        });
    let options = ExecOptions {
        program: args.command.clone(),
        output,
        format,
        linger: args.linger,
        timeout: args.timeout,
        host: args.host,
        stdout_to_stderr: args.json,
    };
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
    }
    let outcome = exec(&options, &STOP)?;
    let mut expectation = Expectation::seed()
        .dst_port(args.dst_port)
        .payload(args.message.as_bytes())
        .count(Count::Exactly(args.count))
        .allow_tcp(args.allow_tcp)
        .checksums(args.checksums);
    if args.any_payload {
        expectation = expectation.any_payload();
    }
    let report = lola::check_file(&outcome.output, &expectation)?;
    let name = args.command[0].to_string_lossy().into_owned();
    if let Some(path) = &args.junit {
        let mut cases = lola::junit::check_cases(&report);
        cases.push(lola::junit::Case {
            name: format!("{name} exits with status 0"),
            failure: (outcome.ending.failed() && !args.ignore_exit)
                .then(|| outcome.ending.to_string()),
        });
        let suite = format!("lola exec {}", outcome.output.display());
        write_junit(path, &[(&suite, cases)])?;
    }
    if args.json {
        let value = json!({
            "schema_version": 1,
            "command": "exec",
            "verdict": if report.passed() { "pass" } else { "fail" },
            "program": {
                "argv": args.command.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>(),
                "ending": outcome.ending.name(),
                "description": outcome.ending.to_string(),
                "failed": outcome.ending.failed(),
            },
            "capture": {
                "place": outcome.place.name(),
                "isolation": match outcome.place { Place::Private(i) => Some(i), Place::Host => None },
                "path": outcome.output.display().to_string(),
                "format": outcome.written.format,
                "frames": outcome.written.frames,
                "bytes": outcome.written.bytes,
            },
            "check": report,
        });
        let text =
            serde_json::to_string_pretty(&value).map_err(|e| Error::Invalid(e.to_string()))?;
        out(format_args!("{text}\n"));
    } else {
        out(format_args!("{name} {}\n", outcome.ending));
        out(format_args!(
            "captured on {}: {} {}; wrote {} ({}, {} bytes)\n",
            outcome.place,
            outcome.written.frames,
            if outcome.written.frames == 1 {
                "frame"
            } else {
                "frames"
            },
            outcome.output.display(),
            outcome.written.format,
            outcome.written.bytes
        ));
        out(verdict_colour(&report));
    }
    exit_code(&outcome.ending, &report, args.ignore_exit, &name)
}

fn exit_code(
    ending: &lola::exec::Ending,
    report: &Report,
    ignore_exit: bool,
    name: &str,
) -> Result<ExitCode, Error> {
    if ending.failed() && !ignore_exit {
        let _ = writeln!(
            std::io::stderr(),
            "lola: {name} {ending}; the capture was written and judged (--ignore-exit exits by the verdict alone)"
        );
        return Ok(ExitCode::from(2));
    }
    Ok(verdict_code(report.passed()))
}
