//! The few fields lola needs from pcapng blocks, parsed here rather than by
//! pcap-file.
//!
//! pcap-file 3.0.0-rc.3 refuses legal files that libpcap and tshark read:
//! it calls `str::from_utf8(..)?` on every text option (`opt_comment`,
//! `shb_hardware`, `if_name`, ...), so one non-UTF-8 byte from an older tool
//! fails the whole block; it refuses an Interface Description Block whose
//! reserved field is not zero (`InvalidReservedField`), where the pcapng
//! spec says readers must ignore it; its `InterfaceTsResolution::new` stops
//! at 10^-9 and 2^-29, so picosecond (10^-12) and 2^-32 interfaces fail; and
//! it refuses an Enhanced Packet Block whose original length is less than
//! its captured length. lola reads each block itself, with libpcap's
//! (`sf-pcapng.c`) rules for what is fatal.
//!
//! Every function here takes one whole block (header, body and trailing
//! length), whose length the caller has already checked against the file.

use std::time::Duration;

/// Section Header Block type (the same bytes in both byte orders).
pub const SECTION_HEADER: u32 = 0x0A0D_0D0A;
/// Interface Description Block type.
pub const INTERFACE_DESCRIPTION: u32 = 1;
/// Obsolete Packet Block type.
pub const PACKET: u32 = 2;
/// Simple Packet Block type.
pub const SIMPLE_PACKET: u32 = 3;
/// Enhanced Packet Block type.
pub const ENHANCED_PACKET: u32 = 6;
/// Interface Statistics Block.
pub const INTERFACE_STATISTICS: u32 = 5;

const OPT_END: u16 = 0;
const OPT_COMMENT: u16 = 1;
const SHB_HARDWARE: u16 = 2;
const SHB_OS: u16 = 3;
const SHB_USERAPPL: u16 = 4;
const IF_TSRESOL: u16 = 9;
const IF_TSOFFSET: u16 = 14;
const EPB_FLAGS: u16 = 2;
const EPB_DROPCOUNT: u16 = 4;
const ISB_IFRECV: u16 = 4;
const ISB_IFDROP: u16 = 5;
const ISB_OSDROP: u16 = 7;

/// A section's byte order, read from its header's byte-order magic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Order {
    /// Big-endian (magic bytes `1a 2b 3c 4d`).
    pub big: bool,
}

impl Order {
    #[inline]
    pub fn u16(self, b: &[u8], at: usize) -> u16 {
        let v = [b[at], b[at + 1]];
        if self.big {
            u16::from_be_bytes(v)
        } else {
            u16::from_le_bytes(v)
        }
    }

    #[inline]
    pub fn u32(self, b: &[u8], at: usize) -> u32 {
        let v = [b[at], b[at + 1], b[at + 2], b[at + 3]];
        if self.big {
            u32::from_be_bytes(v)
        } else {
            u32::from_le_bytes(v)
        }
    }

    fn u64(self, b: &[u8], at: usize) -> u64 {
        let mut v = [0; 8];
        v.copy_from_slice(&b[at..at + 8]);
        if self.big {
            u64::from_be_bytes(v)
        } else {
            u64::from_le_bytes(v)
        }
    }
}

/// What a Section Header Block says about its section.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Section {
    /// pcapng version, major and minor (1.0 or 1.2: the ones libpcap and
    /// tshark read).
    pub version: (u16, u16),
    /// `shb_hardware`, with bytes that are not UTF-8 shown as `\xNN`.
    pub hardware: Option<String>,
    /// `shb_os`, likewise.
    pub os: Option<String>,
    /// `shb_userappl` (the program that wrote the section), likewise.
    pub application: Option<String>,
    /// `opt_comment`s of the section, likewise.
    pub comments: Vec<String>,
}

