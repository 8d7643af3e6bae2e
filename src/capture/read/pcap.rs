//! The classic pcap format, read with libpcap's rules (`sf-pcap.c`): the
//! file header (the versions libpcap reads, the "modified" (Kuznetsov)
//! record format, link-type fields with FCS bits, the pre-2.3 swapped
//! lengths) and the records after it, each length field checked against
//! libpcap's limits and against what is left of the file before that many
//! bytes are asked of the [`Source`].

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use super::super::pcapng::Order;
use super::frame::{RawFrame, Visit};
use super::notes::{Notes, io_err, malformed, shrunk, truncated};
use super::sigbus;
use super::source::Source;
use crate::capture::{LINKTYPE_ETHERNET, MAX_SNAPLEN};
use crate::error::Result;

pub(super) const PCAP_RECORD_HEADER: usize = 16;
/// Record header of the "modified" format (magic `0xa1b2cd34`, Alexey
/// Kuznetsov's patched libpcap): the usual 16 bytes, then `ifindex` (u32),
/// `protocol` (u16), `pkt_type` (u8) and a pad byte.
const KUZNETSOV_RECORD_HEADER: usize = 24;
/// `LT_FCS_LENGTH_PRESENT` of libpcap's `pcap/pcap.h`: the link-type field's
/// top nibble says how many 16-bit words of FCS end each frame.
const LT_FCS_LENGTH_PRESENT: u32 = 0x0400_0000;
/// `LT_RESERVED1`: must be zero (libpcap refuses the file otherwise).
const LT_RESERVED1: u32 = 0x03FF_0000;

/// Whether a pcap file's records hold the captured length before the
/// original length (2.4), after it (before 2.3), or either (2.3): libpcap's
/// `lengths_swapped`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lengths {
    InOrder,
    Swapped,
    /// Swapped when the "captured" length is the larger one.
    MaybeSwapped,
}

/// What a pcap magic number says: (big-endian, nanoseconds, record header
/// size). The four standard magics and the modified one, in both byte
/// orders; every other magic is not pcap.
pub(super) fn pcap_magic(magic: &[u8]) -> Option<(bool, bool, usize)> {
    match magic {
        [0xa1, 0xb2, 0xc3, 0xd4] => Some((true, false, PCAP_RECORD_HEADER)),
        [0xd4, 0xc3, 0xb2, 0xa1] => Some((false, false, PCAP_RECORD_HEADER)),
        [0xa1, 0xb2, 0x3c, 0x4d] => Some((true, true, PCAP_RECORD_HEADER)),
        [0x4d, 0x3c, 0xb2, 0xa1] => Some((false, true, PCAP_RECORD_HEADER)),
        [0xa1, 0xb2, 0xcd, 0x34] => Some((true, false, KUZNETSOV_RECORD_HEADER)),
        [0x34, 0xcd, 0xb2, 0xa1] => Some((false, false, KUZNETSOV_RECORD_HEADER)),
        _ => None,
    }
}

/// A classic pcap file header, as libpcap reads it.
#[derive(Clone, Copy, Debug)]
pub(super) struct PcapFile {
    pub(super) big_endian: bool,
    nanos: bool,
    /// 16, or 24 for the modified format.
    record_header: usize,
    snaplen: u32,
    /// Captured lengths above this get a note: the snaplen when it is one
    /// libpcap honours, else `u32::MAX` (one compare per record).
    note_above: u32,
    /// The link-type field without its FCS bits.
    pub(super) link_type: u32,
    /// Bytes of FCS at the end of every frame (stripped from what is read).
    fcs_len: u32,
    lengths: Lengths,
}

impl PcapFile {
    /// True for what tcpdump writes today (2.4, 16-byte records, no FCS):
    /// the record loop then skips every check the other variants need.
    pub(super) fn plain(&self) -> bool {
        self.record_header == PCAP_RECORD_HEADER
            && self.lengths == Lengths::InOrder
            && self.fcs_len == 0
    }

