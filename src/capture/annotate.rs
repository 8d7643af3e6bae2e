//! A copy of a capture as pcapng with a comment (`opt_comment`, which
//! Wireshark shows as `frame.comment`) added to the frames a caller names.
//!
//! A pcapng input is copied block by block, byte for byte: sections,
//! interfaces (their link types and timestamp resolutions), statistics,
//! name resolution and every option stay; a packet block that gets a
//! comment keeps its options (earlier comments included) and gains one
//! more `opt_comment` before its end-of-options. A pcap input becomes one
//! section with one interface of its link type, snaplen and timestamp
//! resolution (micro- or nanoseconds), and one Enhanced Packet Block per
//! record. Frames are numbered as [`CaptureReader`](super::CaptureReader)
//! and Wireshark number them: every packet block or record, from 1. A
//! block or record cut short at the end of the input is left out, as the
//! reader stops before it.

use std::io::{self, Read, Write};

use super::pcapng::{self, Order};
use super::{MAX_BLOCK, MAX_SNAPLEN};

/// What [`annotate_capture`] wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Annotated {
    /// Frames copied.
    pub frames: u64,
    /// Frames that got a comment.
    pub commented: u64,
    /// Frames named for a comment that could not carry one (a pcapng
    /// Simple Packet Block has no options, and a malformed block is
    /// copied as it is).
    pub uncommented: u64,
}

const OPT_COMMENT: u16 = 1;
/// The longest text an option can hold (its length is 16 bits).
const MAX_OPTION: usize = u16::MAX as usize;

