//! Frames out as columns: the rows of [`emit`](super::emit) (`--emit`),
//! one buffer per field in Apache Arrow's memory layout, so that a Python
//! table (pyarrow, Polars, DuckDB) is made from them without one object per
//! row.
//!
//! A column has the name of the row's key (`frame`, `time_ns`, `flow`,
//! `udp.dstport`, …) and holds what the rows hold: an unsigned integer as
//! narrow as the field (`ip.ttl` one byte), a flag as a bit, addresses,
//! checksum statuses and the flow dictionary-encoded (a capture has few
//! distinct ones), bytes as lowercase hex and text as UTF-8. A field that
//! some frame carries more than once (a tunnel's outer and inner `ip.src`)
//! is a list column, each row the field's values in frame order; a frame
//! without the field is null there. A field no frame has is no column.
//! `time` is the capture time as nanoseconds since the epoch (a timestamp,
//! where the rows say it in RFC 3339); the rows' constant `schema` and
//! `file` are not repeated per row.
//!
//! ```
//! use lola::report::columns::{Data, frames_file};
//! let table = frames_file("fixtures/seed-ipv4.pcap".as_ref()).unwrap();
//! assert_eq!(table.rows, 1);
//! let port = table.columns.iter().find(|c| c.name == "udp.dstport").unwrap();
//! assert!(matches!(&port.data, Data::Uint { width: 2, bytes } if bytes == &7456u16.to_le_bytes()));
//! assert!(table.columns.iter().all(|c| c.name != "ip.addr"), "either-side fields are left out");
//! ```

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

use crate::capture::CaptureReader;
use crate::check::expect::{ExpectationSet, Tolerance, check_reader_with_set};
use crate::check::{ChecksumPolicy, Truncation};
use crate::error::Result;
use crate::packet::fields::{FIELDS, FieldType, FrameView, Id, Value};

/// Every frame of a capture, by column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Columns {
    /// Frames read.
    pub rows: u64,
    /// The columns, in the order of a row's keys.
    pub columns: Vec<Column>,
}

/// One column, in Arrow's layout: `valid` is the validity bitmap (bit `i`
/// set when row `i` has a value; `None` when every row has one); a list
/// column's `lists` are the `rows + 1` offsets of each row's values in
/// `data`, and its `valid` is about the rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// The row key it holds.
    pub name: String,
    /// Its values.
    pub data: Data,
    /// Which rows have a value.
    pub valid: Option<Vec<u8>>,
    /// For a list column, where each row's values start (and the last end).
    pub lists: Option<Vec<i32>>,
}

/// The values of a column (of the rows, or of a list column's items).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Data {
    /// Unsigned integers of `width` bytes each, little-endian.
    Uint {
        /// 1, 2, 4 or 8.
        width: u8,
        /// The values.
        bytes: Vec<u8>,
    },
    /// Nanoseconds since the Unix epoch, as 8-byte little-endian integers.
    Time(Vec<u8>),
    /// Flags, one bit each (Arrow's boolean layout).
    Bool(Vec<u8>),
    /// Strings: value `i` is `data[offsets[i]..offsets[i + 1]]`.
    Text {
        /// `len + 1` offsets.
        offsets: Vec<i32>,
        /// UTF-8 bytes.
        data: Vec<u8>,
    },
    /// Strings by number: value `i` is the `indices[i]`th string of the
    /// dictionary, laid out as [`Data::Text`].
    Dictionary {
        /// One per value.
        indices: Vec<i32>,
        /// The dictionary's `len + 1` offsets.
        offsets: Vec<i32>,
        /// The dictionary's UTF-8 bytes.
        data: Vec<u8>,
    },
}

/// The fields the rows leave out (each repeats a source and a destination field).
const EITHER: &[Id] = &[
    Id::EthAddr,
    Id::IpAddr,
    Id::Ipv6Addr,
    Id::UdpPort,
    Id::TcpPort,
];

/// Every frame of the capture at `path` by column.
pub fn frames_file(path: &Path) -> Result<Columns> {
    frames_reader(CaptureReader::open(path)?, &path.display().to_string())
}