    /// Parses the 24-byte file header; `Ok(None)` when the magic is not a
    /// pcap one. Refuses what libpcap refuses, naming it.
    pub(super) fn parse(
        h: &[u8],
        notes: &mut Notes,
    ) -> std::result::Result<Option<PcapFile>, String> {
        let Some((big_endian, nanos, record_header)) = pcap_magic(&h[..4]) else {
            return Ok(None);
        };
        let order = Order { big: big_endian };
        let (major, minor) = (order.u16(h, 4), order.u16(h, 6));
        // libpcap reads 2.0 to 2.4, and 543.0 (DG/UX tcpdump, pre-2.3 order).
        let lengths = match (major, minor) {
            (2, 0..=2) | (543, 0) => Lengths::Swapped,
            (2, 3) => Lengths::MaybeSwapped,
            (2, 4) => Lengths::InOrder,
            _ => {
                return Err(format!(
                    "unsupported pcap version {major}.{minor} (libpcap reads 2.0 to 2.4)"
                ));
            }
        };
        let field = order.u32(h, 20);
        if field & LT_RESERVED1 != 0 {
            return Err(format!(
                "link-type field 0x{field:08x} has reserved bits 0x{:08x} set",
                field & LT_RESERVED1
            ));
        }
        let link_type = field & 0xffff;
        let fcs_len = if field & LT_FCS_LENGTH_PRESENT != 0 {
            (field >> 28) * 2
        } else {
            0
        };
        if fcs_len > 0 {
            notes.add(|| {
                format!(
                    "link-type field 0x{field:08x}: link type {link_type} with a {fcs_len}-byte FCS ending every frame; the FCS is not part of the frames lola reads"
                )
            });
        }
        if lengths == Lengths::Swapped {
            notes.add(|| {
                format!(
                    "pcap version {major}.{minor}: captured and original lengths read in the order before 2.3, as libpcap does"
                )
            });
        }
        let mut snaplen = order.u32(h, 16);
        if snaplen == 0 || snaplen > MAX_SNAPLEN {
            notes.add(|| {
                format!("file header claims snaplen {snaplen}; read as {MAX_SNAPLEN} like libpcap")
            });
        } else if record_header == KUZNETSOV_RECORD_HEADER && link_type == LINKTYPE_ETHERNET {
            // libpcap: such a capture may have been taken in cooked mode,
            // with a fake 14-byte Ethernet header added past the snaplen.
            snaplen += 14;
        }
        Ok(Some(PcapFile {
            big_endian,
            nanos,
            record_header,
            snaplen,
            note_above: if snaplen != 0 && snaplen <= MAX_SNAPLEN {
                snaplen
            } else {
                u32::MAX
            },
            link_type,
            fcs_len,
            lengths,
        }))
    }
}

/// A pcap record that needs none of libpcap's allowances, as read in place.
#[derive(Clone, Copy)]
pub(super) struct PlainRecord {
    /// Record header and captured bytes.
    need: usize,
    timestamp: Duration,
    orig_len: u32,
}

/// The record at the cursor if it is whole in the buffer and plain: lengths
/// in order within the snaplen, the original no shorter than the captured,
/// a timestamp fraction under one second, no FCS to strip, and no mapped
/// window of the process has lost pages (see [`Source::intact`]). What
/// [`next_record`] makes of such a record, with no note, for a fraction
/// of its work; `None` sends every other record there.
#[inline(always)]
pub(super) fn plain_record<const BIG_ENDIAN: bool, R: Read>(
    file: &PcapFile,
    source: &Source<R>,
) -> Option<PlainRecord> {
    if file.lengths != Lengths::InOrder || file.fcs_len != 0 {
        return None;
    }
    let rest = source.unconsumed();
    let head = rest.first_chunk::<PCAP_RECORD_HEADER>()?;
    let field = |at: usize| {
        let v = u32::from_le_bytes([head[at], head[at + 1], head[at + 2], head[at + 3]]);
        if BIG_ENDIAN { v.swap_bytes() } else { v }
    };
    let (ts_sec, ts_frac, incl_len, orig_len) = (field(0), field(4), field(8), field(12));
    let (frac_limit, scale) = if file.nanos {
        (1_000_000_000, 1)
    } else {
        (1_000_000, 1000)
    };
    let need = file.record_header + incl_len as usize;
    let plain = incl_len <= file.note_above.min(MAX_SNAPLEN)
        && orig_len >= incl_len
        && ts_frac < frac_limit
        && rest.len() >= need
        && !source.may_have_lost();
    plain.then(|| PlainRecord {
        need,
        timestamp: Duration::new(u64::from(ts_sec), ts_frac * scale),
        orig_len,
    })
}

