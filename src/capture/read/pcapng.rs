//! pcapng, read block by block: each block's length checked against
//! [`MAX_BLOCK`] and against what is left of the file before it is asked of
//! the [`Source`], its bytes then parsed by [`crate::capture::pcapng`]
//! (imported here as `parse`); sections, interfaces and statistics kept as
//! they come, packets handed out as frames.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use super::frame::{RawFrame, Visit};
use super::notes::{Notes, io_err, malformed, shrunk, truncated};
use super::sigbus;
use super::source::Source;
use crate::capture::pcapng::{self as parse, Interface, Order, Section};
use crate::capture::{Drops, MAX_BLOCK, link_type_name, link_type_supported};
use crate::error::{Error, Result};

/// Bytes of an Enhanced Packet Block with no captured bytes and no
/// options: type, length, interface, timestamp (two words), captured and
/// original lengths, and the trailing length.
const EPB_FIXED: usize = 32;
/// Where an Enhanced Packet Block's captured bytes start.
const EPB_DATA: usize = 28;

/// What one block says, read before it changes the reader.
enum Block {
    Section(Order, Section),
    Statistics(parse::Statistics),
    Interface(Interface),
    /// A packet, its time and the link type of its interface.
    Packet(parse::Packet, Duration, u32),
    Other,
}

/// A pcapng file being read: the current section and its interfaces, and
/// what the file has admitted it lost so far.
pub(super) struct PcapNg {
    order: Order,
    section: Section,
    interfaces: Vec<Interface>,
    /// The latest Interface Statistics Block of each (section, interface).
    statistics: Vec<((u64, u32), parse::Statistics)>,
    /// Sections seen, to key statistics by.
    sections: u64,
    /// Sum of `epb_dropcount`.
    dropped_between: u64,
}

impl PcapNg {
    /// Reads the Section Header Block the file starts with.
    pub(super) fn start<R: Read>(source: &mut Source<R>, path: &Path) -> Result<PcapNg> {
        let read = next_block_bytes(source, path, Order { big: false }, true).and_then(|len| {
            parse::section(source.peek(len))
                .and_then(|(order, section)| {
                    whole_block(source.peek(len), order).map(|()| (order, section))
                })
                .map(|section| (len, section))
                .map_err(|e| malformed(path, 0, e))
        });
        // Read from a window the file shrank under: again, from the file
        // as it is now.
        if !source.intact() || read.is_err() && !source.error_stands() {
            return PcapNg::start(source, path);
        }
        let (len, (order, section)) = read?;
        source.consume(len);
        Ok(PcapNg {
            order,
            section,
            interfaces: Vec::new(),
            statistics: Vec::new(),
            sections: 1,
            dropped_between: 0,
        })
    }

    /// What the current section's header says.
    pub(super) fn section(&self) -> &Section {
        &self.section
    }

    /// True when the current section is big-endian.
    pub(super) fn big_endian(&self) -> bool {
        self.order.big
    }

    /// The link type of the current section's first interface, if any yet.
    pub(super) fn link_type(&self) -> Option<u32> {
        self.interfaces.first().map(|i| i.link_type)
    }

    /// The frames the file has admitted it lost so far.
    pub(super) fn drops(&self) -> Drops {
        let (mut interface, mut os) = (0u64, 0u64);
        for (_, stats) in &self.statistics {
            interface = interface.saturating_add(stats.if_dropped.unwrap_or(0));
            os = os.saturating_add(stats.os_dropped.unwrap_or(0));
        }
        Drops {
            interface,
            os,
            between_frames: self.dropped_between,
            kernel: 0,
        }
    }