/// Every frame `reader` holds by column; `name` names it in errors.
pub fn frames_reader<R: std::io::Read>(reader: CaptureReader<R>, name: &str) -> Result<Columns> {
    // No expectation: every frame is read and decoded, none judged.
    let set = ExpectationSet {
        expects: Vec::new(),
        forbid: Vec::new(),
        exclusive: false,
        tolerance: Tolerance::Absolute(std::time::Duration::ZERO),
        checksums: ChecksumPolicy::Lenient,
        truncated: Truncation::JudgeCompleteFrames,
        datagram_only: false,
    };
    let mut table = Table::new();
    check_reader_with_set(reader, name, &set, true, &mut |v, _| table.push(v))?;
    Ok(table.finish())
}

/// What a column keeps while frames are read: each value with its row.
struct Builder {
    name: &'static str,
    kind: Kind,
    rows: Vec<u32>,
    values: Values,
}

#[derive(Clone, Copy)]
enum Kind {
    Uint(u8),
    Time,
    Bool,
    Text,
    Dictionary,
}

enum Values {
    Uint(Vec<u64>),
    Bool(Vec<bool>),
    Text { ends: Vec<i32>, data: Vec<u8> },
    Dictionary(Vec<i32>, Dict),
}

/// Distinct strings, numbered in order of first sight.
#[derive(Default)]
struct Dict {
    index: HashMap<Key, i32>,
    ends: Vec<i32>,
    data: Vec<u8>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum Key {
    Addr(IpAddr),
    Mac([u8; 6]),
    Text(String),
}

impl Dict {
    fn number(&mut self, key: Key) -> i32 {
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        let text = match &key {
            Key::Addr(a) => a.to_string(),
            Key::Mac(m) => json_text(&Value::Mac(*m)),
            Key::Text(t) => t.clone(),
        };
        self.data.extend_from_slice(text.as_bytes());
        self.ends.push(self.data.len() as i32);
        let i = self.index.len() as i32;
        self.index.insert(key, i);
        i
    }
}

/// A value as the row's JSON string says it.
fn json_text(v: &Value<'_>) -> String {
    match v.to_json() {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

impl Builder {
    fn new(name: &'static str, kind: Kind) -> Builder {
        let values = match kind {
            Kind::Uint(_) | Kind::Time => Values::Uint(Vec::new()),
            Kind::Bool => Values::Bool(Vec::new()),
            Kind::Text => Values::Text {
                ends: Vec::new(),
                data: Vec::new(),
            },
            Kind::Dictionary => Values::Dictionary(Vec::new(), Dict::default()),
        };
        Builder {
            name,
            kind,
            rows: Vec::new(),
            values,
        }
    }

    fn push(&mut self, row: u32, v: &Value<'_>) {
        self.rows.push(row);
        match (&mut self.values, v) {
            (Values::Uint(xs), Value::Uint(n)) => xs.push(*n),
            (Values::Bool(xs), Value::Bool(b)) => xs.push(*b),
            (Values::Dictionary(xs, dict), v) => xs.push(dict.number(match v {
                Value::Addr(a) => Key::Addr(*a),
                Value::Mac(m) => Key::Mac(*m),
                other => Key::Text(json_text(other)),
            })),
            (Values::Text { ends, data }, v) => {
                match v {
                    Value::Text(t) => data.extend_from_slice(t.as_bytes()),
                    Value::Bytes(b) => {
                        for &byte in *b {
                            let i = byte as usize * 2;
                            data.extend_from_slice(&PAIRS[i..i + 2]);
                        }
                    }
                    other => data.extend_from_slice(json_text(other).as_bytes()),
                }
                ends.push(data.len() as i32);
            }
            // A value of another type than the field's cannot come from
            // the extractors; it is left out rather than misfiled.
            _ => {
                self.rows.pop();
            }
        }
    }

    fn push_bool(&mut self, row: u32) {
        self.rows.push(row);
        if let Values::Bool(xs) = &mut self.values {
            xs.push(true);
        }
    }

    fn push_uint(&mut self, row: u32, n: u64) {
        self.rows.push(row);
        if let Values::Uint(xs) = &mut self.values {
            xs.push(n);
        }
    }

    /// The column of `rows` rows, or none when no row has a value.
    fn finish(self, rows: usize) -> Option<Column> {
        if self.rows.is_empty() {
            return None;
        }
        let list = self.rows.windows(2).any(|w| w[0] == w[1]);
        // Where each row's values start in `values`.
        let mut starts = vec![0i32; rows + 1];
        for &r in &self.rows {
            starts[r as usize + 1] += 1;
        }
        for i in 0..rows {
            starts[i + 1] += starts[i];
        }
        let mut valid = vec![0u8; rows.div_ceil(8)];
        for &r in &self.rows {
            valid[r as usize / 8] |= 1 << (r % 8);
        }
        let all_valid = (0..rows).all(|i| starts[i + 1] > starts[i]);
        let valid = (!all_valid).then_some(valid);
        if list {
            return Some(Column {
                name: self.name.to_string(),
                data: self.values.packed(self.kind),
                valid,
                lists: Some(starts),
            });
        }
        // One value at most per row: each row gets a slot.
        let data = self.values.scattered(self.kind, &self.rows, rows);
        Some(Column {
            name: self.name.to_string(),
            data,
            valid,
            lists: None,
        })
    }
}

impl Values {
    /// The values one after another (a list column's items).
    fn packed(self, kind: Kind) -> Data {
        let n = self.len();
        let all: Vec<usize> = (0..n).collect();
        self.place(kind, &all, n)
    }

    /// The values in the slots of their rows, empty slots for the others.
    fn scattered(self, kind: Kind, rows: &[u32], len: usize) -> Data {
        let slots: Vec<usize> = rows.iter().map(|&r| r as usize).collect();
        self.place(kind, &slots, len)
    }

    fn len(&self) -> usize {
        match self {
            Values::Uint(xs) => xs.len(),
            Values::Bool(xs) => xs.len(),
            Values::Text { ends, .. } => ends.len(),
            Values::Dictionary(xs, _) => xs.len(),
        }
    }

    /// Value `i` in slot `slots[i]` of `len` slots.
    fn place(self, kind: Kind, slots: &[usize], len: usize) -> Data {
        match self {
            Values::Uint(xs) => {
                // As narrow as the field, wider where a value needs it
                // (an IPv6 jumbogram's length).
                let max = xs.iter().copied().max().unwrap_or(0);
                let needs = match max {
                    0..=0xff => 1,
                    0x100..=0xffff => 2,
                    0x1_0000..=0xffff_ffff => 4,
                    _ => 8,
                };
                let width = match kind {
                    Kind::Uint(w) => w.max(needs),
                    _ => 8,
                } as usize;
                let mut bytes = vec![0u8; len * width];
                for (x, &s) in xs.iter().zip(slots) {
                    bytes[s * width..(s + 1) * width].copy_from_slice(&x.to_le_bytes()[..width]);
                }
                match kind {
                    Kind::Time => Data::Time(bytes),
                    _ => Data::Uint {
                        width: width as u8,
                        bytes,
                    },
                }
            }
            Values::Bool(xs) => {
                let mut bits = vec![0u8; len.div_ceil(8)];
                for (&x, &s) in xs.iter().zip(slots) {
                    if x {
                        bits[s / 8] |= 1 << (s % 8);
                    }
                }
                Data::Bool(bits)
            }
            Values::Text { ends, data } => {
                // Slot lengths, then offsets; the bytes keep their order,
                // as slots only grow.
                let mut offsets = vec![0i32; len + 1];
                let mut start = 0;
                for (&end, &s) in ends.iter().zip(slots) {
                    offsets[s + 1] = end - start;
                    start = end;
                }
                for i in 0..len {
                    offsets[i + 1] += offsets[i];
                }
                Data::Text { offsets, data }
            }
            Values::Dictionary(xs, dict) => {
                let mut indices = vec![0i32; len];
                for (&x, &s) in xs.iter().zip(slots) {
                    indices[s] = x;
                }
                let mut offsets = Vec::with_capacity(dict.ends.len() + 1);
                offsets.push(0);
                offsets.extend(dict.ends);
                Data::Dictionary {
                    indices,
                    offsets,
                    data: dict.data,
                }
            }
        }
    }
}

/// "000102…ff": every byte's two hex digits.
static PAIRS: [u8; 512] = {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut pairs = [0u8; 512];
    let mut i = 0;
    while i < 256 {
        pairs[i * 2] = DIGITS[i >> 4];
        pairs[i * 2 + 1] = DIGITS[i & 15];
        i += 1;
    }
    pairs
};

/// The builders of a capture being read.
struct Table {
    rows: u32,
    frame: Builder,
    time: Builder,
    time_ns: Builder,
    link_type: Builder,
    flow: Builder,
    fields: Vec<(&'static crate::packet::fields::Field, Builder)>,
}

impl Table {
    fn new() -> Table {
        let fields = FIELDS
            .iter()
            .filter(|f| !EITHER.contains(&f.id) && f.id != Id::Frame)
            .map(|f| {
                let kind = match f.ty {
                    FieldType::Uint => Kind::Uint(match f.bits() {
                        1..=8 => 1,
                        9..=16 => 2,
                        17..=32 => 4,
                        _ => 8,
                    }),
                    FieldType::Bool | FieldType::Protocol => Kind::Bool,
                    FieldType::Addr | FieldType::Mac | FieldType::Status => Kind::Dictionary,
                    FieldType::Bytes | FieldType::Text => Kind::Text,
                };
                (f, Builder::new(f.name, kind))
            })
            .collect();
        Table {
            rows: 0,
            frame: Builder::new("frame", Kind::Uint(8)),
            time: Builder::new("time", Kind::Time),
            time_ns: Builder::new("time_ns", Kind::Uint(8)),
            link_type: Builder::new("link_type", Kind::Uint(4)),
            flow: Builder::new("flow", Kind::Dictionary),
            fields,
        }
    }

    fn push(&mut self, v: &FrameView<'_, '_>) {
        let row = self.rows;
        self.rows += 1;
        let ns = v.time.as_nanos() as u64;
        self.frame.push_uint(row, v.number);
        self.time.push_uint(row, ns);
        self.time_ns.push_uint(row, ns);
        self.link_type.push_uint(row, u64::from(v.link_type));
        if let Some(flow) = super::emit::flow_id(v) {
            self.flow.push(row, &Value::Text(flow.into()));
        }
        for (f, b) in &mut self.fields {
            if f.ty == FieldType::Protocol {
                if f.get(v, 0).is_some() {
                    b.push_bool(row);
                }
                continue;
            }
            for i in 0.. {
                match f.get(v, i) {
                    Some(x) => b.push(row, &x),
                    None => break,
                }
            }
        }
    }

    fn finish(self) -> Columns {
        let rows = self.rows as usize;
        let fixed = [
            self.frame,
            self.time,
            self.time_ns,
            self.link_type,
            self.flow,
        ];
        let columns = fixed
            .into_iter()
            .chain(self.fields.into_iter().map(|(_, b)| b))
            .filter_map(|b| b.finish(rows))
            .collect();
        Columns {
            rows: u64::from(self.rows),
            columns,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column<'a>(t: &'a Columns, name: &str) -> &'a Column {
        t.columns.iter().find(|c| c.name == name).unwrap()
    }

    #[test]
    fn hex_is_every_byte_in_two_lowercase_digits() {
        assert_eq!(
            (&PAIRS[..2], &PAIRS[0x4c * 2..0x4c * 2 + 2], &PAIRS[510..]),
            (&b"00"[..], &b"4c"[..], &b"ff"[..])
        );
    }

    #[test]
    fn addresses_are_a_dictionary_and_payloads_hex() {
        let t = frames_file("fixtures/seed-ipv4.pcap".as_ref()).unwrap();
        let Data::Dictionary {
            indices,
            offsets,
            data,
        } = &column(&t, "ip.src").data
        else {
            panic!("ip.src is no dictionary");
        };
        assert_eq!(
            (indices.as_slice(), offsets.as_slice()),
            (&[0][..], &[0, 9][..])
        );
        assert_eq!(data, b"127.0.0.1");
        let Data::Text { data, .. } = &column(&t, "data.data").data else {
            panic!("data.data is no text");
        };
        assert_eq!(data, b"48656c6c6f204c6f6c61", "Hello Lola in hex");
        assert_eq!(column(&t, "udp").data, Data::Bool(vec![1]));
    }

    #[test]
    fn a_field_seen_twice_in_a_frame_is_a_list() {
        // An ICMP error quotes the datagram's IP header: two ip.ttl in frame 2.
        let t = frames_file("fixtures/seed-ipv4-no-listener.pcap".as_ref()).unwrap();
        let c = column(&t, "ip.ttl");
        assert_eq!(c.lists.as_deref(), Some(&[0, 1, 3][..]));
        assert_eq!(c.valid, None);
        let c = column(&t, "icmp.type");
        assert_eq!(
            (c.lists.as_deref(), c.valid.as_deref()),
            (None, Some(&[0b10][..]))
        );
    }
}