/// Parses a Section Header Block: its byte order, version and text options.
/// Versions other than 1.0 and 1.2 are refused, as libpcap and tshark do.
pub fn section(block: &[u8]) -> Result<(Order, Section), String> {
    if block.len() < 28 {
        return Err(format!(
            "section header block of {} bytes is shorter than the 28 its fixed fields need",
            block.len()
        ));
    }
    let order = match block[8..12] {
        [0x1a, 0x2b, 0x3c, 0x4d] => Order { big: true },
        [0x4d, 0x3c, 0x2b, 0x1a] => Order { big: false },
        _ => {
            return Err(format!(
                "section header has bad byte-order magic 0x{}",
                hex(&block[8..12])
            ));
        }
    };
    let version = (order.u16(block, 12), order.u16(block, 14));
    if !(version.0 == 1 && (version.1 == 0 || version.1 == 2)) {
        return Err(format!(
            "unsupported pcapng version {}.{} (libpcap and tshark read 1.0 and 1.2)",
            version.0, version.1
        ));
    }
    let mut section = Section {
        version,
        ..Section::default()
    };
    // libpcap reads no section option; a damaged one costs only the options.
    let _ = options(&block[24..block.len() - 4], order, |code, value| {
        let text = Some(text(value));
        match code {
            OPT_COMMENT => section.comments.extend(text),
            SHB_HARDWARE => section.hardware = text,
            SHB_OS => section.os = text,
            SHB_USERAPPL => section.application = text,
            _ => {}
        }
        Ok(())
    });
    Ok((order, section))
}

/// How finely an interface's timestamps count (`if_tsresol`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// 10^-n seconds (n ≤ 19, libpcap's limit: 10^19 is the largest power
    /// of ten a u64 holds).
    Decimal(u8),
    /// 2^-n seconds (n ≤ 63).
    Binary(u8),
}

impl Resolution {
    /// Timestamp units per second.
    fn per_second(self) -> u64 {
        match self {
            Resolution::Decimal(n) => 10u64.pow(u32::from(n)),
            Resolution::Binary(n) => 1u64 << n,
        }
    }
}

/// What an Interface Description Block says about its interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interface {
    /// LINKTYPE_ of the frames captured on it.
    pub link_type: u32,
    /// Its snapshot length (0: none).
    pub snaplen: u32,
    /// `if_tsresol` (default 10^-6).
    pub resolution: Resolution,
    /// `if_tsoffset`: seconds added to every timestamp.
    pub offset: i64,
}

impl Interface {
    /// A raw 64-bit timestamp as time since the Unix epoch. Like libpcap
    /// (the reference is `tcpdump -tt --nano`), fractions finer than a
    /// nanosecond are cut, not rounded: 10^-12 and 2^-32 units both
    /// truncate towards zero.
    ///
    /// ```text
    /// 10^-12: 1_000_000_000_999 units → 1 s + 999 ps → 1.000000000 s
    /// 2^-32:  0xffff_ffff units       → 0.999999999767... s → 0.999999999 s
    /// ```
    /// [`timestamp`](Self::timestamp), with the common units (10^-6 and
    /// 10^-9, no offset) divided by a constant; `None` where `timestamp`
    /// refuses. The pcapng reader's loop over packet blocks.
    #[inline(always)]
    pub(crate) fn timestamp_quickly(&self, raw: u64) -> Option<Duration> {
        match (self.resolution, self.offset) {
            (Resolution::Decimal(6), 0) => Some(Duration::new(
                raw / 1_000_000,
                (raw % 1_000_000) as u32 * 1000,
            )),
            (Resolution::Decimal(9), 0) => Some(Duration::new(
                raw / 1_000_000_000,
                (raw % 1_000_000_000) as u32,
            )),
            _ => self.timestamp(raw).ok(),
        }
    }

    pub fn timestamp(&self, raw: u64) -> Result<Duration, String> {
        let per_second = self.resolution.per_second();
        let frac = u128::from(raw % per_second);
        // frac < per_second ≤ 2^63, so frac × 10^9 fits a u128 and the
        // quotient is less than 10^9.
        let nanos = (frac * 1_000_000_000 / u128::from(per_second)) as u32;
        let secs = i128::from(raw / per_second) + i128::from(self.offset);
        let secs = u64::try_from(secs).map_err(|_| {
            format!(
                "timestamp is {secs} s from 1970 after the interface's if_tsoffset of {} s",
                self.offset
            )
        })?;
        Ok(Duration::new(secs, nanos))
    }
}