/// The frame of a record [`plain_record`] read: consumes it and counts it
/// in `frames`.
#[inline(always)]
pub(super) fn take_plain_record<'s, R: Read>(
    file: &PcapFile,
    source: &'s mut Source<R>,
    frames: &mut u64,
    record: PlainRecord,
) -> RawFrame<'s> {
    let (link_type, header) = (file.link_type, file.record_header);
    let offset = source.offset;
    *frames += 1;
    source.consume(record.need);
    RawFrame {
        number: *frames,
        offset,
        timestamp: record.timestamp,
        link_type,
        orig_len: record.orig_len,
        data: &source.consumed_slice(record.need)[header..],
        comment: None,
        flags: None,
    }
}

/// Calls `f` with the frame of every plain record (as [`plain_record`]
/// defines it) whole in `bytes`, from its start, until one that is not, and
/// returns how many bytes those records took. `offset` is the file offset
/// of `bytes[0]`; `frames` counts the records read. The reading loop of
/// [`CaptureReader::visit_frames`](super::CaptureReader::visit_frames): the
/// buffer is looked up once for a run of records, the file's byte order,
/// timestamp unit and limits once, and each record costs its header's
/// fields, their checks and the frame `f` reads. (The checks are
/// [`plain_record`]'s, written out again: shared through a function
/// returning the record, they cost 12 instructions more per frame, as the
/// limits are then read from `file` for every record.)
#[inline(always)]
pub(super) fn plain_run<const BIG_ENDIAN: bool>(
    file: &PcapFile,
    bytes: &[u8],
    offset: u64,
    frames: &mut u64,
    f: &mut impl Visit,
) -> usize {
    if file.lengths != Lengths::InOrder || file.fcs_len != 0 {
        return 0;
    }
    let (link_type, header) = (file.link_type, file.record_header);
    let limit = file.note_above.min(MAX_SNAPLEN);
    let (frac_limit, scale) = if file.nanos {
        (1_000_000_000, 1)
    } else {
        (1_000_000, 1000)
    };
    let mut at = 0;
    while let Some(rest) = bytes.get(at..)
        && let Some(head) = rest.first_chunk::<PCAP_RECORD_HEADER>()
    {
        let field = |at: usize| {
            let v = u32::from_le_bytes([head[at], head[at + 1], head[at + 2], head[at + 3]]);
            if BIG_ENDIAN { v.swap_bytes() } else { v }
        };
        let (ts_sec, ts_frac, incl_len, orig_len) = (field(0), field(4), field(8), field(12));
        let need = header + incl_len as usize;
        if incl_len > limit
            || orig_len < incl_len
            || ts_frac >= frac_limit
            || rest.len() < need
            || sigbus::any_lost()
        {
            break;
        }
        *frames += 1;
        f.frame(&RawFrame {
            number: *frames,
            offset: offset + at as u64,
            timestamp: Duration::new(u64::from(ts_sec), ts_frac * scale),
            link_type,
            orig_len,
            data: &rest[header..need],
            comment: None,
            flags: None,
        });
        at += need;
    }
    at
}

