//! The JSON documents of the commands' `--json` output, filled from their
//! typed outcomes: `lola run` ([`RunOutcome::to_json`]), `compare`
//! ([`CompareOutcome::to_json`]), `build` ([`BuildOutcome::to_json`]),
//! `exec` ([`ExecOutcome::to_json`]) and `doctor`
//! ([`Diagnosis::to_json`]). The document types are also what
//! [`schema`](super::schema) publishes: their doc comments are the schemas'
//! descriptions.
//!
//! The `to_json` methods are the outcomes' own (inherent methods may be
//! defined anywhere in the crate), so that a library user still writes
//! `outcome.to_json()`, while the harness and the host know nothing of JSON.

use std::path::Path;

use crate::capture::{Format, WriteSummary};
use crate::error::Result;

#[cfg(doc)]
use crate::harness::exec::ExecOutcome;
#[cfg(doc)]
use crate::harness::{BuildOutcome, CompareOutcome, RunOutcome};
#[cfg(doc)]
use crate::host::sandbox::Diagnosis;

mod build;
mod compare;
mod doctor;
mod exec;
mod run;

pub(crate) use build::BuildDocument;
pub(crate) use compare::CompareDocument;
pub(crate) use doctor::DoctorDocument;
pub use exec::DraftDocument;
pub(crate) use exec::ExecDocument;
pub(crate) use run::RunDocument;

/// A pretty-printed JSON document with its keys in sorted order, as
/// `serde_json::Value` writes them (the order lola's JSON has always had).
fn sorted_json(document: &impl serde::Serialize) -> Result<String> {
    Ok(serde_json::to_string_pretty(&serde_json::to_value(
        document,
    )?)?)
}

/// `pass` or `fail`.
fn verdict_word(passed: bool) -> &'static str {
    if passed { "pass" } else { "fail" }
}

/// The file a command wrote, as its JSON document shows it.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub(crate) struct FileDocument {
    path: String,
    format: Format,
    frames: usize,
    bytes: u64,
}

impl FileDocument {
    fn new(path: &Path, written: &WriteSummary) -> FileDocument {
        FileDocument {
            path: path.display().to_string(),
            format: written.format,
            frames: written.frames,
            bytes: written.bytes,
        }
    }
}