/// Parses an Interface Description Block. Its reserved field is ignored, as
/// the spec says readers must; a malformed `if_tsresol` or `if_tsoffset` is
/// refused, as libpcap does.
pub fn interface(block: &[u8], order: Order) -> Result<Interface, String> {
    if block.len() < 20 {
        return Err(format!(
            "interface description block of {} bytes is shorter than the 20 its fixed fields need",
            block.len()
        ));
    }
    let mut interface = Interface {
        link_type: u32::from(order.u16(block, 8)),
        snaplen: order.u32(block, 12),
        resolution: Resolution::Decimal(6),
        offset: 0,
    };
    let (mut saw_resolution, mut saw_offset) = (false, false);
    options(&block[16..block.len() - 4], order, |code, value| {
        match code {
            IF_TSRESOL => {
                if value.len() != 1 {
                    return Err(format!(
                        "if_tsresol option has {} bytes, not 1",
                        value.len()
                    ));
                }
                if saw_resolution {
                    return Err("more than one if_tsresol option".into());
                }
                saw_resolution = true;
                let n = value[0] & 0x7f;
                interface.resolution = if value[0] & 0x80 != 0 {
                    if n > 63 {
                        return Err(format!(
                            "if_tsresol 2^-{n} is finer than 2^-63, the finest libpcap reads"
                        ));
                    }
                    Resolution::Binary(n)
                } else {
                    if n > 19 {
                        return Err(format!(
                            "if_tsresol 10^-{n} is finer than 10^-19, the finest libpcap reads"
                        ));
                    }
                    Resolution::Decimal(n)
                };
            }
            IF_TSOFFSET => {
                if value.len() != 8 {
                    return Err(format!(
                        "if_tsoffset option has {} bytes, not 8",
                        value.len()
                    ));
                }
                if saw_offset {
                    return Err("more than one if_tsoffset option".into());
                }
                saw_offset = true;
                interface.offset = order.u64(value, 0) as i64;
            }
            _ => {}
        }
        Ok(())
    })
    .map_err(|e| format!("interface description block: {e}"))?;
    Ok(interface)
}

/// A packet block (enhanced, simple or obsolete), with the frame's bytes as
/// a range of the block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    /// The interface it was captured on.
    pub interface: u32,
    /// Raw timestamp in the interface's units (`None`: a simple packet block
    /// has none).
    pub timestamp: Option<u64>,
    /// Where the captured bytes sit in the block.
    pub data: std::ops::Range<usize>,
    /// Length on the wire, as the block says (may be less than the data).
    pub orig_len: u32,
    /// The first `opt_comment`, with bytes that are not UTF-8 shown as `\xNN`.
    pub comment: Option<String>,
    /// The options ran past the end of the block (they were ignored).
    pub bad_options: bool,
    /// `epb_flags`: direction, reception type, and the writer's word on the
    /// checksum (bit 9: not ready, left to offload).
    pub flags: Option<u32>,
    /// `epb_dropcount`: frames lost between this one and the one before.
    pub drop_count: Option<u64>,
}

/// Parses an Enhanced Packet Block (type 6) or an obsolete Packet Block (2).
pub fn packet(block: &[u8], order: Order, enhanced: bool) -> Result<Packet, String> {
    let name = if enhanced {
        "enhanced packet block"
    } else {
        "packet block"
    };
    if block.len() < 32 {
        return Err(format!(
            "{name} of {} bytes is shorter than the 32 its fixed fields need",
            block.len()
        ));
    }
    let interface = if enhanced {
        order.u32(block, 8)
    } else {
        u32::from(order.u16(block, 8))
    };
    let timestamp = (u64::from(order.u32(block, 12)) << 32) | u64::from(order.u32(block, 16));
    let caplen = order.u32(block, 20);
    let orig_len = order.u32(block, 24);
    let room = block.len() - 32;
    if caplen as usize > room {
        return Err(format!(
            "{name} claims {caplen} captured bytes, more than the {room} its {}-byte block holds",
            block.len()
        ));
    }
    let end = 28 + caplen as usize;
    let options_at = (end + 3) & !3;
    let (mut comment, mut flags, mut drop_count) = (None, None, None);
    let bad_options = options_at < block.len() - 4
        && options(&block[options_at..block.len() - 4], order, |code, value| {
            match (code, value.len()) {
                (OPT_COMMENT, _) if comment.is_none() => comment = Some(text(value)),
                (EPB_FLAGS, 4) if enhanced => flags = Some(order.u32(value, 0)),
                (EPB_DROPCOUNT, 8) if enhanced => drop_count = Some(order.u64(value, 0)),
                _ => {}
            }
            Ok(())
        })
        .is_err();
    Ok(Packet {
        interface,
        timestamp: Some(timestamp),
        data: 28..end,
        orig_len,
        comment,
        bad_options,
        flags,
        drop_count,
    })
}

