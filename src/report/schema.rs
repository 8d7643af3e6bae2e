//! The JSON Schemas of lola's `--json` documents, generated from the Rust
//! types that are serialized (schemars), and the typed documents that only
//! the command line prints: the error document of exit 2 and the document of
//! `lola check` on several files. `docs/schema/` holds the generated files;
//! `tests/schema.rs` checks they are current and that every document lola
//! prints validates against them.

use schemars::JsonSchema;
use serde::Serialize;

use crate::check::expect::SetReport;
use crate::check::golden::DiffReport;
use crate::check::{Report, Verdict};
use crate::error::Error;

pub use crate::SCHEMA_VERSION;

/// What `--json` prints when lola could not run (exit 2).
///
/// ```
/// let err = lola::check_file("fixtures/bad-magic.pcap".as_ref(), &lola::Expectation::seed()).unwrap_err();
/// let doc = lola::report::schema::ErrorDocument::new(&err, "fixtures/bad-magic.pcap", err.to_string());
/// let json = serde_json::to_value(&doc).unwrap();
/// assert_eq!((json["verdict"].as_str(), json["error"]["kind"].as_str()), (Some("error"), Some("malformed")));
/// assert_eq!(json["error"]["offset"], 0);
/// ```
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ErrorDocument {
    /// Version of this JSON schema.
    pub schema_version: u32,
    /// The file the command was about, as given.
    pub file: String,
    /// Always `error`.
    pub verdict: Verdict,
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The error of an [`ErrorDocument`].
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ErrorDetail {
    /// Which kind of error.
    pub kind: ErrorKind,
    /// The one-line message, as on stderr.
    pub message: String,
    /// The file involved, when there is one.
    pub path: Option<String>,
    /// The byte offset of the damage, for a malformed or cut file.
    pub offset: Option<u64>,
}

/// The kinds of error a document names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The file could not be opened or read.
    Io,
    /// The file is not a capture lola can read, at `offset`.
    Malformed,
    /// The file ends inside a record at `offset`.
    Truncated,
    /// The capture's link type cannot be decoded.
    UnsupportedLinkType,
    /// The report could not be rendered.
    Json,
    /// An argument is invalid.
    Invalid,
    /// Anything else (sockets, capture, programs).
    Other,
}

impl ErrorDocument {
    /// The document of `e`, about `file`, with `message` (the CLI adds its
    /// hints to the error's words).
    pub fn new(e: &Error, file: &str, message: String) -> ErrorDocument {
        let (kind, path, offset) = match e {
            Error::Io { path, .. } => (ErrorKind::Io, Some(path), None),
            Error::Malformed { path, offset, .. } => {
                (ErrorKind::Malformed, Some(path), Some(*offset))
            }
            Error::Truncated { path, offset, .. } => {
                (ErrorKind::Truncated, Some(path), Some(*offset))
            }
            Error::UnsupportedLinkType { path, .. } => {
                (ErrorKind::UnsupportedLinkType, Some(path), None)
            }
            Error::Json(_) => (ErrorKind::Json, None, None),
            Error::Invalid(_) => (ErrorKind::Invalid, None, None),
            _ => (ErrorKind::Other, None, None),
        };
        ErrorDocument {
            schema_version: SCHEMA_VERSION,
            file: file.to_string(),
            verdict: Verdict::Error,
            error: ErrorDetail {
                kind,
                message,
                path: path.map(|p| p.display().to_string()),
                offset,
            },
        }
    }
}

/// One file's document within [`CheckDocuments`]: its report, or its error.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum CheckDocument {
    /// The file was checked by the built-in check.
    Report(Box<Report>),
    /// The file was checked against an expectation file (`--expect`).
    Set(Box<SetReport>),
    /// It could not be.
    Error(ErrorDocument),
}

/// What `lola check --json` prints for several files.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct CheckDocuments {
    /// Version of this JSON schema.
    pub schema_version: u32,
    /// `error` if any file could not be read, else `fail` if any failed, else `pass`.
    pub verdict: Verdict,
    /// How many files.
    pub files: usize,
    /// Each file's document, in argument order.
    pub reports: Vec<CheckDocument>,
}

/// Anything `lola check --json` prints.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum CheckJson {
    One(Box<Report>),
    Set(Box<SetReport>),
    Error(ErrorDocument),
    Many(CheckDocuments),
}

/// Anything `lola diff --json` prints.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum DiffJson {
    Diff(Box<DiffReport>),
    Error(ErrorDocument),
}

/// The schema of `lola check --json`, as published in
/// `docs/schema/check.schema.json`.
///
/// ```
/// let schema = serde_json::to_value(lola::report::schema::check()).unwrap();
/// assert_eq!(schema["title"], "CheckJson");
/// ```
pub fn check() -> schemars::Schema {
    of::<CheckJson>()
}

/// The schema of `lola diff --json` (`docs/schema/diff.schema.json`).
pub fn diff() -> schemars::Schema {
    of::<DiffJson>()
}

/// The schema of what `T` serializes to (fields skipped when empty are
/// optional), in JSON Schema 2020-12.
pub(crate) fn of<T: JsonSchema>() -> schemars::Schema {
    schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<T>()
}

/// The schema of `lola flow --json` (`docs/schema/flow.schema.json`).
pub fn flow() -> schemars::Schema {
    of::<crate::check::flow::Flows>()
}

/// Anything a command that may fail before its verdict prints with `--json`.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum OrError<T> {
    Document(T),
    Error(ErrorDocument),
}

/// What `lola run --json` prints: the run's document, and with `--expect
/// FILE` the written capture's report against that file.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct RunJson {
    #[serde(flatten)]
    run: super::json::RunDocument<'static>,
    /// `--expect FILE`: the written capture held against the expectation
    /// file (the document's `verdict` is `fail` when it failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    expect: Option<SetReport>,
}

/// The schema of `lola run --json` (`docs/schema/run.schema.json`).
pub fn run() -> schemars::Schema {
    of::<OrError<RunJson>>()
}

/// The schema of `lola compare --json` (`docs/schema/compare.schema.json`).
pub fn compare() -> schemars::Schema {
    of::<OrError<super::json::CompareDocument<'static>>>()
}

/// The schema of `lola build --json` (`docs/schema/build.schema.json`).
pub fn build() -> schemars::Schema {
    of::<super::json::BuildDocument>()
}

/// The schema of `lola exec --json` (`docs/schema/exec.schema.json`).
pub fn exec() -> schemars::Schema {
    of::<OrError<super::json::ExecDocument<'static>>>()
}

/// The schema of `lola doctor --json` (`docs/schema/doctor.schema.json`).
pub fn doctor() -> schemars::Schema {
    of::<super::json::DoctorDocument<'static>>()
}

/// Every published schema: its file name under `docs/schema/` and the schema.
pub fn all() -> Vec<(&'static str, schemars::Schema)> {
    vec![
        ("check.schema.json", check()),
        ("diff.schema.json", diff()),
        ("flow.schema.json", flow()),
        ("run.schema.json", run()),
        ("compare.schema.json", compare()),
        ("build.schema.json", build()),
        ("exec.schema.json", exec()),
        ("doctor.schema.json", doctor()),
    ]
}
