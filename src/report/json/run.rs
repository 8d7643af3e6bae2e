//! `lola run --json`: the run's document.

use super::{FileDocument, sorted_json, verdict_word};
use crate::check::Report;
use crate::check::frame_diff::Comparison;
use crate::check::golden::DiffReport;
use crate::error::Result;
use crate::harness::RunOutcome;
use crate::packet::summary::{Endpoint, Payload, format_time, nanos};

impl RunOutcome {
    /// The JSON document of `lola run --json` (schema 1), pretty-printed,
    /// keys in sorted order.
    ///
    /// ```
    /// use lola::{harness::CaptureMode, RunOptions};
    /// let dir = tempfile::tempdir().unwrap();
    /// let options = RunOptions {
    ///     to: "127.0.0.1:0".parse().unwrap(),
    ///     output: dir.path().join("hello.pcap"),
    ///     capture: CaptureMode::Off,
    ///     ..RunOptions::default()
    /// };
    /// let json = lola::harness::run(&options, |_| {}).unwrap().to_json().unwrap();
    /// let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    /// assert_eq!((value["command"].as_str(), value["verdict"].as_str()), (Some("run"), Some("pass")));
    /// assert_eq!(value["exchange"]["payload"]["text"], "Hello Lola");
    /// assert_eq!(value["capture"], serde_json::json!({ "mode": "off", "note": null }));
    /// ```
    pub fn to_json(&self) -> Result<String> {
        let d = &self.exchange.received;
        sorted_json(&RunDocument {
            schema_version: crate::SCHEMA_VERSION,
            command: "run",
            verdict: verdict_word(self.passed()),
            exchange: ExchangeDocument {
                client: Endpoint::from(d.src),
                server: Endpoint::from(d.dst),
                payload: Payload::of(&d.payload),
                payload_len: d.payload.len(),
                received_at: format_time(d.timestamp),
                received_at_ns: nanos(d.timestamp),
                stray_datagrams: self.exchange.strays.len(),
            },
            output: FileDocument::new(&self.output, &self.written),
            check: &self.report,
            capture: match &self.live {
                Some(live) => CaptureDocument::Live {
                    interface: "lo",
                    place: live.place.name(),
                    observed: live
                        .output
                        .as_ref()
                        .map(|path| FileDocument::new(path, &live.written)),
                    check: &live.report,
                    comparison: live.comparison.as_ref(),
                    equivalent: live.comparison.as_ref().is_some_and(Comparison::equivalent),
                },
                None => CaptureDocument::Off {
                    note: self.capture_note.as_deref(),
                },
            },
            expect_like: self.like.as_ref(),
        })
    }
}

/// `lola run --json`.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub(crate) struct RunDocument<'a> {
    schema_version: u32,
    command: &'static str,
    verdict: &'static str,
    exchange: ExchangeDocument,
    output: FileDocument,
    check: &'a Report,
    capture: CaptureDocument<'a>,
    expect_like: Option<&'a DiffReport>,
}

#[derive(serde::Serialize, schemars::JsonSchema)]
pub(crate) struct ExchangeDocument {
    client: Endpoint,
    server: Endpoint,
    payload: Payload,
    payload_len: usize,
    received_at: String,
    received_at_ns: u64,
    stray_datagrams: usize,
}

#[derive(serde::Serialize, schemars::JsonSchema)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub(crate) enum CaptureDocument<'a> {
    Live {
        interface: &'static str,
        place: &'static str,
        observed: Option<FileDocument>,
        check: &'a Report,
        comparison: Option<&'a Comparison>,
        equivalent: bool,
    },
    Off {
        note: Option<&'a str>,
    },
}