/// Parses a Simple Packet Block: interface 0, no timestamp, captured length
/// the smaller of the original length and the interface's snaplen (spec
/// and libpcap).
pub fn simple_packet(block: &[u8], order: Order, snaplen: u32) -> Result<Packet, String> {
    if block.len() < 16 {
        return Err(format!(
            "simple packet block of {} bytes is shorter than the 16 its fixed fields need",
            block.len()
        ));
    }
    let orig_len = order.u32(block, 8);
    let caplen = if snaplen == 0 {
        orig_len
    } else {
        orig_len.min(snaplen)
    };
    let room = block.len() - 16;
    if caplen as usize > room {
        return Err(format!(
            "simple packet block holds {room} bytes, less than the {caplen} of its packet"
        ));
    }
    Ok(Packet {
        interface: 0,
        timestamp: None,
        data: 12..12 + caplen as usize,
        orig_len,
        comment: None,
        bad_options: false,
        flags: None,
        drop_count: None,
    })
}

/// What an Interface Statistics Block says (counters it leaves out are `None`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Statistics {
    /// The interface it is about.
    pub interface: u32,
    /// `isb_ifrecv`: frames the interface received.
    pub received: Option<u64>,
    /// `isb_ifdrop`: frames the interface dropped (no buffer).
    pub if_dropped: Option<u64>,
    /// `isb_osdrop`: frames the operating system dropped.
    pub os_dropped: Option<u64>,
}

/// Parses an Interface Statistics Block (type 5).
pub fn statistics(block: &[u8], order: Order) -> Result<Statistics, String> {
    if block.len() < 24 {
        return Err(format!(
            "interface statistics block of {} bytes is shorter than the 24 its fixed fields need",
            block.len()
        ));
    }
    let mut stats = Statistics {
        interface: order.u32(block, 8),
        ..Statistics::default()
    };
    options(&block[20..block.len() - 4], order, |code, value| {
        if value.len() == 8 {
            let n = Some(order.u64(value, 0));
            match code {
                ISB_IFRECV => stats.received = n,
                ISB_IFDROP => stats.if_dropped = n,
                ISB_OSDROP => stats.os_dropped = n,
                _ => {}
            }
        }
        Ok(())
    })
    .map_err(|e| format!("interface statistics block: {e}"))?;
    Ok(stats)
}

/// Calls `each(code, value)` for every option in `bytes` up to
/// `opt_endofopt` or the end; an option that runs past the end is an error.
fn options(
    mut bytes: &[u8],
    order: Order,
    mut each: impl FnMut(u16, &[u8]) -> Result<(), String>,
) -> Result<(), String> {
    while bytes.len() >= 4 {
        let (code, len) = (order.u16(bytes, 0), usize::from(order.u16(bytes, 2)));
        if code == OPT_END {
            break;
        }
        if 4 + len > bytes.len() {
            return Err(format!(
                "option {code} claims {len} bytes, only {} left in its block",
                bytes.len() - 4
            ));
        }
        each(code, &bytes[4..4 + len])?;
        bytes = &bytes[(4 + len + 3).min(bytes.len()) & !3..];
    }
    Ok(())
}