fn invalid(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

/// Reads exactly `buf.len()` bytes; `Ok(false)` when the input ends first
/// (a cut at the end: what came before is whole).
fn read_whole(input: &mut impl Read, buf: &mut [u8]) -> io::Result<bool> {
    let mut at = 0;
    while at < buf.len() {
        match input.read(&mut buf[at..]) {
            Ok(0) => return Ok(false),
            Ok(n) => at += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Copies the capture in `input` (pcap or pcapng) to `out` as pcapng, with
/// `comment(n)` added to frame `n` when it says one.
///
/// ```
/// use std::borrow::Cow;
/// use lola::capture::{annotate_capture, encode_capture, CaptureFrame, CaptureReader, Format};
/// let frame = CaptureFrame { timestamp: Default::default(), data: Cow::Borrowed(&[0u8; 60][..]), comment: None, flags: None };
/// let mut pcap = Vec::new();
/// encode_capture(&mut pcap, Format::Pcap, &[frame.clone(), frame]).unwrap();
/// let mut out = Vec::new();
/// let done = annotate_capture(&pcap[..], &mut out, |n| (n == 2).then(|| "second".to_string())).unwrap();
/// assert_eq!((done.frames, done.commented), (2, 1));
/// let mut reader = CaptureReader::new(&out[..], "mem.pcapng").unwrap();
/// assert_eq!(reader.next_frame().unwrap().unwrap().comment, None);
/// assert_eq!(reader.next_frame().unwrap().unwrap().comment.as_deref(), Some("second"));
/// ```
pub fn annotate_capture(
    mut input: impl Read,
    out: &mut impl Write,
    comment: impl FnMut(u64) -> Option<String>,
) -> io::Result<Annotated> {
    let mut magic = [0u8; 4];
    if !read_whole(&mut input, &mut magic)? {
        return Err(invalid(
            "not a capture file: shorter than its magic number".into(),
        ));
    }
    if u32::from_le_bytes(magic) == pcapng::SECTION_HEADER {
        copy_pcapng(magic, input, out, comment)
    } else {
        pcap_to_pcapng(magic, input, out, comment)
    }
}

/// The comment option's bytes: code, length, text padded to 32 bits.
fn comment_option(order: Order, text: &str) -> Vec<u8> {
    let mut end = text.len().min(MAX_OPTION);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let text = &text.as_bytes()[..end];
    let mut o = Vec::with_capacity(4 + text.len() + 3);
    o.extend(put16(order, OPT_COMMENT));
    o.extend(put16(order, text.len() as u16));
    o.extend(text);
    o.resize(o.len().next_multiple_of(4), 0);
    o
}

fn put16(order: Order, v: u16) -> [u8; 2] {
    if order.big {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    }
}

fn put32(order: Order, v: u32) -> [u8; 4] {
    if order.big {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    }
}

/// Every block of a pcapng copied; packet blocks named get a comment.
fn copy_pcapng(
    magic: [u8; 4],
    mut input: impl Read,
    out: &mut impl Write,
    mut comment: impl FnMut(u64) -> Option<String>,
) -> io::Result<Annotated> {
    let mut done = Annotated::default();
    let mut order = Order { big: false };
    let mut head = [0u8; 12];
    head[..4].copy_from_slice(&magic);
    let mut have = 4;
    let mut block = Vec::new();
    loop {
        if !read_whole(&mut input, &mut head[have..8])? {
            break;
        }
        have = 0;
        let kind = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        if kind == pcapng::SECTION_HEADER {
            // The byte order is the section's: read its magic first.
            if !read_whole(&mut input, &mut head[8..12])? {
                break;
            }
            order = Order {
                big: head[8..12] == [0x1a, 0x2b, 0x3c, 0x4d],
            };
        }
        let kind = order.u32(&head, 0);
        let len = order.u32(&head, 4);
        if len < 12 || !len.is_multiple_of(4) || len > MAX_BLOCK {
            return Err(invalid(format!(
                "pcapng block of type {kind} claims {len} bytes"
            )));
        }
        let start = if kind == pcapng::SECTION_HEADER {
            12
        } else {
            8
        };
        block.clear();
        block.extend_from_slice(&head[..start]);
        block.resize(len as usize, 0);
        if !read_whole(&mut input, &mut block[start..])? {
            break;
        }
        let text = match kind {
            pcapng::ENHANCED_PACKET | pcapng::PACKET | pcapng::SIMPLE_PACKET => {
                done.frames += 1;
                comment(done.frames)
            }
            _ => None,
        };
        match text.map(|t| with_comment(&block, order, kind, &t)) {
            Some(Some(commented)) => {
                done.commented += 1;
                out.write_all(&commented)?;
            }
            Some(None) => {
                done.uncommented += 1;
                out.write_all(&block)?;
            }
            None => out.write_all(&block)?,
        }
    }
    Ok(done)
}

/// An Enhanced (or obsolete) Packet Block with `text` added as its last
/// comment; `None` when the block has no room for options (a Simple Packet
/// Block) or its lengths do not add up.
fn with_comment(block: &[u8], order: Order, kind: u32, text: &str) -> Option<Vec<u8>> {
    if kind == pcapng::SIMPLE_PACKET || block.len() < 32 {
        return None;
    }
    // Both blocks: header (8), interface and drops or flags (4), timestamp
    // (8), captured and original lengths (8), then the padded data.
    let captured = order.u32(block, 20) as usize;
    let end = block.len() - 4;
    let options = 28usize.checked_add(captured.next_multiple_of(4))?;
    if options > end {
        return None;
    }
    // The options kept: every one up to the end-of-options (or to where
    // they stop making sense).
    let mut at = options;
    while at + 4 <= end {
        let code = order.u16(block, at);
        let len = order.u16(block, at + 2) as usize;
        let next = at + 4 + len.next_multiple_of(4);
        if code == 0 || next > end {
            break;
        }
        at = next;
    }
    let mut b = Vec::with_capacity(at + text.len() + 16);
    b.extend_from_slice(&block[..at]);
    b.extend(comment_option(order, text));
    b.extend([0u8; 4]);
    let len = (b.len() + 4) as u32;
    b.extend(put32(order, len));
    b[4..8].copy_from_slice(&put32(order, len));
    Some(b)
}

/// A pcap file's records as one pcapng section and interface.
fn pcap_to_pcapng(
    magic: [u8; 4],
    mut input: impl Read,
    out: &mut impl Write,
    mut comment: impl FnMut(u64) -> Option<String>,
) -> io::Result<Annotated> {
    // (magic as little-endian u32, file big-endian, nanoseconds, record header length)
    let (big, nanos, record) = match u32::from_le_bytes(magic) {
        0xa1b2_c3d4 => (false, false, 16),
        0xd4c3_b2a1 => (true, false, 16),
        0xa1b2_3c4d => (false, true, 16),
        0x4d3c_b2a1 => (true, true, 16),
        // Kuznetzov's modified pcap: 8 more bytes per record header.
        0xa1b2_cd34 => (false, false, 24),
        0x34cd_b2a1 => (true, false, 24),
        m => {
            return Err(invalid(format!(
                "not a capture file: bad magic number 0x{m:08x}"
            )));
        }
    };
    let from = Order { big };
    let mut header = [0u8; 24];
    header[..4].copy_from_slice(&magic);
    if !read_whole(&mut input, &mut header[4..])? {
        return Err(invalid("pcap file header cut short".into()));
    }
    let snaplen = from.u32(&header, 16);
    let link_field = from.u32(&header, 20);
    // libpcap's LT_FCS_LENGTH_PRESENT: the top nibble counts 16-bit words
    // of FCS at the end of each frame (pcapng's if_fcslen, in bytes).
    let fcs = (link_field & 0x0400_0000 != 0).then(|| ((link_field >> 28) * 2) as u8);
    let to = Order { big: false };
    // libpcap's lengths_swapped: before 2.3 the original length came
    // first; in 2.3 either order, the captured one being the smaller.
    let (major, minor) = (from.u16(&header, 4), from.u16(&header, 6));
    let swapped = matches!((major, minor), (2, 0..=2) | (543, 0));
    let maybe_swapped = (major, minor) == (2, 3);
    out.write_all(&section_header())?;
    out.write_all(&interface(link_field & 0xFFFF, snaplen, nanos, fcs))?;
    let mut done = Annotated::default();
    let mut head = [0u8; 24];
    let mut data = Vec::new();
    loop {
        if !read_whole(&mut input, &mut head[..record])? {
            break;
        }
        let (secs, frac) = (from.u32(&head, 0), from.u32(&head, 4));
        let (mut captured, mut original) = (from.u32(&head, 8), from.u32(&head, 12));
        if swapped || (maybe_swapped && captured > original) {
            std::mem::swap(&mut captured, &mut original);
        }
        // The reader's bound, generous for files whose snaplen lies.
        if captured > MAX_BLOCK.max(MAX_SNAPLEN) {
            return Err(invalid(format!(
                "record {} claims {captured} captured bytes",
                done.frames + 1
            )));
        }
        data.clear();
        data.resize(captured as usize, 0);
        if !read_whole(&mut input, &mut data)? {
            break;
        }
        done.frames += 1;
        let unit: u64 = if nanos { 1_000_000_000 } else { 1_000_000 };
        // A fraction of a second or more carries over, as the reader reads it.
        let ts = u64::from(secs) * unit + u64::from(frac);
        let mut b = Vec::with_capacity(32 + data.len() + 64);
        b.extend(put32(to, pcapng::ENHANCED_PACKET));
        b.extend([0u8; 4]);
        b.extend(put32(to, 0));
        b.extend(put32(to, (ts >> 32) as u32));
        b.extend(put32(to, ts as u32));
        b.extend(put32(to, captured));
        b.extend(put32(to, original.max(captured)));
        b.extend_from_slice(&data);
        b.resize(b.len().next_multiple_of(4), 0);
        if let Some(text) = comment(done.frames) {
            b.extend(comment_option(to, &text));
            b.extend([0u8; 4]);
            done.commented += 1;
        }
        let len = (b.len() + 4) as u32;
        b.extend(put32(to, len));
        b[4..8].copy_from_slice(&put32(to, len));
        out.write_all(&b)?;
    }
    Ok(done)
}

/// A little-endian Section Header Block of unknown length naming lola.
fn section_header() -> Vec<u8> {
    let to = Order { big: false };
    let app = b"lola";
    let mut b = Vec::new();
    b.extend(put32(to, pcapng::SECTION_HEADER));
    b.extend([0u8; 4]);
    b.extend(put32(to, 0x1a2b_3c4d));
    b.extend(put16(to, 1));
    b.extend(put16(to, 0));
    b.extend(u64::MAX.to_le_bytes());
    // shb_userappl
    b.extend(put16(to, 4));
    b.extend(put16(to, app.len() as u16));
    b.extend(app);
    b.resize(b.len().next_multiple_of(4), 0);
    b.extend([0u8; 4]);
    let len = (b.len() + 4) as u32;
    b.extend(put32(to, len));
    b[4..8].copy_from_slice(&put32(to, len));
    b
}

/// An Interface Description Block: `link_type`, `snaplen`, `if_tsresol` 9
/// (nanoseconds) or the default 6 (microseconds), and `if_fcslen` when the
/// frames end with a frame check sequence of that many bytes.
fn interface(link_type: u32, snaplen: u32, nanos: bool, fcs: Option<u8>) -> Vec<u8> {
    let to = Order { big: false };
    let mut b = Vec::new();
    b.extend(put32(to, pcapng::INTERFACE_DESCRIPTION));
    b.extend([0u8; 4]);
    b.extend(put16(to, link_type as u16));
    b.extend(put16(to, 0));
    b.extend(put32(to, snaplen));
    if nanos {
        // if_tsresol = 9, padded.
        b.extend(put16(to, 9));
        b.extend(put16(to, 1));
        b.extend([9, 0, 0, 0]);
    }
    if let Some(bytes) = fcs {
        // if_fcslen
        b.extend(put16(to, 13));
        b.extend(put16(to, 1));
        b.extend([bytes, 0, 0, 0]);
    }
    if nanos || fcs.is_some() {
        b.extend([0u8; 4]);
    }
    let len = (b.len() + 4) as u32;
    b.extend(put32(to, len));
    b[4..8].copy_from_slice(&put32(to, len));
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian section, one Ethernet interface, then `blocks`.
    fn pcapng(blocks: &[Vec<u8>]) -> Vec<u8> {
        let mut b = section_header();
        b.extend(interface(1, 65535, true, None));
        for block in blocks {
            b.extend(block);
        }
        b
    }

    fn simple_packet(data: &[u8]) -> Vec<u8> {
        let to = Order { big: false };
        let mut b = Vec::new();
        b.extend(put32(to, pcapng::SIMPLE_PACKET));
        b.extend([0u8; 4]);
        b.extend(put32(to, data.len() as u32));
        b.extend(data);
        b.resize(b.len().next_multiple_of(4), 0);
        let len = (b.len() + 4) as u32;
        b.extend(put32(to, len));
        b[4..8].copy_from_slice(&put32(to, len));
        b
    }

    #[test]
    fn a_simple_packet_is_counted_and_copied_but_cannot_carry_a_comment() {
        let input = pcapng(&[simple_packet(&[0; 60])]);
        let mut out = Vec::new();
        let done = annotate_capture(&input[..], &mut out, |_| Some("x".into())).unwrap();
        assert_eq!((done.frames, done.commented, done.uncommented), (1, 0, 1));
        assert_eq!(out, input, "copied byte for byte");
    }

    #[test]
    fn a_block_cut_at_the_end_is_left_out() {
        let mut input = pcapng(&[simple_packet(&[0; 60])]);
        let whole = input.len();
        input.extend(&simple_packet(&[1; 60])[..30]);
        let mut out = Vec::new();
        let done = annotate_capture(&input[..], &mut out, |_| None).unwrap();
        assert_eq!((done.frames, out.len()), (1, whole));
    }

    #[test]
    fn a_comment_longer_than_an_option_holds_is_cut_at_a_character() {
        let option = comment_option(Order { big: false }, &"é".repeat(40_000));
        let len = u16::from_le_bytes([option[2], option[3]]) as usize;
        assert_eq!(len, 65_534, "the last whole two-byte character");
        assert_eq!(option.len(), 4 + len.next_multiple_of(4));
    }
}