/// Any pcap record: the one [`plain_record`] passed over is read here, with
/// every check and note (`PLAIN` when the file needs none of libpcap's
/// allowances). Counts it in `frames`; `None` at the end of the file.
#[inline(never)]
pub(super) fn next_record<'s, const PLAIN: bool, R: Read>(
    file: &PcapFile,
    source: &'s mut Source<R>,
    path: &Path,
    frames: &mut u64,
    notes: &mut Notes,
) -> Result<Option<RawFrame<'s>>> {
    let file = *file;
    loop {
        let offset = source.offset;
        let read = read_record::<PLAIN, R>(&file, source, path);
        // Read from a window the file shrank under: read it again from the
        // file as it is now.
        if !source.intact() || read.is_err() && !source.error_stands() {
            continue;
        }
        let Some(record) = read? else {
            return Ok(None);
        };
        *frames += 1;
        let number = *frames;
        note_record_lengths(notes, &file, (number, offset), &record);
        source.consume(record.need);
        let mut data = &source.consumed_slice(record.need)[record.header..];
        let mut orig_len = record.orig_len.max(record.incl_len);
        if !PLAIN && file.fcs_len > 0 {
            // The FCS is the last bytes on the wire: whatever of it the
            // snaplen left in the record goes, and the wire length shrinks.
            orig_len = orig_len.saturating_sub(file.fcs_len);
            data = &data[..data.len().min(orig_len as usize)];
        }
        return Ok(Some(RawFrame {
            number,
            offset,
            timestamp: record.timestamp,
            link_type: file.link_type,
            orig_len,
            data,
            comment: None,
            flags: None,
        }));
    }
}

/// A record's header, checked, with its bytes buffered behind it.
struct Record {
    /// Bytes of record header (16, or 24 for the modified format).
    header: usize,
    /// Record header and captured bytes.
    need: usize,
    timestamp: Duration,
    /// The fraction-of-a-second field, when it holds a second or more (a
    /// note says so).
    ts_frac: Option<u32>,
    incl_len: u32,
    orig_len: u32,
    /// Lengths swapped by the 2.3 rule (a note says so).
    swapped_maybe: bool,
}

/// Reads and checks the record header at the cursor and buffers the bytes
/// it counts, consuming nothing; `None` at the end of the file.
fn read_record<const PLAIN: bool, R: Read>(
    file: &PcapFile,
    source: &mut Source<R>,
    path: &Path,
) -> Result<Option<Record>> {
    let record_header = if PLAIN {
        PCAP_RECORD_HEADER
    } else {
        file.record_header
    };
    let offset = source.offset;
    if !record_header_ready(source, path, record_header)? {
        return Ok(None);
    }
    // Record headers are read here rather than by pcap-file's
    // RawPcapPacket::from_slice: each field is checked against libpcap's
    // limits before any byte it counts is read, and this loop runs once
    // per frame of captures with millions of them.
    // The fields sit in the first 16 bytes of both record formats; a
    // fixed-size view lets the compiler drop the bounds checks.
    let Ok(head) = <&[u8; PCAP_RECORD_HEADER]>::try_from(source.peek(PCAP_RECORD_HEADER)) else {
        unreachable!("fill made at least {record_header} bytes available")
    };
    // One byte order decision per record rather than one per field.
    let swap = file.big_endian;
    let field = |at: usize| {
        let v = u32::from_le_bytes([head[at], head[at + 1], head[at + 2], head[at + 3]]);
        if swap { v.swap_bytes() } else { v }
    };
    let (ts_sec, ts_frac, mut incl_len, mut orig_len) = (field(0), field(4), field(8), field(12));
    let mut swapped = false;
    if !PLAIN && file.lengths != Lengths::InOrder {
        // libpcap: a 2.3 file may have either order; the captured
        // length cannot exceed the original one.
        swapped = file.lengths == Lengths::Swapped || incl_len > orig_len;
        if swapped {
            std::mem::swap(&mut incl_len, &mut orig_len);
        }
    }
    if incl_len > MAX_SNAPLEN {
        return Err(malformed(
            path,
            offset,
            format!(
                "invalid packet capture length {incl_len}, bigger than maximum of {MAX_SNAPLEN}"
            ),
        ));
    }
    let (timestamp, fraction_invalid) = record_timestamp(file, ts_sec, ts_frac);
    let need = record_header + incl_len as usize;
    if source.available() < need {
        let have = source.fill(need).map_err(|e| io_err(path, e))?;
        if have < need {
            return Err(truncated(
                path,
                offset,
                format!(
                    "record cut short: claims {incl_len} captured bytes, only {} left in the file",
                    have - record_header
                ),
            ));
        }
    }
    Ok(Some(Record {
        header: record_header,
        need,
        timestamp,
        ts_frac: fraction_invalid.then_some(ts_frac),
        incl_len,
        orig_len,
        swapped_maybe: !PLAIN && swapped && file.lengths == Lengths::MaybeSwapped,
    }))
}

