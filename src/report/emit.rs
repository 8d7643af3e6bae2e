//! Frames out as NDJSON, one JSON object per line, for DuckDB, Polars or
//! Spark to query across many captures (`read_json_auto('runs/*.ndjson')`).
//!
//! Row schema, version 1 (`"schema": "lola.frame.v1"`; fields are added in a
//! compatible way, a change of meaning gets a new version):
//!
//! | key | type | meaning |
//! |---|---|---|
//! | `schema` | string | `lola.frame.v1` |
//! | `file` | string | the capture, as given |
//! | `frame` | integer | 1-based frame number (also as `frame.number`) |
//! | `time` | string | capture time, RFC 3339 UTC with nanoseconds |
//! | `time_ns` | integer | the same, in ns since the Unix epoch |
//! | `link_type` | integer | LINKTYPE_ of the frame's interface |
//! | `flow` | string or null | the conversation, direction-independent: `udp 127.0.0.1:7456 127.0.0.1:48801` (endpoints sorted) |
//! | `expect` | array of strings | the expectations whose `match` the frame satisfied |
//! | *field name* | as the field | every field of [`crate::packet::fields::FIELDS`] the frame has, under its Wireshark name (`ip.ttl`, `udp.dstport`, `udp.checksum.status`, …); bytes as lowercase hex; `vlan.id` an array; a field with several values in the frame (a tunnel's outer and inner `ip.src`, an ICMP error's own and quoted `udp.dstport`) an array of them in frame order, outer first; a protocol (`eth`, `ip`, `udp`, `data`, …; not `frame`) `true` where the frame has it; the either-side fields (`ip.addr`, `udp.port`, …) are left out, being `src`/`dst` twice |
//!
//! ```
//! use lola::check::expect::ExpectationSet;
//! let set = ExpectationSet::from_expectation(&lola::Expectation::seed());
//! let mut out = Vec::new();
//! let report = lola::report::emit::emit_file("fixtures/seed-ipv4.pcap".as_ref(), &set, &mut out).unwrap();
//! assert!(report.passed());
//! let row: serde_json::Value = serde_json::from_slice(&out).unwrap();
//! assert_eq!(row["udp.dstport"], 7456);
//! assert_eq!(row["expect"][0], "datagram");
//! assert_eq!(row["data.text"], "Hello Lola");
//! assert_eq!((&row["frame"], &row["udp"]), (&1.into(), &true.into()));
//! ```

use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use serde_json::{Map, Value as Json};

use crate::capture::CaptureReader;
use crate::check::expect::{ExpectationSet, SetReport, check_reader_with_set};
use crate::error::{Error, Result};
use crate::packet::fields::{FIELDS, Field, FieldType, FrameView, Id};

/// The row schema's name and version.
pub const SCHEMA: &str = "lola.frame.v1";

/// Fields left out of rows (and of `columns`): each repeats a source and a
/// destination field.
pub(super) const EITHER: &[Id] = &[
    Id::EthAddr,
    Id::IpAddr,
    Id::Ipv6Addr,
    Id::UdpPort,
    Id::TcpPort,
];

/// RFC 3339 UTC with nanoseconds.
pub fn rfc3339(t: Duration) -> String {
    humantime::format_rfc3339_nanos(UNIX_EPOCH + t).to_string()
}

/// The direction-independent conversation of a frame, if it is UDP or TCP.
pub fn flow_id(v: &FrameView<'_, '_>) -> Option<String> {
    let (proto, lo, hi) = flow_ends(v)?;
    Some(format!("{proto} {lo} {hi}"))
}

/// What [`flow_id`] says, in parts: the protocol and the endpoints, sorted.
pub fn flow_ends(v: &FrameView<'_, '_>) -> Option<(&'static str, SocketAddr, SocketAddr)> {
    let (a, b) = v.packet.endpoints()?;
    let proto = match v.packet.transport {
        crate::packet::decode::Transport::Tcp(_) => "tcp",
        _ => "udp",
    };
    let (lo, hi) = if (a.ip(), a.port()) <= (b.ip(), b.port()) {
        (a, b)
    } else {
        (b, a)
    };
    Some((proto, lo, hi))
}

/// The fields of a row, in the registry's order: all but the either-side ones.
fn row_fields() -> &'static [&'static Field] {
    static FIELDS_OF_A_ROW: std::sync::OnceLock<Vec<&'static Field>> = std::sync::OnceLock::new();
    FIELDS_OF_A_ROW.get_or_init(|| FIELDS.iter().filter(|f| !EITHER.contains(&f.id)).collect())
}

/// One frame as a row.
pub fn row(file: &str, v: &FrameView<'_, '_>, expect: &[&str]) -> Json {
    let mut m = Map::new();
    m.insert("schema".into(), SCHEMA.into());
    m.insert("file".into(), file.into());
    m.insert("frame".into(), v.number.into());
    m.insert("time".into(), rfc3339(v.time).into());
    m.insert("time_ns".into(), (v.time.as_nanos() as u64).into());
    m.insert("link_type".into(), v.link_type.into());
    m.insert("flow".into(), flow_id(v).map_or(Json::Null, Json::from));
    m.insert(
        "expect".into(),
        Json::Array(expect.iter().map(|&e| e.into()).collect()),
    );
    // Every field's values from one pass over the frame's headers.
    let fields = row_fields();
    let mut values: Vec<Vec<Json>> = vec![Vec::new(); fields.len()];
    let mut present = vec![false; fields.len()];
    Field::each(fields, v, |k, x| {
        // A protocol is `true` where the frame has it, not its bytes.
        if fields[k].ty == FieldType::Protocol {
            present[k] = true;
        } else {
            values[k].push(x.to_json());
        }
    });
    for ((f, mut all), present) in fields.iter().zip(values).zip(present) {
        if f.ty == FieldType::Protocol {
            // `frame` is every frame's, and the row's `frame` is its number.
            if f.id != Id::Frame && present {
                m.insert(f.name.into(), true.into());
            }
            continue;
        }
        if f.id == Id::VlanId {
            all.truncate(8);
            if !all.is_empty() {
                m.insert(f.name.into(), Json::Array(all));
            }
            continue;
        }
        match all.len() {
            0 => {}
            1 => {
                m.insert(f.name.into(), all.pop().expect("one value"));
            }
            _ => {
                m.insert(f.name.into(), Json::Array(all));
            }
        }
    }
    Json::Object(m)
}

/// Checks the capture at `path` against `set`, writing one row per frame to `out`.
pub fn emit_file(path: &Path, set: &ExpectationSet, out: &mut dyn Write) -> Result<SetReport> {
    let name = path.display().to_string();
    let mut failed: Option<io::Error> = None;
    let reader = CaptureReader::open(path)?;
    let report = {
        let mut sink = |v: &FrameView<'_, '_>, expect: &[&str]| {
            if failed.is_some() {
                return;
            }
            let line = row(&name, v, expect);
            if let Err(e) = writeln!(out, "{line}") {
                failed = Some(e);
            }
        };
        check_reader_with_set(reader, &name, set, true, &mut sink)?
    };
    if let Some(e) = failed {
        return Err(Error::Invalid(format!(
            "writing rows: {}",
            crate::error::describe_io(&e)
        )));
    }
    Ok(report)
}
