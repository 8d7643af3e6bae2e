//! `lola exec --json`: the program, its capture and the capture's check.

use crate::capture::Format;
use crate::check::expect::CheckReport;
use crate::error::Result;
use crate::harness::exec::ExecOutcome;
use crate::host::sandbox::{Isolation, Place};

impl ExecOutcome {
    /// The JSON document of `lola exec --json` (schema 1), pretty-printed,
    /// keys in sorted order.
    ///
    /// ```
    /// # use lola::harness::exec::*;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let mut options = ExecOptions::new(vec!["sh".into(), "-c".into(), "exit 3".into()]);
    /// # options.output = dir.path().join("t.pcap");
    /// options.expectation = options.expectation.count(lola::Count::Exactly(0));
    /// # if let Ok(outcome) = exec(&options, &std::sync::atomic::AtomicI32::new(0)) {
    /// let value: serde_json::Value = serde_json::from_str(&outcome.to_json().unwrap()).unwrap();
    /// assert_eq!((value["command"].as_str(), value["verdict"].as_str()), (Some("exec"), Some("pass")));
    /// assert_eq!(value["program"]["description"], "exited with status 3");
    /// assert_eq!(value["capture"]["place"], "private");
    /// # }
    /// ```
    pub fn to_json(&self) -> Result<String> {
        self.to_json_with_draft(None)
    }

    /// The same document, saying what became of the draft that `lola exec`
    /// records when nothing else judges the program.
    pub fn to_json_with_draft(&self, draft: Option<&DraftDocument>) -> Result<String> {
        let document = ExecDocument {
            schema_version: crate::SCHEMA_VERSION,
            command: "exec",
            // A run lola was interrupted in proves nothing: an error.
            verdict: if self.ending.interrupted() {
                "error"
            } else if self.report.passed() {
                "pass"
            } else {
                "fail"
            },
            program: ProgramDocument {
                argv: self
                    .program
                    .iter()
                    .map(|a| a.to_string_lossy().into_owned())
                    .collect(),
                ending: self.ending.name(),
                description: self.ending.to_string(),
                failed: self.ending.failed(),
            },
            capture: CaptureDocument {
                place: self.place.name(),
                isolation: match self.place {
                    Place::Private(i) => Some(i),
                    Place::Host => None,
                },
                path: self.output.display().to_string(),
                format: self.written.format,
                frames: self.written.frames,
                bytes: self.written.bytes,
                gap: self.capture_gap.as_ref().map(ToString::to_string),
            },
            check: &self.report,
            draft,
        };
        Ok(serde_json::to_string_pretty(&serde_json::to_value(
            &document,
        )?)?)
    }
}

/// `lola exec --json`.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub(crate) struct ExecDocument<'a> {
    schema_version: u32,
    command: &'static str,
    verdict: &'static str,
    program: ProgramDocument,
    capture: CaptureDocument,
    check: &'a CheckReport,
    /// With no claim and no expectation file: the draft recorded from the
    /// capture (which `check` then holds to).
    #[serde(skip_serializing_if = "Option::is_none")]
    draft: Option<&'a DraftDocument>,
}

/// The draft `lola exec` records from a capture when nothing else judges
/// the program: where it went, or why none was written.
#[derive(Clone, Debug, serde::Serialize, schemars::JsonSchema)]
pub struct DraftDocument {
    /// The expectation file written (`exec.toml` beside the capture, or
    /// `--record FILE`); absent when none was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// How many expectations it holds.
    pub expectations: usize,
    /// Why none was written, when none was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(serde::Serialize, schemars::JsonSchema)]
pub(crate) struct ProgramDocument {
    argv: Vec<String>,
    ending: &'static str,
    description: String,
    failed: bool,
}

#[derive(serde::Serialize, schemars::JsonSchema)]
pub(crate) struct CaptureDocument {
    place: &'static str,
    isolation: Option<Isolation>,
    path: String,
    format: Format,
    frames: usize,
    bytes: u64,
    /// What broke the capture while the program ran (`lo` taken down, the
    /// socket failed), when anything did: the frames before it were written
    /// and judged.
    #[serde(skip_serializing_if = "Option::is_none")]
    gap: Option<String>,
}