/// Makes the record header at the cursor available: false at the end of
/// the file, an error when the file ends inside the header. The common
/// case needs no read: the record is already buffered.
fn record_header_ready<R: Read>(
    source: &mut Source<R>,
    path: &Path,
    record_header: usize,
) -> Result<bool> {
    if source.available() >= record_header {
        return Ok(true);
    }
    let offset = source.offset;
    let have = source.fill(record_header).map_err(|e| io_err(path, e))?;
    if have == 0 {
        return match source.shrunk() {
            Some(cut) => Err(shrunk(path, cut)),
            None => Ok(false),
        };
    }
    if have < record_header {
        return Err(truncated(
            path,
            offset,
            format!("record header cut short: {have} of {record_header} bytes"),
        ));
    }
    Ok(true)
}

/// The notes a record's header deserves: a fraction of a second that is a
/// second or more (read anyway, as libpcap does), lengths beyond the
/// snaplen (read anyway, as libpcap does), swapped (pre-2.3 order), or an
/// original length shorter than what was captured.
fn note_record_lengths(
    notes: &mut Notes,
    file: &PcapFile,
    (number, offset): (u64, u64),
    record: &Record,
) {
    let (incl_len, orig_len) = (record.incl_len, record.orig_len);
    if let Some(ts_frac) = record.ts_frac {
        let unit = if file.nanos { "nano" } else { "micro" };
        notes.add(|| {
            format!(
                "frame {number} (byte {offset}): timestamp has {ts_frac} {unit}seconds, a second or more (tcpdump prints it as invalid); read as {}.{:09} seconds, the whole seconds carried over",
                record.timestamp.as_secs(),
                record.timestamp.subsec_nanos()
            )
        });
    }
    if incl_len > file.note_above {
        notes.add(|| {
            format!(
                "frame {number} (byte {offset}): {incl_len} captured bytes exceed the file's snaplen {}; read anyway, as libpcap does",
                file.snaplen
            )
        });
    }
    if record.swapped_maybe {
        notes.add(|| {
            format!(
                "frame {number} (byte {offset}): lengths in the order before pcap 2.3 (captured {orig_len} > original {incl_len}); swapped, as libpcap does"
            )
        });
    } else if orig_len < incl_len {
        notes.add(|| {
            format!(
                "frame {number} (byte {offset}): original length {orig_len} is less than the {incl_len} captured bytes"
            )
        });
    }
}

/// A record's timestamp. A fraction of a second or more (a microsecond
/// field of 1,000,000 or more, a nanosecond one of 1,000,000,000 or more)
/// is not refused, as libpcap does not refuse it (tcpdump prints the time
/// with `(invalid us)`): its whole seconds are carried into the seconds, and
/// the second value is true so that the reader notes it.
fn record_timestamp(file: &PcapFile, ts_sec: u32, ts_frac: u32) -> (Duration, bool) {
    let per_second = if file.nanos { 1_000_000_000 } else { 1_000_000 };
    let scale = 1_000_000_000 / per_second;
    let carried = u64::from(ts_frac / per_second);
    let nanos = ts_frac % per_second * scale;
    (
        Duration::new(u64::from(ts_sec) + carried, nanos),
        carried > 0,
    )
}