/// Option text as a string: UTF-8 as it is, every other byte as `\xNN`
/// (old tools wrote Latin-1 and other encodings), trailing NUL padding
/// dropped. Nothing is refused for its encoding.
///
/// ```text
/// b"caf\xe9"  → "caf\xe9"
/// b"ok\0\0"   → "ok"
/// ```
pub fn text(bytes: &[u8]) -> String {
    let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let mut s = String::with_capacity(end);
    for chunk in bytes[..end].utf8_chunks() {
        s.push_str(chunk.valid());
        for b in chunk.invalid() {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    s
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LE: Order = Order { big: false };

    #[test]
    fn the_quick_timestamp_is_the_timestamp() {
        let mut raw = 0x2545_f491_4f6c_dd1du64;
        let raws: Vec<u64> = (0..2000)
            .map(|_| {
                raw ^= raw << 13;
                raw ^= raw >> 7;
                raw ^= raw << 17;
                raw
            })
            .chain([
                0,
                1,
                999_999,
                1_000_000,
                999_999_999,
                1_000_000_000,
                u64::MAX,
            ])
            .collect();
        for resolution in [
            Resolution::Decimal(6),
            Resolution::Decimal(9),
            Resolution::Decimal(3),
            Resolution::Decimal(19),
            Resolution::Binary(32),
        ] {
            for offset in [0, 1, -1, i64::MIN, i64::MAX] {
                let i = interface_with(resolution, offset);
                for &raw in &raws {
                    let raw = raw >> (raw % 64);
                    assert_eq!(
                        i.timestamp_quickly(raw),
                        i.timestamp(raw).ok(),
                        "{resolution:?} {offset} {raw}"
                    );
                }
            }
        }
    }

    fn interface_with(resolution: Resolution, offset: i64) -> Interface {
        Interface {
            link_type: 1,
            snaplen: 0,
            resolution,
            offset,
        }
    }

    #[test]
    fn finer_than_nanosecond_timestamps_are_cut_like_libpcap() {
        let pico = interface_with(Resolution::Decimal(12), 0);
        assert_eq!(
            pico.timestamp(1_000_000_000_999).unwrap(),
            Duration::new(1, 0)
        );
        // 10^-12 units overflow a u64 after 213 days: real files carry the
        // date in if_tsoffset.
        let dated = interface_with(Resolution::Decimal(12), 1_764_064_730);
        assert_eq!(
            dated.timestamp(494_285_123_999).unwrap(),
            Duration::new(1_764_064_730, 494_285_123)
        );
        let bin = interface_with(Resolution::Binary(32), 0);
        assert_eq!(
            bin.timestamp(0xffff_ffff).unwrap(),
            Duration::new(0, 999_999_999)
        );
        assert_eq!(
            bin.timestamp(1 << 31).unwrap(),
            Duration::new(0, 500_000_000)
        );
        assert_eq!(
            bin.timestamp((7 << 32) | 1).unwrap(),
            Duration::new(7, 0),
            "2^-32 s is 0.23 ns: cut to 0"
        );
        let micro = interface_with(Resolution::Decimal(6), -10);
        assert_eq!(micro.timestamp(12_000_001).unwrap(), Duration::new(2, 1000));
        assert!(
            micro
                .timestamp(1)
                .unwrap_err()
                .contains("if_tsoffset of -10 s")
        );
    }

    /// A little-endian block of `block_type` around `body`, with its lengths.
    fn block(block_type: u32, body: &[u8]) -> Vec<u8> {
        let len = (12 + body.len()) as u32;
        let mut b = block_type.to_le_bytes().to_vec();
        b.extend(len.to_le_bytes());
        b.extend(body);
        b.extend(len.to_le_bytes());
        b
    }

    fn option(code: u16, value: &[u8]) -> Vec<u8> {
        let mut o = code.to_le_bytes().to_vec();
        o.extend((value.len() as u16).to_le_bytes());
        o.extend(value);
        o.resize(o.len().next_multiple_of(4), 0);
        o
    }

    #[test]
    fn epb_flags_and_dropcount_are_read() {
        let mut body = Vec::new();
        for word in [0u32, 0, 0, 4, 4] {
            body.extend(word.to_le_bytes()); // interface, time, caplen, len
        }
        body.extend([1, 2, 3, 4]);
        body.extend(option(EPB_FLAGS, &0x201u32.to_le_bytes()));
        body.extend(option(EPB_DROPCOUNT, &7u64.to_le_bytes()));
        body.extend(option(OPT_END, &[]));
        let p = packet(&block(ENHANCED_PACKET, &body), LE, true).unwrap();
        assert_eq!((p.flags, p.drop_count), (Some(0x201), Some(7)));
        assert_eq!(p.data.len(), 4);
    }

    #[test]
    fn interface_statistics_are_read() {
        let mut body = Vec::new();
        for word in [1u32, 0, 0] {
            body.extend(word.to_le_bytes()); // interface 1, time
        }
        body.extend(option(ISB_IFRECV, &10u64.to_le_bytes()));
        body.extend(option(ISB_IFDROP, &2u64.to_le_bytes()));
        body.extend(option(ISB_OSDROP, &3u64.to_le_bytes()));
        body.extend(option(OPT_END, &[]));
        let stats = statistics(&block(INTERFACE_STATISTICS, &body), LE).unwrap();
        assert_eq!(
            stats,
            Statistics {
                interface: 1,
                received: Some(10),
                if_dropped: Some(2),
                os_dropped: Some(3)
            }
        );
        assert!(statistics(&block(INTERFACE_STATISTICS, &[0; 4]), LE).is_err());
    }

    #[test]
    fn text_keeps_bytes_that_are_not_utf8_escaped() {
        assert_eq!(text(b"caf\xe9 au lait"), "caf\\xe9 au lait");
        assert_eq!(text("Grüße\0\0".as_bytes()), "Grüße");
        assert_eq!(text(b"\0"), "");
    }

    #[test]
    fn options_stop_at_the_end_marker_and_refuse_overruns() {
        let mut bytes = vec![1, 0, 3, 0, b'a', b'b', b'c', 0, 0, 0, 0, 0, 9, 9];
        let mut seen = Vec::new();
        options(&bytes, LE, |c, v| {
            seen.push((c, v.to_vec()));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, [(1, b"abc".to_vec())]);
        bytes.truncate(6);
        let err = options(&bytes, LE, |_, _| Ok(())).unwrap_err();
        assert_eq!(err, "option 1 claims 3 bytes, only 2 left in its block");
    }

    #[test]
    fn interface_reserved_field_is_ignored_and_bad_resolutions_named() {
        // type 1, length 28, link type 1, reserved 0xbeef, snaplen 0,
        // if_tsresol 10^-12, then the trailing length.
        let mut idb = vec![1, 0, 0, 0, 28, 0, 0, 0, 1, 0, 0xef, 0xbe, 0, 0, 0, 0];
        idb.extend([9, 0, 1, 0, 12, 0, 0, 0, 28, 0, 0, 0]);
        let i = interface(&idb, LE).unwrap();
        assert_eq!((i.link_type, i.resolution), (1, Resolution::Decimal(12)));
        idb[20] = 20;
        assert_eq!(
            interface(&idb, LE).unwrap_err(),
            "interface description block: if_tsresol 10^-20 is finer than 10^-19, the finest libpcap reads"
        );
        idb[20] = 0x80 | 32;
        assert_eq!(
            interface(&idb, LE).unwrap().resolution,
            Resolution::Binary(32)
        );
    }

    /// An EPB on interface 0 holding `data`, then `options` (raw bytes).
    fn epb(caplen: u32, orig_len: u32, data: &[u8], options: &[u8]) -> Vec<u8> {
        let padded = data.len().div_ceil(4) * 4;
        let len = (32 + padded + options.len()) as u32;
        let mut b = Vec::new();
        for word in [6, len, 0, 1, 2, caplen, orig_len] {
            b.extend(u32::to_le_bytes(word));
        }
        b.extend(data);
        b.resize(28 + padded, 0);
        b.extend(options);
        b.extend(len.to_le_bytes());
        b
    }

    #[test]
    fn enhanced_packets_keep_their_comment_and_name_what_does_not_fit() {
        let comment = [
            1, 0, 5, 0, b'c', b'a', b'f', 0xe9, b'!', 0, 0, 0, 0, 0, 0, 0,
        ];
        let p = packet(&epb(3, 2, b"abc", &comment), LE, true).unwrap();
        assert_eq!((p.data, p.orig_len), (28..31, 2));
        assert_eq!(p.timestamp, Some((1 << 32) | 2));
        assert_eq!(p.comment.as_deref(), Some("caf\\xe9!"));
        assert!(!p.bad_options);
        // An option running past the block costs the options, not the frame.
        let p = packet(&epb(3, 3, b"abc", &[1, 0, 99, 0]), LE, true).unwrap();
        assert!(p.bad_options && p.comment.is_none());
        assert_eq!(
            packet(&epb(9, 9, b"abc", &[]), LE, true).unwrap_err(),
            "enhanced packet block claims 9 captured bytes, more than the 4 its 36-byte block holds"
        );
    }

    #[test]
    fn section_versions_other_than_1_0_and_1_2_are_refused() {
        let mut shb = vec![0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a];
        shb.extend([1, 0, 2, 0]);
        shb.extend([0xff; 8]);
        shb.extend([28, 0, 0, 0]);
        assert_eq!(section(&shb).unwrap().1.version, (1, 2));
        shb[14] = 1;
        assert_eq!(
            section(&shb).unwrap_err(),
            "unsupported pcapng version 1.1 (libpcap and tshark read 1.0 and 1.2)"
        );
    }
}
