//! `lola run` as a library call: the exchange, the frame, the file, the check.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::capture::{CaptureFrame, Format, WriteSummary, write_capture};
use crate::check::{Expectation, Report, check_file};
use crate::error::Result;
use crate::exchange::{self, Event, Exchange};
use crate::frame::{Datagram, build_frame};

/// What `lola run` does, with its defaults.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Where the server binds and the client sends (port 0: any free port).
    pub to: SocketAddr,
    /// The datagram's payload.
    pub payload: Vec<u8>,
    /// Where the capture goes.
    pub output: PathBuf,
    /// pcap or pcapng.
    pub format: Format,
    /// How long the server waits for the datagram.
    pub timeout: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            to: SocketAddr::from(([127, 0, 0, 1], crate::check::SEED_PORT)),
            payload: crate::check::SEED_MESSAGE.as_bytes().to_vec(),
            output: PathBuf::from("hello-lola.pcap"),
            format: Format::Pcap,
            timeout: Duration::from_secs(2),
        }
    }
}

/// Everything one run produced.
#[derive(Clone, Debug)]
pub struct RunOutcome {
    /// What the sockets saw.
    pub exchange: Exchange,
    /// The file written.
    pub output: PathBuf,
    /// What was written.
    pub written: WriteSummary,
    /// The check of the written file against the datagram the server received.
    pub report: Report,
}

/// The pcapng comment for a synthesized frame.
pub fn synthesized_comment(datagram: &Datagram) -> String {
    format!(
        "synthesized by lola from the datagram the server received at {}",
        crate::check::format_time(datagram.timestamp)
    )
}

/// The capture frame for a datagram.
pub fn synthesize(datagram: &Datagram) -> Result<CaptureFrame<'static>> {
    Ok(CaptureFrame {
        timestamp: datagram.timestamp,
        data: Cow::Owned(build_frame(datagram)?),
        comment: Some(synthesized_comment(datagram)),
    })
}

/// Sends the datagram over loopback, writes the frame the server's view
/// implies, reads the file back and checks it holds exactly that datagram
/// and no TCP.
///
/// ```no_run
/// let outcome = lola::harness::run(&lola::RunOptions::default(), |_| {}).unwrap();
/// assert!(outcome.report.passed());
/// ```
pub fn run(options: &RunOptions, on_event: impl FnMut(Event)) -> Result<RunOutcome> {
    // Refuse what cannot be one datagram before any socket is touched.
    Datagram::new(options.to, options.to, options.payload.clone())
        .validate()
        .or_else(|e| {
            if options.to.ip().is_unspecified() {
                Ok(())
            } else {
                Err(e)
            }
        })?;
    let exchange = exchange::run(options.to, &options.payload, options.timeout, on_event)?;
    let frame = synthesize(&exchange.received)?;
    let written = write_capture(&options.output, options.format, &[frame])?;
    let report = check_output(&options.output, &exchange.received)?;
    Ok(RunOutcome {
        exchange,
        output: options.output.clone(),
        written,
        report,
    })
}

fn check_output(path: &Path, datagram: &Datagram) -> Result<Report> {
    // Strict: lola computed these checksums itself, so anything but correct is a bug.
    let expectation =
        Expectation::exactly(datagram).checksums(crate::check::ChecksumPolicy::Strict);
    check_file(path, &expectation)
}
