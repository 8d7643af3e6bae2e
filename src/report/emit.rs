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

use serde_json::Value as Json;

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

/// One frame as a row: what [`RowWriter`] writes, as a JSON value.
pub fn row(file: &str, v: &FrameView<'_, '_>, expect: &[&str]) -> Json {
    let mut line = Vec::new();
    RowWriter::default()
        .write(&mut line, file, v, expect)
        .expect("a Vec takes every byte");
    serde_json::from_slice(&line).expect("a row is JSON")
}

/// What a row's key holds, in the order of its key.
#[derive(Clone, Copy)]
enum Slot {
    Schema,
    File,
    Frame,
    Time,
    TimeNs,
    LinkType,
    Flow,
    Expect,
    /// The `k`th of [`row_fields`].
    Field(usize),
}

/// Every key a row may have with what it holds, sorted as [`row`]'s map
/// sorts its keys (by their bytes), so that [`RowWriter`] writes the same
/// bytes. The protocol field `frame` has no key: the row's `frame` is its
/// number.
fn slots() -> &'static [(&'static str, Slot)] {
    static SLOTS: std::sync::OnceLock<Vec<(&'static str, Slot)>> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| {
        let mut slots = vec![
            ("schema", Slot::Schema),
            ("file", Slot::File),
            ("frame", Slot::Frame),
            ("time", Slot::Time),
            ("time_ns", Slot::TimeNs),
            ("link_type", Slot::LinkType),
            ("flow", Slot::Flow),
            ("expect", Slot::Expect),
        ];
        for (k, f) in row_fields().iter().enumerate() {
            if f.id != Id::Frame {
                slots.push((f.name, Slot::Field(k)));
            }
        }
        slots.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        slots
    })
}

/// Writes rows as [`row`] makes them, byte for byte, each with its newline,
/// without building a JSON value: each field's values are written as they
/// are read, into buffers kept from row to row, and the row goes out in one
/// write. What `--emit` writes.
///
/// ```
/// use lola::check::expect::ExpectationSet;
/// use lola::report::emit::RowWriter;
/// let set = ExpectationSet::from_expectation(&lola::Expectation::seed());
/// let reader = lola::capture::CaptureReader::open("fixtures/seed-ipv4.pcap".as_ref()).unwrap();
/// let (mut rows, mut written) = (RowWriter::default(), Vec::new());
/// lola::check::expect::check_reader_with_set(reader, "f", &set, true, &mut |v, expect| {
///     rows.write(&mut written, "f", v, expect).unwrap();
/// })
/// .unwrap();
/// let text = String::from_utf8(written).unwrap();
/// assert!(text.starts_with(r#"{"data":true,"data.data":"48656c6c6f204c6f6c61","data.len":10,"#));
/// assert!(text.ends_with("\"udp.srcport\":48801}\n"));
/// ```
#[derive(Default)]
pub struct RowWriter {
    /// Each field's values as JSON, separated by commas.
    values: Vec<Vec<u8>>,
    /// How many values each field has (a protocol: 1 where present).
    counts: Vec<usize>,
    line: Vec<u8>,
}

