//! `lola doctor`: which capture modes work here, and why not.

use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use lola::Error;
use lola::sandbox::{Blocked, Diagnosis, Place, diagnose};

use super::out;

#[derive(Args)]
pub struct DoctorArgs {
    /// Print the findings as JSON
    #[arg(long)]
    json: bool,
}

fn verdict(r: &Result<(), Blocked>) -> String {
    match r {
        Ok(()) => "yes".into(),
        Err(b) => format!("no: {b}\n{:40}fix: {}", "", b.fix()),
    }
}

fn blocked_json(b: &Blocked) -> serde_json::Value {
    json!({ "cause": b.to_string(), "fix": b.fix() })
}

/// Exit 0 when `--capture auto` captures live here, 1 when it would synthesize.
pub fn cmd_doctor(args: DoctorArgs) -> Result<ExitCode, Error> {
    let d: Diagnosis = diagnose();
    let auto = d.auto();
    if args.json {
        let value = json!({
            "schema_version": 1,
            "command": "doctor",
            "root": d.root,
            "host": match &d.host { Ok(()) => json!({"works": true}), Err(e) => json!({"works": false, "cause": e.to_string()}) },
            "private": match &d.private { Ok(i) => json!({"works": true, "isolation": i}), Err(b) => { let mut v = blocked_json(b); v["works"] = json!(false); v } },
            "unprivileged_private": d.unprivileged.as_ref().map(|r| match r { Ok(()) => json!({"works": true}), Err(b) => { let mut v = blocked_json(b); v["works"] = json!(false); v } }),
            "auto": match &auto { Ok(p) => json!({"captures": true, "place": p.name()}), Err(b) => { let mut v = blocked_json(b); v["captures"] = json!(false); v } },
            "settings": d.settings.iter().map(|(n, v)| (n.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
        });
        let text =
            serde_json::to_string_pretty(&value).map_err(|e| Error::Invalid(e.to_string()))?;
        out(format_args!("{text}\n"));
        return Ok(if auto.is_ok() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    out(format_args!(
        "lola doctor: uid {uid}{}\n",
        if d.root { " (root)" } else { "" }
    ));
    let row = |label: &str, value: &str| out(format_args!("  {label:<38}{value}\n"));
    row(
        "CAP_NET_RAW on the host lo",
        &match &d.host {
            Ok(()) => "yes".to_string(),
            Err(e) => format!("no: {e}"),
        },
    );
    let private = d.private.as_ref().map(|_| ()).map_err(Clone::clone);
    let kind = match &d.private {
        Ok(i) => i.to_string(),
        Err(_) if d.root => "network namespace".into(),
        Err(_) => "user namespace".into(),
    };
    row(&format!("private lo ({kind})"), &verdict(&private));
    if let Some(r) = &d.unprivileged {
        row("private lo for uid 65534 (user ns)", &verdict(r));
    }
    for (name, value) in &d.settings {
        row(name, value);
    }
    out("modes:\n");
    out(format_args!(
        "  --capture host      {}\n",
        if d.host.is_ok() {
            "captures on the host lo"
        } else {
            "exits 2 (no CAP_NET_RAW)"
        }
    ));
    out(format_args!(
        "  --capture private   {}\n",
        match &d.private {
            Ok(i) => format!("captures on {}", Place::Private(*i)),
            Err(_) => "exits 2 (no private lo)".into(),
        }
    ));
    out(format_args!(
        "  --capture auto      {}\n",
        match &auto {
            Ok(p) => format!("captures on {p}"),
            Err(b) => format!("synthesizes the frames: {b}"),
        }
    ));
    out(format_args!(
        "  lola exec           {}\n",
        match (&d.private, &d.host) {
            (Ok(i), _) => format!("records {}", Place::Private(*i)),
            (Err(_), Ok(())) => "needs --host (records the host lo)".into(),
            (Err(_), Err(_)) => "cannot record here".into(),
        }
    ));
    Ok(if auto.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
