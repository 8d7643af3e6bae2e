//! `lola capture`: record frames on an interface until Ctrl-C, a duration or
//! a count, like a minimal tcpdump.

use std::io::{self, Write};

use lola::Error;
use lola::Expectation;
use lola::capture::{Drops, is_standard_output};
use lola::check::expect::CheckReport;
use lola::harness::{capture_on_with_buffer, record_observed};
use lola::host::live::{FlowFilter, Stop};

use super::args::{CaptureArgs, format_of};
use super::check_expect::expectation_file;
use super::output::{self, Exit, frames_word, humans_to_stderr, out, prepare_outputs};

/// What to try instead when the host's interfaces are out of reach.
const WITHOUT_ROOT: &str =
    "without it, lola exec -- CMD records what a program puts on a private lo";

pub fn run(args: CaptureArgs) -> Result<Exit, Error> {
    super::draw::note_old_spelling("capture", "--count", "-c/--max-frames");
    let format = args.format.unwrap_or_else(|| format_of(&args.output));
    let set = expectation_file(args.expect_file.as_deref(), &args.output)?;
    prepare_outputs([args.output.as_path()])?;
    humans_to_stderr(is_standard_output(&args.output));
    let filter = FlowFilter::ports(args.filter_ports.clone());
    let mut capture = match capture_on_with_buffer(&args.interface, filter, args.live.bytes()) {
        Ok(capture) => capture,
        Err(e @ Error::CaptureUnavailable { .. }) if !lola::host::sandbox::has_net_raw() => {
            output::error_with_hint(&e, WITHOUT_ROOT);
            return Ok(Exit::Error);
        }
        Err(e) => return Err(e),
    };
    let stop = Stop::on_flag(signals::install())
        .deadline(args.duration.map(|d| std::time::Instant::now() + d))
        .count(args.count);
    let _ = writeln!(
        io::stderr(),
        "lola: capturing on {}{}, Ctrl-C to stop",
        args.interface,
        if args.filter_ports.is_empty() {
            String::new()
        } else {
            format!(" (ports {:?})", args.filter_ports)
        }
    );
    // Frames go to the file as they arrive; the kernel's count, read once
    // after the last, goes to the file (pcapng), the terminal line and the
    // verdict, whatever the format.
    let recorded = record_observed(&args.output, format, &mut capture, stop);
    // The kernel's wait on the socket's last close is not lola's.
    capture.close_detached();
    let (mut written, statistics, kept) = recorded?;
    let drops = statistics.map(Drops::from).unwrap_or_default();
    // Judged first (when asked), so that a pcapng is commented before its
    // size is told; what was not judged gets no comment.
    let report = match &set {
        Some(set) => {
            let report = CheckReport::of_written(
                &args.output,
                &kept,
                &Expectation::seed(),
                Some(set),
                drops,
            )?;
            let lost = report.lost();
            let seed = Expectation::seed();
            super::annotate::written(&args.output, &mut written, Some(set), &seed, lost)?;
            Some(report)
        }
        None => None,
    };
    let dropped = match statistics {
        Some(s) => format!("{} dropped by the kernel", s.dropped),
        None => "the kernel's drop count could not be read".to_string(),
    };
    out(format_args!(
        "{} {} captured, {dropped}; wrote {} ({}, {} bytes)\n",
        written.frames,
        frames_word(written.frames),
        args.output.display(),
        written.format,
        written.bytes
    ));
    match &report {
        Some(report) => {
            match report {
                CheckReport::Set(r) => out(r),
                CheckReport::Builtin(r) => out(r),
            }
            Ok(Exit::verdict(report.passed()))
        }
        None => Ok(Exit::Pass),
    }
}

/// Ctrl-C and SIGTERM end a capture cleanly: the frames so far are written.
mod signals {
    use std::sync::atomic::{AtomicBool, Ordering};

    static STOP: AtomicBool = AtomicBool::new(false);

    extern "C" fn on_signal(_: libc::c_int) {
        STOP.store(true, Ordering::Relaxed);
        // An output waiting for a FIFO's reader gives up.
        lola::capture::interrupt();
    }

    pub fn install() -> &'static AtomicBool {
        #[cfg(unix)]
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe {
            libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
            libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
        }
        &STOP
    }
}