impl RowWriter {
    /// Writes the row of the frame `v` of `file`, which the expectations
    /// named in `expect` matched, and a newline.
    pub fn write(
        &mut self,
        out: &mut (impl Write + ?Sized),
        file: &str,
        v: &FrameView<'_, '_>,
        expect: &[&str],
    ) -> io::Result<()> {
        let fields = row_fields();
        self.values.resize_with(fields.len(), Vec::new);
        self.counts.clear();
        self.counts.resize(fields.len(), 0);
        for buf in &mut self.values {
            buf.clear();
        }
        let (values, counts) = (&mut self.values, &mut self.counts);
        Field::each(fields, v, |k, x| {
            let f = fields[k];
            if f.ty == FieldType::Protocol {
                counts[k] = 1;
                return;
            }
            // A row keeps the first 8 VLAN ids.
            if f.id == Id::VlanId && counts[k] == 8 {
                return;
            }
            if counts[k] > 0 {
                values[k].push(b',');
            }
            counts[k] += 1;
            x.write_json(&mut values[k]);
        });
        let line = &mut self.line;
        line.clear();
        line.push(b'{');
        let mut first = true;
        for &(key, slot) in slots() {
            if let Slot::Field(k) = slot
                && self.counts[k] == 0
            {
                continue;
            }
            if !first {
                line.push(b',');
            }
            first = false;
            // Keys are names of letters, digits, dots and underscores.
            line.push(b'"');
            line.extend_from_slice(key.as_bytes());
            line.extend_from_slice(b"\":");
            match slot {
                Slot::Schema => serde_json::to_writer(&mut *line, SCHEMA)?,
                Slot::File => serde_json::to_writer(&mut *line, file)?,
                Slot::Frame => write!(line, "{}", v.number)?,
                Slot::Time => write!(line, "\"{}\"", rfc3339(v.time))?,
                Slot::TimeNs => write!(line, "{}", v.time.as_nanos() as u64)?,
                Slot::LinkType => write!(line, "{}", v.link_type)?,
                Slot::Flow => match flow_ends(v) {
                    Some((proto, lo, hi)) => write!(line, "\"{proto} {lo} {hi}\"")?,
                    None => line.extend_from_slice(b"null"),
                },
                Slot::Expect => serde_json::to_writer(&mut *line, expect)?,
                Slot::Field(k) if fields[k].ty == FieldType::Protocol => {
                    line.extend_from_slice(b"true");
                }
                Slot::Field(k) if self.counts[k] == 1 && fields[k].id != Id::VlanId => {
                    line.extend_from_slice(&self.values[k]);
                }
                Slot::Field(k) => {
                    line.push(b'[');
                    line.extend_from_slice(&self.values[k]);
                    line.push(b']');
                }
            }
        }
        line.extend_from_slice(b"}\n");
        out.write_all(line)
    }
}

/// Checks the capture at `path` against `set`, writing one row per frame to `out`.
pub fn emit_file(path: &Path, set: &ExpectationSet, out: &mut dyn Write) -> Result<SetReport> {
    let name = path.display().to_string();
    let mut failed: Option<io::Error> = None;
    let reader = CaptureReader::open(path)?;
    let mut rows = RowWriter::default();
    let report = {
        let mut sink = |v: &FrameView<'_, '_>, expect: &[&str]| {
            if failed.is_some() {
                return;
            }
            if let Err(e) = rows.write(out, &name, v, expect) {
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

#[cfg(test)]
mod tests {
    use serde_json::Map;

    use super::*;

    /// A row as a map of JSON values, as `row` made it before [`RowWriter`]:
    /// the oracle the writer is held to.
    fn row_as_a_map(file: &str, v: &FrameView<'_, '_>, expect: &[&str]) -> Json {
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

    /// `--emit` writes rows with [`RowWriter`]; they are the map-building
    /// row's, byte for byte, on every frame of every fixture and corpus capture
    /// (tunnels with outer and inner fields, ICMP errors quoting headers,
    /// VLAN stacks, text to escape), every frame matching an expectation.
    #[test]
    fn the_row_writer_writes_what_row_makes() {
        let mut paths = Vec::new();
        super::super::columns::tests::fixtures(
            Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures")),
            &mut paths,
        );
        let set = ExpectationSet::parse(
            "<expect>",
            "[[expect]]\nname = \"any \\\"frame\\\"\"\nmatch = \"frame\"\n",
        )
        .unwrap();
        let (mut rows, mut frames) = (RowWriter::default(), 0);
        for path in &paths {
            let Ok(reader) = CaptureReader::open(path) else {
                continue;
            };
            let name = format!("{}\t\"é\"", path.display());
            let (mut written, mut made) = (Vec::new(), String::new());
            let _ = check_reader_with_set(reader, &name, &set, true, &mut |v, expect| {
                rows.write(&mut written, &name, v, expect).unwrap();
                made += &format!("{}\n", row_as_a_map(&name, v, expect));
                assert_eq!(row(&name, v, expect), row_as_a_map(&name, v, expect));
                frames += 1;
            });
            assert_eq!(
                String::from_utf8(written).unwrap(),
                made,
                "{}",
                path.display()
            );
        }
        assert!(frames > 1000, "{frames}");
    }
}