    /// The next packet block's frame, counted in `frames`, reading the
    /// section, interface and statistics blocks before it; `None` at the
    /// end of the file. With `decodable_only`, a frame of a link type lola
    /// cannot decode is an error.
    #[inline(never)]
    pub(super) fn next_frame<'s, R: Read>(
        &mut self,
        source: &'s mut Source<R>,
        path: &Path,
        frames: &mut u64,
        notes: &mut Notes,
        decodable_only: bool,
    ) -> Result<Option<RawFrame<'s>>> {
        loop {
            let offset = source.offset;
            let read = self.read_block(source, path);
            // Read from a window the file shrank under: again, from the
            // file as it is now.
            if !source.intact() || read.is_err() && !source.error_stands() {
                continue;
            }
            let Some((len, block)) = read? else {
                return match source.shrunk() {
                    Some(cut) => Err(shrunk(path, cut)),
                    None => Ok(None),
                };
            };
            let packet = match block {
                Block::Section(order, section) => {
                    (self.order, self.section) = (order, section);
                    self.interfaces.clear();
                    self.sections += 1;
                    None
                }
                Block::Statistics(stats) => {
                    let key = (self.sections, stats.interface);
                    self.statistics.retain(|(k, _)| *k != key);
                    self.statistics.push((key, stats));
                    None
                }
                Block::Interface(interface) => {
                    self.interfaces.push(interface);
                    None
                }
                Block::Packet(packet, timestamp, link_type) => {
                    if decodable_only && !link_type_supported(link_type) {
                        return Err(Error::UnsupportedLinkType {
                            path: path.to_path_buf(),
                            link_type,
                            name: link_type_name(link_type),
                        });
                    }
                    Some((packet, timestamp, link_type))
                }
                Block::Other => None,
            };
            source.consume(len);
            let Some((packet, timestamp, link_type)) = packet else {
                continue;
            };
            let number = self.count_packet(&packet, offset, frames, notes);
            let captured = packet.data.len() as u32;
            let data = &source.consumed_slice(len)[packet.data];
            return Ok(Some(RawFrame {
                number,
                offset,
                timestamp,
                link_type,
                orig_len: packet.orig_len.max(captured),
                data,
                comment: packet.comment,
                flags: packet.flags,
            }));
        }
    }

    /// Calls `f` with the frame of every Enhanced Packet Block whole in
    /// `bytes`, from its start, that needs none of
    /// [`next_frame`](Self::next_frame)'s care, until one that does (or
    /// another block), and returns how many bytes those blocks took.
    /// `offset` is the file offset of `bytes[0]`; `frames` counts the frames
    /// read. Such a block has a valid length that its end repeats, no
    /// options (a comment, flags or a drop count take the other path), its
    /// captured bytes within the block and no more than its original
    /// length, an interface already described (of a link type lola decodes,
    /// with `decodable_only`) and a timestamp that interface can place; and
    /// no mapped window of the process has lost pages. What `next_frame`
    /// makes of the same block, for a fraction of its work: what dumpcap
    /// writes is read here. `BIG_ENDIAN` is the section's byte order
    /// ([`big_endian`](Self::big_endian)), decided once per run.
    #[inline(always)]
    pub(super) fn plain_run<const BIG_ENDIAN: bool>(
        &self,
        bytes: &[u8],
        offset: u64,
        frames: &mut u64,
        decodable_only: bool,
        f: &mut impl Visit,
    ) -> usize {
        let (order, interfaces) = (Order { big: BIG_ENDIAN }, &self.interfaces[..]);
        let mut at = 0;
        while let Some(rest) = bytes.get(at..)
            && rest.len() >= EPB_FIXED
        {
            let len = order.u32(rest, 4) as usize;
            if order.u32(rest, 0) != parse::ENHANCED_PACKET
                || len < EPB_FIXED
                || !len.is_multiple_of(4)
                || len > rest.len()
                || len > MAX_BLOCK as usize
            {
                break;
            }
            let block = &rest[..len];
            let caplen = order.u32(block, 20) as usize;
            let orig_len = order.u32(block, 24);
            let end = EPB_DATA + caplen;
            if caplen > len - EPB_FIXED
                || end.next_multiple_of(4) != len - 4
                || order.u32(block, len - 4) as usize != len
                || (orig_len as usize) < caplen
                || sigbus::any_lost()
            {
                break;
            }
            let Some(interface) = interfaces.get(order.u32(block, 8) as usize) else {
                break;
            };
            let raw = (u64::from(order.u32(block, 12)) << 32) | u64::from(order.u32(block, 16));
            let Some(timestamp) = interface.timestamp_quickly(raw) else {
                break;
            };
            if decodable_only && !link_type_supported(interface.link_type) {
                break;
            }
            *frames += 1;
            f.frame(&RawFrame {
                number: *frames,
                offset: offset + at as u64,
                timestamp,
                link_type: interface.link_type,
                orig_len,
                data: &block[EPB_DATA..end],
                comment: None,
                flags: None,
            });
            at += len;
        }
        at
    }

    /// Reads and parses the block at the cursor, consuming nothing and
    /// changing nothing: its length and what it says; `None` at the end of
    /// the file.
    fn read_block<R: Read>(
        &self,
        source: &mut Source<R>,
        path: &Path,
    ) -> Result<Option<(usize, Block)>> {
        let offset = source.offset;
        if source.fill(1).map_err(|e| io_err(path, e))? == 0 {
            return Ok(None);
        }
        let len = next_block_bytes(source, path, self.order, false)?;
        let block = source.peek(len);
        // A section header's type reads the same in both byte orders.
        let block_type = self.order.u32(block, 0);
        let bad = |e: String| malformed(path, offset, e);
        let mut order = self.order;
        let mut section = None;
        if block_type == parse::SECTION_HEADER {
            let (new_order, new_section) = parse::section(block).map_err(bad)?;
            order = new_order;
            section = Some(new_section);
        }
        whole_block(block, order).map_err(bad)?;
        let read = match (block_type, section) {
            (parse::SECTION_HEADER, Some(section)) => Block::Section(order, section),
            (parse::INTERFACE_STATISTICS, _) => {
                Block::Statistics(parse::statistics(block, order).map_err(bad)?)
            }
            (parse::INTERFACE_DESCRIPTION, _) => {
                Block::Interface(parse::interface(block, order).map_err(bad)?)
            }
            (parse::ENHANCED_PACKET | parse::PACKET | parse::SIMPLE_PACKET, _) => {
                let (packet, timestamp, link_type) =
                    packet_block(block, block_type, order, &self.interfaces).map_err(bad)?;
                Block::Packet(packet, timestamp, link_type)
            }
            _ => Block::Other,
        };
        Ok(Some((len, read)))
    }

    /// Counts a packet in `frames` and the drops it admits, and notes what
    /// is odd about it; returns its frame number.
    fn count_packet(
        &mut self,
        packet: &parse::Packet,
        offset: u64,
        frames: &mut u64,
        notes: &mut Notes,
    ) -> u64 {
        *frames += 1;
        self.dropped_between = self
            .dropped_between
            .saturating_add(packet.drop_count.unwrap_or(0));
        let number = *frames;
        let captured = packet.data.len() as u32;
        if packet.orig_len < captured {
            notes.add(|| {
                format!(
                    "frame {number} (byte {offset}): original length {} is less than the {captured} captured bytes",
                    packet.orig_len
                )
            });
        }
        if packet.bad_options {
            notes.add(|| {
                format!(
                    "frame {number} (byte {offset}): its options run past the end of the block; ignored"
                )
            });
        }
        number
    }
}

