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
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use crate::capture::CaptureReader;
use crate::check::expect::{ExpectationSet, Tolerance, check_reader_with_set};
use crate::check::{ChecksumPolicy, Truncation};
use crate::error::Result;
use crate::packet::fields::{FIELDS, Field, FieldType, FrameView, Id, Value};

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

/// What a column keeps while frames are read: its values one after
/// another in their final layout, which rows have one (a bit each), and,
/// once some row has two, where each row's values start.
struct Builder {
    name: &'static str,
    /// Bit `r` set when row `r` has a value (grown as rows come).
    valid: Vec<u8>,
    /// The row of the latest value.
    last: Option<u32>,
    /// For a list column (from the first row with two values on), the
    /// start of each row's values up to the latest row, and its end.
    lists: Option<Vec<i32>>,
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
    /// Little-endian, `width` bytes each: as narrow as the field, widened
    /// when a value needs it (an IPv6 jumbogram's length).
    Uint {
        time: bool,
        width: u8,
        bytes: Vec<u8>,
    },
    Bool {
        bits: Vec<u8>,
        len: usize,
    },
    Text {
        ends: Vec<i32>,
        data: Vec<u8>,
    },
    Dictionary(Vec<i32>, Dict),
}

/// Distinct strings, numbered in order of first sight.
#[derive(Default)]
struct Dict {
    index: HashMap<Key, i32>,
    /// The latest value's key and number (frames in a row share most).
    last: Option<(Key, i32)>,
    ends: Vec<i32>,
    data: Vec<u8>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum Key {
    Addr(IpAddr),
    Mac([u8; 6]),
    Word(&'static str),
    Flow(&'static str, SocketAddr, SocketAddr),
    Text(String),
}

impl Dict {
    fn number(&mut self, key: Key) -> i32 {
        if let Some((k, i)) = &self.last
            && *k == key
        {
            return *i;
        }
        let i = match self.index.get(&key) {
            Some(&i) => i,
            None => {
                let text = match &key {
                    Key::Addr(a) => a.to_string(),
                    Key::Mac(m) => json_text(&Value::Mac(*m)),
                    Key::Word(w) => (*w).to_string(),
                    Key::Flow(proto, lo, hi) => format!("{proto} {lo} {hi}"),
                    Key::Text(t) => t.clone(),
                };
                self.data.extend_from_slice(text.as_bytes());
                self.ends.push(self.data.len() as i32);
                let i = self.index.len() as i32;
                self.index.insert(key.clone(), i);
                i
            }
        };
        self.last = Some((key, i));
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

/// Bytes an unsigned integer needs.
fn width_of(n: u64) -> u8 {
    match n {
        0..=0xff => 1,
        0x100..=0xffff => 2,
        0x1_0000..=0xffff_ffff => 4,
        _ => 8,
    }
}

impl Builder {
    fn new(name: &'static str, kind: Kind) -> Builder {
        let values = match kind {
            Kind::Uint(width) => Values::Uint {
                time: false,
                width,
                bytes: Vec::new(),
            },
            Kind::Time => Values::Uint {
                time: true,
                width: 8,
                bytes: Vec::new(),
            },
            Kind::Bool => Values::Bool {
                bits: Vec::new(),
                len: 0,
            },
            Kind::Text => Values::Text {
                ends: Vec::new(),
                data: Vec::new(),
            },
            Kind::Dictionary => Values::Dictionary(Vec::new(), Dict::default()),
        };
        Builder {
            name,
            valid: Vec::new(),
            last: None,
            lists: None,
            values,
        }
    }

    /// Notes one more value in `row` (rows come in order).
    #[inline]
    fn mark(&mut self, row: u32) {
        let r = row as usize;
        if self.last == Some(row) {
            // A second value in the row: a list column from now on.
            let starts = self.lists.get_or_insert_with(|| {
                // Until now each row had one value at most.
                let mut starts = Vec::with_capacity(r + 2);
                let mut n = 0;
                starts.push(0);
                for i in 0..=r {
                    n += i32::from(self.valid[i / 8] >> (i % 8) & 1);
                    starts.push(n);
                }
                starts
            });
            *starts.last_mut().expect("a row's end") += 1;
            return;
        }
        if self.valid.len() <= r / 8 {
            self.valid.resize(r / 8 + 1, 0);
        }
        self.valid[r / 8] |= 1 << (r % 8);
        self.last = Some(row);
        if let Some(starts) = &mut self.lists {
            let end = *starts.last().expect("a row's end");
            starts.resize(r + 1, end);
            starts.push(end + 1);
        }
    }

    #[inline]
    fn push(&mut self, row: u32, v: &Value<'_>) {
        match (&self.values, v) {
            (Values::Uint { .. }, Value::Uint(n)) => {
                self.mark(row);
                self.values.push_uint(*n);
            }
            (Values::Bool { .. }, Value::Bool(b)) => {
                self.mark(row);
                self.values.push_bool(*b);
            }
            (Values::Dictionary(..) | Values::Text { .. }, v) => {
                self.mark(row);
                self.values.push_text(v);
            }
            // A value of another type than the field's cannot come from
            // the extractors; it is left out rather than misfiled.
            _ => {}
        }
    }

    /// A protocol's flag: true once in a row that has the protocol.
    #[inline]
    fn push_present(&mut self, row: u32) {
        if self.last != Some(row) {
            self.mark(row);
            self.values.push_bool(true);
        }
    }

    fn push_uint(&mut self, row: u32, n: u64) {
        self.mark(row);
        self.values.push_uint(n);
    }

    fn push_flow(&mut self, row: u32, flow: (&'static str, SocketAddr, SocketAddr)) {
        self.mark(row);
        if let Values::Dictionary(xs, dict) = &mut self.values {
            xs.push(dict.number(Key::Flow(flow.0, flow.1, flow.2)));
        }
    }

    /// The column of `rows` rows, or none when no row has a value.
    fn finish(self, rows: usize) -> Option<Column> {
        let last = self.last?;
        let mut valid = self.valid;
        valid.resize(rows.div_ceil(8), 0);
        // No bit is set past the last row.
        let count: u32 = valid.iter().map(|b| b.count_ones()).sum();
        let all_valid = count as usize == rows;
        let name = self.name.to_string();
        if let Some(mut starts) = self.lists {
            let end = *starts.last().expect("a row's end");
            debug_assert_eq!(starts.len(), last as usize + 2);
            starts.resize(rows + 1, end);
            return Some(Column {
                name,
                data: self.values.data(),
                valid: (!all_valid).then_some(valid),
                lists: Some(starts),
            });
        }
        // One value at most per row: each row gets a slot.
        let values = if all_valid {
            self.values
        } else {
            self.values.scattered(&valid, rows)
        };
        Some(Column {
            name,
            data: values.data(),
            valid: (!all_valid).then_some(valid),
            lists: None,
        })
    }
}

impl Values {
    #[inline]
    fn push_uint(&mut self, n: u64) {
        if let Values::Uint { width, bytes, .. } = self {
            let needs = width_of(n);
            if needs > *width {
                // Widen what is there: each value to `needs` bytes.
                let (old, new) = (*width as usize, needs as usize);
                let mut wider = Vec::with_capacity((bytes.len() / old + 1) * new * 2);
                for x in bytes.chunks_exact(old) {
                    wider.extend_from_slice(x);
                    wider.resize(wider.len() + new - old, 0);
                }
                *bytes = wider;
                *width = needs;
            }
            bytes.extend_from_slice(&n.to_le_bytes()[..*width as usize]);
        }
    }

    /// A string value: its number in the dictionary, or its text.
    #[inline]
    fn push_text(&mut self, v: &Value<'_>) {
        match self {
            Values::Dictionary(xs, dict) => xs.push(dict.number(match v {
                Value::Addr(a) => Key::Addr(*a),
                Value::Mac(m) => Key::Mac(*m),
                Value::Status(w) => Key::Word(w),
                other => Key::Text(json_text(other)),
            })),
            Values::Text { ends, data } => {
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
            Values::Uint { .. } | Values::Bool { .. } => {}
        }
    }

    #[inline]
    fn push_bool(&mut self, b: bool) {
        if let Values::Bool { bits, len } = self {
            if *len % 8 == 0 {
                bits.push(0);
            }
            if b {
                bits[*len / 8] |= 1 << (*len % 8);
            }
            *len += 1;
        }
    }

    /// The values in the slots of the rows whose bit is set in `valid`,
    /// empty slots for the others.
    fn scattered(self, valid: &[u8], rows: usize) -> Values {
        let slots = (0..rows).filter(|&i| valid[i / 8] >> (i % 8) & 1 == 1);
        match self {
            Values::Uint { time, width, bytes } => {
                let w = width as usize;
                let mut out = vec![0u8; rows * w];
                for (x, s) in bytes.chunks_exact(w).zip(slots) {
                    out[s * w..(s + 1) * w].copy_from_slice(x);
                }
                Values::Uint {
                    time,
                    width,
                    bytes: out,
                }
            }
            Values::Bool { bits, len } => {
                let mut out = vec![0u8; rows.div_ceil(8)];
                for (i, s) in (0..len).zip(slots) {
                    if bits[i / 8] >> (i % 8) & 1 == 1 {
                        out[s / 8] |= 1 << (s % 8);
                    }
                }
                Values::Bool {
                    bits: out,
                    len: rows,
                }
            }
            Values::Text { ends, data } => {
                // Each slot's end; the bytes keep their order, as slots only grow.
                let mut out = vec![0i32; rows];
                let (mut s_prev, mut end_prev) = (0usize, 0i32);
                for (&end, s) in ends.iter().zip(slots) {
                    out[s_prev..s].fill(end_prev);
                    out[s] = end;
                    (s_prev, end_prev) = (s + 1, end);
                }
                out[s_prev..].fill(end_prev);
                Values::Text { ends: out, data }
            }
            Values::Dictionary(xs, dict) => {
                let mut out = vec![0i32; rows];
                for (&x, s) in xs.iter().zip(slots) {
                    out[s] = x;
                }
                Values::Dictionary(out, dict)
            }
        }
    }

    /// The values as a column's (or a list's items') data.
    fn data(self) -> Data {
        match self {
            Values::Uint {
                time: true, bytes, ..
            } => Data::Time(bytes),
            Values::Uint { width, bytes, .. } => Data::Uint { width, bytes },
            Values::Bool { bits, .. } => Data::Bool(bits),
            Values::Text { ends, data } => {
                let mut offsets = Vec::with_capacity(ends.len() + 1);
                offsets.push(0);
                offsets.extend(ends);
                Data::Text { offsets, data }
            }
            Values::Dictionary(indices, dict) => {
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
    /// The fields of the rows, and a builder for each.
    fields: Vec<&'static Field>,
    builders: Vec<Builder>,
}

impl Table {
    fn new() -> Table {
        let fields: Vec<&'static Field> = FIELDS
            .iter()
            .filter(|f| !super::emit::EITHER.contains(&f.id) && f.id != Id::Frame)
            .collect();
        let builders = fields
            .iter()
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
                Builder::new(f.name, kind)
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
            builders,
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
        if let Some(flow) = super::emit::flow_ends(v) {
            self.flow.push_flow(row, flow);
        }
        // Every field from one pass over the frame's headers.
        let builders = &mut self.builders;
        Field::each(&self.fields, v, |k, x| {
            let b = &mut builders[k];
            if self.fields[k].ty == FieldType::Protocol {
                b.push_present(row);
            } else {
                b.push(row, &x);
            }
        });
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
            .chain(self.builders)
            .filter_map(|b| b.finish(rows))
            .collect();
        Columns {
            rows: u64::from(self.rows),
            columns,
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    fn column<'a>(t: &'a Columns, name: &str) -> &'a Column {
        t.columns.iter().find(|c| c.name == name).unwrap()
    }

    /// Row `i` of the table as the `--emit` row says it: each value in
    /// the row's JSON (a list column's every row an array).
    fn row_of(t: &Columns, i: usize) -> serde_json::Map<String, serde_json::Value> {
        use serde_json::Value as Json;
        let text = |offsets: &[i32], data: &[u8], j: usize| -> Json {
            let (a, b) = (offsets[j] as usize, offsets[j + 1] as usize);
            String::from_utf8(data[a..b].to_vec()).unwrap().into()
        };
        let item = |data: &Data, j: usize| -> Json {
            match data {
                Data::Uint { width, bytes } => {
                    let w = *width as usize;
                    let mut n = [0u8; 8];
                    n[..w].copy_from_slice(&bytes[j * w..(j + 1) * w]);
                    u64::from_le_bytes(n).into()
                }
                Data::Time(bytes) => {
                    u64::from_le_bytes(bytes[j * 8..j * 8 + 8].try_into().unwrap()).into()
                }
                Data::Bool(bits) => (bits[j / 8] >> (j % 8) & 1 == 1).into(),
                Data::Text { offsets, data } => text(offsets, data, j),
                Data::Dictionary {
                    indices,
                    offsets,
                    data,
                } => text(offsets, data, indices[j] as usize),
            }
        };
        let mut row = serde_json::Map::new();
        for c in &t.columns {
            if c.valid
                .as_ref()
                .is_some_and(|v| v[i / 8] >> (i % 8) & 1 == 0)
            {
                continue;
            }
            let value = match &c.lists {
                Some(l) => Json::Array(
                    (l[i] as usize..l[i + 1] as usize)
                        .map(|j| item(&c.data, j))
                        .collect(),
                ),
                None => item(&c.data, i),
            };
            row.insert(c.name.clone(), value);
        }
        row
    }

    /// Every capture of the repository.
    /// Every capture under `dir`, its subdirectories too, into `out`.
    pub(in crate::report) fn fixtures(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                fixtures(&path, out);
            } else if path
                .extension()
                .is_some_and(|e| e == "pcap" || e == "pcapng" || e == "cap")
            {
                out.push(path);
            }
        }
    }

    #[test]
    fn one_pass_over_a_frame_reads_what_each_field_reads_alone() {
        // Field::each (columns, rows) against Field::get (expectations),
        // every field of every frame of every fixture, whole and datagram-only.
        let mut paths = Vec::new();
        fixtures(
            Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures")),
            &mut paths,
        );
        let fields: Vec<&Field> = FIELDS.iter().collect();
        let mut values = 0;
        for path in &paths {
            let Ok(mut reader) = CaptureReader::open(path) else {
                continue;
            };
            while let Ok(Some(frame)) = reader.next_frame() {
                let packet = crate::packet::decode::decode(
                    frame.link_type,
                    frame.data,
                    frame.orig_len as usize,
                );
                for datagram_only in [false, true] {
                    let view = FrameView {
                        datagram_only,
                        tcp_relative: Some((1, 1)),
                        ..FrameView::new(&frame, &packet)
                    };
                    let mut got = vec![Vec::new(); fields.len()];
                    Field::each(&fields, &view, |k, x| got[k].push(x));
                    for (f, got) in fields.iter().zip(&got) {
                        let alone: Vec<Value<'_>> = (0..).map_while(|i| f.get(&view, i)).collect();
                        assert_eq!(
                            got,
                            &alone,
                            "{} frame {} {}",
                            path.display(),
                            frame.number,
                            f.name
                        );
                        values += alone.len();
                    }
                }
            }
        }
        assert!(values > 10_000, "{values} values compared");
    }

    #[test]
    fn every_fixture_s_columns_are_its_emitted_rows() {
        use serde_json::Value as Json;
        let mut paths = Vec::new();
        fixtures(
            Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures")),
            &mut paths,
        );
        paths.sort();
        assert!(paths.len() > 100, "{} captures", paths.len());
        let set = ExpectationSet::from_expectation(&crate::Expectation::seed());
        let mut frames = 0;
        for path in &paths {
            let mut out = Vec::new();
            let emitted = super::super::emit::emit_file(path, &set, &mut out);
            let table = frames_file(path);
            let (Ok(_), Ok(table)) = (&emitted, &table) else {
                assert_eq!(emitted.is_err(), table.is_err(), "{}", path.display());
                continue;
            };
            let rows: Vec<Json> = out
                .split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
                .map(|l| serde_json::from_slice(l).unwrap())
                .collect();
            assert_eq!(table.rows as usize, rows.len(), "{}", path.display());
            for (i, row) in rows.iter().enumerate() {
                let mut want = row.as_object().unwrap().clone();
                for constant in ["schema", "file", "expect", "time"] {
                    want.remove(constant);
                }
                want.retain(|_, v| !v.is_null());
                let mut got = row_of(table, i);
                got.remove("time");
                // A list column's one value is the row's scalar, and
                // `vlan.id`'s one value the row's array of one: compared
                // as arrays.
                for map in [&mut got, &mut want] {
                    for value in map.values_mut() {
                        if !value.is_array() {
                            *value = Json::Array(vec![value.take()]);
                        }
                    }
                }
                assert_eq!(got, want, "{} frame {}", path.display(), i + 1);
                frames += 1;
            }
        }
        assert!(frames > 1000, "{frames} frames compared");
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
