//! `lola build --json`: the frame built and the file written.

use super::{FileDocument, sorted_json};
use crate::error::Result;
use crate::harness::BuildOutcome;
use crate::packet::summary::{Endpoint, format_time, nanos};

impl BuildOutcome {
    /// The JSON document of `lola build --json` (schema 1), pretty-printed,
    /// keys in sorted order.
    ///
    /// ```
    /// use lola::{capture::Format, Datagram};
    /// let d = Datagram::new("127.0.0.1:40000".parse().unwrap(), "127.0.0.1:7456".parse().unwrap(), b"Hi".to_vec());
    /// let dir = tempfile::tempdir().unwrap();
    /// let built = lola::harness::build(&d, &dir.path().join("hi.pcap"), Format::Pcap).unwrap();
    /// let value: serde_json::Value = serde_json::from_str(&built.to_json().unwrap()).unwrap();
    /// assert_eq!(value["frame"]["length"], 44);
    /// assert_eq!(value["frame"]["timestamp"], "1970-01-01T00:00:00.000000Z");
    /// assert_eq!(value["output"]["bytes"], 84);
    /// ```
    pub fn to_json(&self) -> Result<String> {
        let d = &self.datagram;
        sorted_json(&BuildDocument {
            schema_version: crate::SCHEMA_VERSION,
            command: "build",
            output: FileDocument::new(&self.output, &self.written),
            frame: FrameDocument {
                src: Endpoint::from(d.src),
                dst: Endpoint::from(d.dst),
                length: d.frame_len(),
                timestamp: format_time(d.timestamp),
                timestamp_ns: nanos(d.timestamp),
            },
        })
    }
}

/// `lola build --json`.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub(crate) struct BuildDocument {
    schema_version: u32,
    command: &'static str,
    output: FileDocument,
    frame: FrameDocument,
}

#[derive(serde::Serialize, schemars::JsonSchema)]
pub(crate) struct FrameDocument {
    src: Endpoint,
    dst: Endpoint,
    length: usize,
    timestamp: String,
    timestamp_ns: u64,
}
