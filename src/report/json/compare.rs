//! `lola compare --json`: TCP beside UDP.

use super::{sorted_json, verdict_word};
use crate::check::Report;
use crate::check::flow::Conversation;
use crate::error::Result;
use crate::harness::{CompareOutcome, Side};
use crate::host::sandbox::Place;

impl CompareOutcome {
    /// The JSON document of `lola compare --json` (schema 1), pretty-printed,
    /// keys in sorted order.
    ///
    /// ```
    /// use lola::harness::{compare, CaptureMode, CompareOptions};
    /// let dir = tempfile::tempdir().unwrap();
    /// let options = CompareOptions {
    ///     to: "127.0.0.1:0".parse().unwrap(),
    ///     out_dir: dir.path().to_path_buf(),
    ///     capture: CaptureMode::Off,
    ///     ..CompareOptions::default()
    /// };
    /// let json = compare(&options).unwrap().to_json().unwrap();
    /// let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    /// assert_eq!((value["command"].as_str(), value["verdict"].as_str()), (Some("compare"), Some("pass")));
    /// assert_eq!(value["tcp"]["check"]["verdict"], "fail");
    /// assert_eq!(value["udp"]["conversation"]["protocol"], "UDP");
    /// ```
    pub fn to_json(&self) -> Result<String> {
        sorted_json(&CompareDocument {
            schema_version: crate::SCHEMA_VERSION,
            command: "compare",
            verdict: verdict_word(self.demonstrated()),
            capture_note: self.capture_note.as_deref(),
            tcp: SideDocument::new(&self.tcp),
            udp: SideDocument::new(&self.udp),
        })
    }
}

/// `lola compare --json`.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub(crate) struct CompareDocument<'a> {
    schema_version: u32,
    command: &'static str,
    verdict: &'static str,
    capture_note: Option<&'a str>,
    tcp: SideDocument<'a>,
    udp: SideDocument<'a>,
}

#[derive(serde::Serialize, schemars::JsonSchema)]
pub(crate) struct SideDocument<'a> {
    path: String,
    live: bool,
    place: Option<&'static str>,
    conversation: Option<&'a Conversation>,
    check: &'a Report,
}

impl SideDocument<'_> {
    fn new(side: &Side) -> SideDocument<'_> {
        SideDocument {
            path: side.path.display().to_string(),
            live: side.live,
            place: side.place.as_ref().map(Place::name),
            conversation: side.conversation(),
            check: &side.check,
        }
    }
}