#[cfg(test)]
mod tests {
    use super::super::CaptureReader;
    use super::super::tests::{pcap_header, read_all, record};
    use super::*;

    #[test]
    fn reads_records_with_offsets() {
        let mut file = pcap_header();
        file.extend(record(3, 3, b"abc"));
        file.extend(record(2, 60, b"de"));
        let frames = read_all(&file).unwrap();
        assert_eq!(
            frames,
            vec![(1, 24, b"abc".to_vec()), (2, 43, b"de".to_vec())]
        );
    }

    fn header_with(magic: u32, version: (u16, u16), link_field: u32) -> Vec<u8> {
        let mut h = pcap_header();
        h[0..4].copy_from_slice(&magic.to_le_bytes());
        h[4..6].copy_from_slice(&version.0.to_le_bytes());
        h[6..8].copy_from_slice(&version.1.to_le_bytes());
        h[20..24].copy_from_slice(&link_field.to_le_bytes());
        h
    }

    #[test]
    fn fcs_bits_of_the_link_type_field_are_masked_and_the_fcs_stripped() {
        // FCS length 2 × 16 bits; one whole frame, one cut by the snaplen
        // inside its FCS, one cut before it.
        let mut file = header_with(0xa1b2c3d4, (2, 4), 0x2400_0001);
        file.extend(record(8, 8, b"abcdFCS!"));
        file.extend(record(6, 8, b"abcdFC"));
        file.extend(record(3, 8, b"abc"));
        let mut reader = CaptureReader::new(&file[..], "fcs.pcap").unwrap();
        assert_eq!(reader.link_type(), Some(1));
        let mut got = Vec::new();
        while let Some(f) = reader.next_frame().unwrap() {
            got.push((f.data.to_vec(), f.orig_len));
        }
        assert_eq!(
            got,
            [
                (b"abcd".to_vec(), 4),
                (b"abcd".to_vec(), 4),
                (b"abc".to_vec(), 4)
            ]
        );
        // Without the "present" bit the length bits mean nothing.
        let file = header_with(0xa1b2c3d4, (2, 4), 0x2000_0001);
        let reader = CaptureReader::new(&file[..], "x.pcap").unwrap();
        assert_eq!(reader.link_type(), Some(1));
        let err = CaptureReader::new(&header_with(0xa1b2c3d4, (2, 4), 0x0001_0001)[..], "r.pcap")
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "r.pcap: link-type field 0x00010001 has reserved bits 0x00010000 set (at byte 0)"
        );
    }

    #[test]
    fn modified_records_have_24_byte_headers_in_both_byte_orders() {
        let mut le = header_with(0xa1b2cd34, (2, 4), 1);
        let mut rec = record(3, 3, b"");
        rec.extend([1, 0, 0, 0, 8, 0, 0, 0]);
        rec.extend(b"xyz");
        le.extend(&rec);
        le.extend(&rec);
        let frames = read_all(&le).unwrap();
        assert_eq!(frames, [(1, 24, b"xyz".to_vec()), (2, 51, b"xyz".to_vec())]);
        // The same file written big-endian.
        let mut be = Vec::new();
        be.extend(0xa1b2cd34u32.to_be_bytes());
        be.extend(2u16.to_be_bytes());
        be.extend(4u16.to_be_bytes());
        be.extend([0; 8]);
        be.extend(MAX_SNAPLEN.to_be_bytes());
        be.extend(1u32.to_be_bytes());
        for word in [1u32, 2, 3, 3, 1] {
            be.extend(word.to_be_bytes());
        }
        be.extend([8, 0, 0, 0]);
        be.extend(b"xyz");
        assert_eq!(read_all(&be).unwrap(), [(1, 24, b"xyz".to_vec())]);
    }

    #[test]
    fn versions_follow_libpcap() {
        // A record in the order before 2.3: "captured" 8 first, then the
        // 3 bytes it really holds. Swapped before 2.3, in 2.3 (8 > 3) and
        // in DG/UX's 543.0; read as written in 2.4 (and then cut short).
        for (version, outcome) in [
            ((2, 0), "read"),
            ((2, 2), "read"),
            ((2, 3), "read"),
            ((543, 0), "read"),
            (
                (2, 4),
                "record cut short: claims 8 captured bytes, only 3 left",
            ),
            (
                (1, 0),
                "unsupported pcap version 1.0 (libpcap reads 2.0 to 2.4)",
            ),
            ((2, 5), "unsupported pcap version 2.5"),
            ((3, 0), "unsupported pcap version 3.0"),
            ((543, 1), "unsupported pcap version 543.1"),
        ] {
            let mut file = header_with(0xa1b2c3d4, version, 1);
            file.extend(record(8, 3, b"abc"));
            match read_all(&file) {
                Ok(frames) => {
                    assert_eq!(outcome, "read", "{version:?}");
                    assert_eq!(frames, [(1, 24, b"abc".to_vec())]);
                }
                Err(e) => assert!(e.to_string().contains(outcome), "{version:?}: {e}"),
            }
        }
    }

    #[test]
    fn huge_captured_length_is_refused_like_libpcap() {
        let mut file = pcap_header();
        file.extend(record(u32::MAX, 10, b""));
        let err = read_all(&file).unwrap_err().to_string();
        assert_eq!(
            err,
            "t.pcap: invalid packet capture length 4294967295, bigger than maximum of 262144 (at byte 24)"
        );
    }

    #[test]
    fn cut_short_record_names_the_offset() {
        let mut file = pcap_header();
        file.extend(record(10, 10, b"abc"));
        let err = read_all(&file).unwrap_err().to_string();
        assert!(
            err.contains("record cut short: claims 10 captured bytes, only 3 left"),
            "{err}"
        );
        assert!(err.contains("at byte 24"), "{err}");
    }

    /// libpcap reads a fraction of a second that is a second or more
    /// (tcpdump's `timestamp_invalid_micro` test): lola reads the frame, its
    /// whole seconds carried into the seconds, and names it in a note.
    #[test]
    fn a_second_or_more_in_the_fraction_is_read_with_a_note() {
        for (magic, frac, seconds, nanos, unit) in [
            (0xa1b2c3d4u32, 1_000_000u32, 8, 0, "1000000 microseconds"),
            (
                0xa1b2c3d4,
                u32::MAX,
                4301,
                967_295_000,
                "4294967295 microseconds",
            ),
            (
                0xa1b2_3c4d,
                2_147_483_648,
                9,
                147_483_648,
                "2147483648 nanoseconds",
            ),
        ] {
            let mut file = header_with(magic, (2, 4), 1);
            file.extend(record(3, 3, b"abc"));
            let mut rec = record(2, 2, b"de");
            rec[0..4].copy_from_slice(&7u32.to_le_bytes());
            rec[4..8].copy_from_slice(&frac.to_le_bytes());
            file.extend(rec);
            let mut reader = CaptureReader::new(&file[..], "t.pcap").unwrap();
            reader.next_frame().unwrap().unwrap();
            let second = reader.next_frame().unwrap().unwrap();
            assert_eq!(second.timestamp, Duration::new(seconds, nanos), "{unit}");
            assert_eq!(second.data, b"de");
            assert!(reader.next_frame().unwrap().is_none());
            assert_eq!(
                reader.notes(),
                [format!(
                    "frame 2 (byte 43): timestamp has {unit}, a second or more (tcpdump prints it as invalid); read as {seconds}.{nanos:09} seconds, the whole seconds carried over"
                )]
            );
        }
    }
}
