//! The JSON Schemas of lola's `--json` documents, generated from the Rust
//! types that are serialized (schemars), and the typed documents that only
//! the command line prints: the error document of exit 2 and the document of
//! `lola check` on several files. `docs/schema/` holds the generated files;
//! `tests/schema.rs` checks they are current and that every document lola
//! prints validates against them.

use schemars::JsonSchema;
use serde::Serialize;

use crate::Error;
use crate::capture::Format;
use crate::check::expect::{ExpectOutcome, RuleOutcome, SetReport};
use crate::check::{Report, Verdict};
use crate::diff::DiffReport;

/// The version of the documents' shape; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 2;

/// What `--json` prints when lola could not run (exit 2).
///
/// ```
/// let err = lola::check_file("fixtures/bad-magic.pcap".as_ref(), &lola::Expectation::seed()).unwrap_err();
/// let doc = lola::schema::ErrorDocument::new(&err, "fixtures/bad-magic.pcap", err.to_string());
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
/// let schema = serde_json::to_value(lola::schema::check()).unwrap();
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
    of::<crate::flow::Flows>()
}

/// Anything a command that may fail before its verdict prints with `--json`.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum OrError<T> {
    Document(T),
    Error(ErrorDocument),
}

/// The schema of `lola run --json` (`docs/schema/run.schema.json`).
pub fn run() -> schemars::Schema {
    of::<OrError<crate::harness::RunDocument<'static>>>()
}

/// The schema of `lola compare --json` (`docs/schema/compare.schema.json`).
pub fn compare() -> schemars::Schema {
    of::<OrError<crate::harness::CompareDocument<'static>>>()
}

/// The schema of `lola build --json` (`docs/schema/build.schema.json`).
pub fn build() -> schemars::Schema {
    of::<crate::harness::BuildDocument>()
}

/// The schema of `lola exec --json` (`docs/schema/exec.schema.json`).
pub fn exec() -> schemars::Schema {
    of::<OrError<crate::exec::ExecDocument<'static>>>()
}

/// The schema of `lola doctor --json` (`docs/schema/doctor.schema.json`).
pub fn doctor() -> schemars::Schema {
    of::<crate::sandbox::DoctorDocument<'static>>()
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

// The shapes of an expectation file's report, for the schemas: the report's
// types live with the engine that fills them, and these mirror them field
// for field (a test below holds them to what the report serializes).

/// The result of checking a capture against an expectation file (`--expect`).
#[derive(JsonSchema)]
#[allow(dead_code)]
struct SetReportShape {
    /// Version of this JSON shape.
    schema_version: u32,
    /// The capture.
    file: String,
    /// Its container format.
    format: Format,
    /// Pass only when every expectation and rule holds.
    verdict: Verdict,
    /// Frames read.
    frames: u64,
    /// One per expectation, in file order.
    expectations: Vec<ExpectOutcome>,
    /// One per `forbid` rule, then `exclusive` when set.
    rules: Vec<RuleOutcome>,
    /// What the reader noticed about the file.
    notes: Vec<String>,
}

/// What happened to one expectation of the file.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct ExpectOutcomeShape {
    /// Its name.
    name: String,
    /// Its `match` predicate.
    #[serde(rename = "match")]
    matches: String,
    /// How many frames must hold, in words.
    count: String,
    /// Pass or fail.
    verdict: Verdict,
    /// Frames that matched and satisfied every `where`.
    held: u64,
    /// Their numbers (the first 10).
    frames: Vec<u64>,
    /// Frames that matched but failed a `where`, a checksum or came too early.
    missed: u64,
    /// Time from the `after` expectation's first frame to this one's first, in ns.
    gap_ns: Option<u64>,
    /// Why it failed, one sentence each.
    failures: Vec<String>,
    /// What came closest, one line per frame (at most 10).
    evidence: Vec<String>,
    /// Evidence lines not listed.
    more_evidence: u64,
}

/// What happened to a `forbid` rule, or to `exclusive`.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct RuleOutcomeShape {
    /// The rule's name: `forbid: RULE` or `exclusive`.
    name: String,
    /// Pass or fail.
    verdict: Verdict,
    /// Frames that broke it.
    count: u64,
    /// The first of them, one line each.
    evidence: Vec<String>,
}

/// `T`'s schema is `Shape`'s, under `T`'s name.
macro_rules! schema_of_shape {
    ($($t:ty => $shape:ty),*) => {$(
        impl JsonSchema for $t {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($t).into()
            }
            fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
                <$shape>::json_schema(generator)
            }
        }
    )*};
}

schema_of_shape!(
    SetReport => SetReportShape,
    ExpectOutcome => ExpectOutcomeShape,
    RuleOutcome => RuleOutcomeShape
);

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys of `value` and, in it, of the first element of each array.
    fn keys(value: &serde_json::Value, path: &str, out: &mut Vec<String>) {
        if let Some(map) = value.as_object() {
            for (k, v) in map {
                out.push(format!("{path}{k}"));
                if let Some(first) = v.as_array().and_then(|a| a.first()) {
                    keys(first, &format!("{path}{k}[]."), out);
                }
            }
        }
    }

    /// The properties the schema names, the same way.
    fn properties(
        schema: &serde_json::Value,
        defs: &serde_json::Value,
        path: &str,
        out: &mut Vec<String>,
    ) {
        let Some(props) = schema["properties"].as_object() else {
            return;
        };
        for (k, v) in props {
            out.push(format!("{path}{k}"));
            if let Some(r) = v["items"]["$ref"].as_str() {
                let name = r.rsplit('/').next().unwrap_or_default();
                properties(&defs[name], defs, &format!("{path}{k}[]."), out);
            }
        }
    }

    #[test]
    fn the_set_report_shapes_name_every_key_the_report_has() {
        let set = crate::check::expect::ExpectationSet::parse(
            "l.toml",
            "[[expect]]\nname = 'hello'\nmatch = 'udp.dstport == 7456'\n\
             [[expect]]\nname = 'reply'\nmatch = 'udp.srcport == 7456'\nafter = 'hello'\n\
             [settings]\nforbid = ['tcp']\nexclusive = true\n",
        )
        .unwrap();
        let report =
            crate::check::expect::check_file_with_set("fixtures/reply.pcap".as_ref(), &set)
                .unwrap();
        let mut got = Vec::new();
        keys(&serde_json::to_value(&report).unwrap(), "", &mut got);
        let schema = serde_json::to_value(of::<SetReport>()).unwrap();
        let mut named = Vec::new();
        properties(&schema, &schema["$defs"], "", &mut named);
        got.sort();
        named.sort();
        assert_eq!(got, named);
        assert_eq!(schema["title"], "SetReport");
    }
}