/// Checks the length of the pcapng block at the current position and makes
/// sure it is all in the buffer; returns its length.
fn next_block_bytes<R: Read>(
    source: &mut Source<R>,
    path: &Path,
    order: Order,
    first: bool,
) -> Result<usize> {
    let offset = source.offset;
    let have = source.fill(12).map_err(|e| io_err(path, e))?;
    if have < 12 {
        return Err(truncated(
            path,
            offset,
            format!("block header cut short: {have} of 12 bytes"),
        ));
    }
    let head = source.peek(12);
    let block_type = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    let len_bytes = [head[4], head[5], head[6], head[7]];
    let len = if block_type == parse::SECTION_HEADER {
        // A section header carries its own byte order in the magic that follows.
        match [head[8], head[9], head[10], head[11]] {
            [0x1a, 0x2b, 0x3c, 0x4d] => u32::from_be_bytes(len_bytes),
            [0x4d, 0x3c, 0x2b, 0x1a] => u32::from_le_bytes(len_bytes),
            other => {
                return Err(malformed(
                    path,
                    offset,
                    format!(
                        "section header has bad byte-order magic 0x{}",
                        other.iter().map(|b| format!("{b:02x}")).collect::<String>()
                    ),
                ));
            }
        }
    } else if first {
        return Err(malformed(
            path,
            offset,
            "pcapng file does not start with a section header".into(),
        ));
    } else {
        order.u32(&len_bytes, 0)
    };
    if len < 12 {
        return Err(malformed(
            path,
            offset,
            format!("block length {len} is less than the minimum of 12"),
        ));
    }
    if len % 4 != 0 {
        return Err(malformed(
            path,
            offset,
            format!("block length {len} is not a multiple of 4"),
        ));
    }
    if len > MAX_BLOCK {
        return Err(malformed(
            path,
            offset,
            format!("block length {len} is bigger than the maximum of {MAX_BLOCK}"),
        ));
    }
    let have = source.fill(len as usize).map_err(|e| io_err(path, e))?;
    if have < len as usize {
        return Err(truncated(
            path,
            offset,
            format!("block claims {len} bytes, only {have} left in the file"),
        ));
    }
    Ok(len as usize)
}

/// Checks that a block's trailing length repeats its leading one.
fn whole_block(block: &[u8], order: Order) -> std::result::Result<(), String> {
    let (lead, trail) = (order.u32(block, 4), order.u32(block, block.len() - 4));
    if lead == trail {
        Ok(())
    } else {
        Err(format!(
            "block length {lead} at its start and {trail} at its end differ"
        ))
    }
}

/// A packet block (enhanced, obsolete or simple) with its time and the link
/// type of its interface.
fn packet_block(
    block: &[u8],
    block_type: u32,
    order: Order,
    interfaces: &[Interface],
) -> std::result::Result<(parse::Packet, Duration, u32), String> {
    let Some(first) = interfaces.first() else {
        return Err("packet block before any Interface Description Block".into());
    };
    let packet = match block_type {
        parse::SIMPLE_PACKET => parse::simple_packet(block, order, first.snaplen),
        t => parse::packet(block, order, t == parse::ENHANCED_PACKET),
    }?;
    let Some(interface) = interfaces.get(packet.interface as usize) else {
        return Err(format!(
            "packet on interface {} with no Interface Description Block",
            packet.interface
        ));
    };
    // A simple packet block carries no timestamp.
    let timestamp = match packet.timestamp {
        Some(raw) => interface.timestamp(raw)?,
        None => Duration::ZERO,
    };
    Ok((packet, timestamp, interface.link_type))
}
