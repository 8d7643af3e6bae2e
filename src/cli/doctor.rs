//! `lola doctor`: which capture modes work here, and why not.

use lola::Error;
use lola::host::sandbox::{Blocked, Diagnosis, Place, diagnose};

use super::args::DoctorArgs;
use super::output::{Exit, out, out_json};

/// Exit 0 when `--capture auto` captures live here, 1 when it would synthesize.
pub fn run(args: DoctorArgs) -> Result<Exit, Error> {
    let d = diagnose();
    if args.json {
        out_json(&d.to_json()?);
    } else {
        print_findings(&d);
        print_modes(&d);
    }
    Ok(Exit::verdict(d.auto().is_ok()))
}

/// The width of a row's label.
const LABEL: usize = 38;

fn row(label: &str, value: &str) {
    out(format_args!("  {label:<LABEL$}{value}\n"));
}

/// `yes`, or the cause with its fix on the next line, under the value.
fn works(r: &Result<(), Blocked>) -> String {
    match r {
        Ok(()) => "yes".into(),
        Err(b) => format!("no: {b}\n  {:LABEL$}fix: {}", "", b.fix()),
    }
}

/// What this process and this kernel allow.
fn print_findings(d: &Diagnosis) {
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    let root = if d.root { " (root)" } else { "" };
    out(format_args!("lola doctor: uid {uid}{root}\n"));
    let host = match &d.host {
        Ok(()) => "yes".to_string(),
        Err(e) => format!("no: {e}"),
    };
    row("CAP_NET_RAW on the host lo", &host);
    let kind = match &d.private {
        Ok(i) => i.to_string(),
        Err(_) if d.root => "network namespace".into(),
        Err(_) => "user namespace".into(),
    };
    let private = d.private.as_ref().map(|_| ()).map_err(Clone::clone);
    row(&format!("private lo ({kind})"), &works(&private));
    if let Some(r) = &d.unprivileged {
        row("private lo for uid 65534 (user ns)", &works(r));
    }
    for (name, value) in &d.settings {
        row(name, value);
    }
}

/// What each mode does here.
fn print_modes(d: &Diagnosis) {
    out("modes:\n");
    let mode = |name: &str, what: &str| out(format_args!("  {name:<20}{what}\n"));
    mode(
        "--capture host",
        if d.host.is_ok() {
            "captures on the host lo"
        } else {
            "exits 2 (no CAP_NET_RAW)"
        },
    );
    mode(
        "--capture private",
        &match &d.private {
            Ok(i) => format!("captures on {}", Place::Private(*i)),
            Err(_) => "exits 2 (no private lo)".into(),
        },
    );
    mode(
        "--capture auto",
        &match d.auto() {
            Ok(p) => format!("captures on {p}"),
            Err(b) => format!("synthesizes the frames: {b}"),
        },
    );
    mode(
        "lola exec",
        &match (&d.private, &d.host) {
            (Ok(i), _) => format!("records {}", Place::Private(*i)),
            (Err(_), Ok(())) => "needs --host (records the host lo)".into(),
            (Err(_), Err(_)) => "cannot record here".into(),
        },
    );
}
