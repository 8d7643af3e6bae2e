//! The memory-mapped receive ring (`PACKET_RX_RING`, `TPACKET_V3`), as
//! libpcap reads it: the kernel writes frames into blocks of a buffer shared
//! with lola and hands over a whole block at a time, so a flood costs one
//! system call per block rather than one per frame.
//!
//! A block belongs to the kernel while its `block_status` is
//! `TP_STATUS_KERNEL`; the kernel sets `TP_STATUS_USER` when the block is
//! full or its timer ran out ([`RETIRE_MS`]), and lola sets it back to
//! `TP_STATUS_KERNEL` once it has copied every frame out. When every block is
//! lola's, the kernel drops what comes and counts it (`PACKET_STATISTICS`).

use std::io;
use std::mem::size_of;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// The most bytes of one block: a whole frame on `lo` (MTU 65536) fits in
/// one, header included, so frames are kept whole as before.
const BLOCK_SIZE: usize = 128 << 10;
/// How long the kernel fills a block before handing it over although it is
/// not full, in milliseconds: how late a frame may be seen on a quiet link.
pub(super) const RETIRE_MS: u32 = 4;

/// The header before a frame's bytes: tpacket3_hdr, then sockaddr_ll.
const FRAME_HEADER: usize = libc::TPACKET3_HDRLEN;

/// One frame in the ring, borrowed until the next call to [`Ring::next`].
pub(super) struct RingFrame<'a> {
    /// The frame as captured (`tp_snaplen` bytes from `tp_mac`).
    pub data: &'a [u8],
    /// Its length on the wire (`tp_len`).
    pub orig_len: u32,
    /// Kernel receive time (`tp_sec`, `tp_nsec`).
    pub timestamp: Duration,
    /// `tp_status`: `TP_STATUS_CSUMNOTREADY` and the like.
    pub status: u32,
    /// `sll_pkttype`: `PACKET_OUTGOING` for the copy leaving.
    pub pkttype: u8,
}

/// The ring mapped into lola's memory, and where reading stands in it.
pub(super) struct Ring {
    map: NonNull<u8>,
    block_size: usize,
    blocks: usize,
    /// The block read now (or next, when `cursor` is `None`).
    block: usize,
    /// Within `block`: the offset of the next frame and how many are left.
    cursor: Option<(usize, u32)>,
}

// SAFETY: the mapping belongs to the Ring alone (no other handle to it is
// given out beyond a borrow of the Ring), so it may move between threads.
unsafe impl Send for Ring {}

impl Ring {
    /// Switches `fd` to `TPACKET_V3`, asks for a ring of at least
    /// `buffer_size` bytes (whole blocks, two at least) and maps it.
    pub(super) fn map(fd: &OwnedFd, buffer_size: usize) -> io::Result<Ring> {
        set_version(fd.as_raw_fd())?;
        let req = request(buffer_size);
        setsockopt(fd.as_raw_fd(), libc::PACKET_RX_RING, &req)?;
        Ring::map_made(fd, &req)
    }

    /// Maps the ring that `req` made on `fd` (with `PACKET_RX_RING`, by
    /// this process or another holding the same socket).
    pub(super) fn map_made(fd: &OwnedFd, req: &libc::tpacket_req3) -> io::Result<Ring> {
        let (block_size, blocks) = (req.tp_block_size as usize, req.tp_block_nr as usize);
        let len = block_size * blocks;
        // SAFETY: mapping the ring the kernel made for this socket; the
        // result is checked before use and unmapped in Drop.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if map == libc::MAP_FAILED {
            let e = io::Error::last_os_error();
            // Unmade, or frames would go on into a ring nobody reads and
            // never reach the recvmsg fallback.
            // SAFETY: plain data; a request for no blocks frees the ring.
            let none: libc::tpacket_req3 = unsafe { std::mem::zeroed() };
            let _ = setsockopt(fd.as_raw_fd(), libc::PACKET_RX_RING, &none);
            return Err(e);
        }
        Ok(Ring {
            map: NonNull::new(map.cast())
                .ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?,
            block_size,
            blocks,
            block: 0,
            cursor: None,
        })
    }

    /// The ring's size in bytes.
    pub(super) fn size(&self) -> usize {
        self.block_size * self.blocks
    }

    /// The next frame the kernel has handed over, if any; never waits. The
    /// block of the frame returned before is given back first when it has
    /// been read to its end.
    pub(super) fn next(&mut self) -> Option<RingFrame<'_>> {
        loop {
            let block = self.block_start(self.block);
            match self.cursor {
                Some((_, 0)) => {
                    // Read to its end: the kernel's again.
                    // SAFETY: block_status is the first field of the
                    // tpacket_hdr_v1 inside this block's descriptor, aligned
                    // and inside the mapping.
                    unsafe { status_of(block).store(libc::TP_STATUS_KERNEL, Ordering::Release) };
                    self.block = (self.block + 1) % self.blocks;
                    self.cursor = None;
                }
                Some((offset, _)) if offset + FRAME_HEADER > self.block_size => {
                    // Offsets the kernel would never write: read no further.
                    self.cursor = Some((0, 0));
                }
                Some((offset, left)) => {
                    // SAFETY: the block is lola's (TP_STATUS_USER was seen),
                    // and `offset` came from the kernel's own offsets inside it.
                    let (frame, next) = unsafe { frame_at(block, self.block_size, offset) };
                    self.cursor = Some((offset + next, left - 1));
                    return Some(frame);
                }
                None => {
                    // SAFETY: as for the store above.
                    let status = unsafe { status_of(block).load(Ordering::Acquire) };
                    if status & libc::TP_STATUS_USER == 0 {
                        return None;
                    }
                    // SAFETY: the block is lola's; its descriptor is at its start.
                    let (first, count) = unsafe {
                        let desc = block.cast::<libc::tpacket_block_desc>();
                        let h = (*desc).hdr.bh1;
                        (h.offset_to_first_pkt as usize, h.num_pkts)
                    };
                    self.cursor = Some((first, count));
                }
            }
        }
    }

    fn block_start(&self, block: usize) -> *mut u8 {
        // SAFETY: block < blocks, so the offset stays inside the mapping.
        unsafe { self.map.as_ptr().add(block * self.block_size) }
    }
}

/// The frame at `offset` in `block` (of `end` bytes), and the offset to the
/// next one; the frame lives as long as the caller says the block stays
/// lola's.
///
/// # Safety
/// `block` is lola's (`TP_STATUS_USER`) for `'a` and `offset` one of its frames.
unsafe fn frame_at<'a>(block: *mut u8, end: usize, offset: usize) -> (RingFrame<'a>, usize) {
    // SAFETY: the caller's promise; every length read is bounded by the
    // block before a slice is made.
    unsafe {
        let at = block.add(offset);
        let h = std::ptr::read_unaligned(at.cast::<libc::tpacket3_hdr>());
        let sll_at = libc::TPACKET_ALIGN(size_of::<libc::tpacket3_hdr>());
        let sll = std::ptr::read_unaligned(at.add(sll_at).cast::<libc::sockaddr_ll>());
        let mac = offset + usize::from(h.tp_mac);
        let snap = (h.tp_snaplen as usize).min(end.saturating_sub(mac));
        let data = std::slice::from_raw_parts(block.add(mac.min(end)), snap);
        let frame = RingFrame {
            data,
            orig_len: h.tp_len,
            timestamp: Duration::new(u64::from(h.tp_sec), h.tp_nsec),
            status: h.tp_status,
            pkttype: sll.sll_pkttype,
        };
        (frame, h.tp_next_offset as usize)
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly what map() mapped; nothing borrows it now.
        unsafe {
            libc::munmap(self.map.as_ptr().cast(), self.size());
        }
    }
}

/// The block's status word, shared with the kernel.
///
/// # Safety
/// `block` is the start of a block of the mapping.
unsafe fn status_of<'a>(block: *mut u8) -> &'a AtomicU32 {
    // SAFETY: tpacket_block_desc { version, offset_to_priv, hdr.bh1.block_status, ... }:
    // the status is the u32 at byte 8, 4-aligned as the block is page-aligned.
    unsafe { &*block.add(8).cast::<AtomicU32>() }
}

/// Switches `fd` to `TPACKET_V3` (before its ring is made).
pub(super) fn set_version(fd: RawFd) -> io::Result<()> {
    let version = libc::tpacket_versions::TPACKET_V3 as libc::c_int;
    setsockopt(fd, libc::PACKET_VERSION, &version)
}

/// The `PACKET_RX_RING` request for a ring of at least `buffer_size`
/// bytes (whole blocks, two at least).
pub(super) fn request(buffer_size: usize) -> libc::tpacket_req3 {
    let (block_size, blocks) = geometry(buffer_size, page_size());
    libc::tpacket_req3 {
        tp_block_size: block_size as u32,
        tp_block_nr: blocks as u32,
        // V3 packs frames of any length into a block; frame_size is only
        // checked for consistency (frames per block × blocks).
        tp_frame_size: block_size as u32,
        tp_frame_nr: blocks as u32,
        tp_retire_blk_tov: RETIRE_MS,
        tp_sizeof_priv: 0,
        tp_feature_req_word: 0,
    }
}

/// Block size and count for a ring of at least `buffer_size` bytes: blocks
/// of [`BLOCK_SIZE`], smaller (down to a page) only when the buffer is too
/// small for two of them; always at least two blocks.
fn geometry(buffer_size: usize, page: usize) -> (usize, usize) {
    let block = (buffer_size / 2 / page * page).clamp(page, BLOCK_SIZE.max(page));
    (block, buffer_size.div_ceil(block).max(2))
}

fn page_size() -> usize {
    // SAFETY: sysconf reads a constant.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(page)
        .ok()
        .filter(|&p| p > 0)
        .unwrap_or(4096)
}

/// Sets a `SOL_PACKET` option on `fd`; only a system call, so that a
/// freshly forked process may use it.
pub(super) fn setsockopt<T>(fd: RawFd, option: libc::c_int, value: &T) -> io::Result<()> {
    set(fd, libc::SOL_PACKET, option, value)
}

/// setsockopt(2) at any `level` with a value of type `T`; only a system
/// call.
pub(super) fn set<T>(
    fd: RawFd,
    level: libc::c_int,
    option: libc::c_int,
    value: &T,
) -> io::Result<()> {
    // SAFETY: value is a live T of the stated size.
    if unsafe {
        libc::setsockopt(
            fd,
            level,
            option,
            (value as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    } != 0
    {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ring_holds_at_least_the_buffer_asked_for_in_whole_blocks() {
        let page = 4096;
        assert_eq!(geometry(2 << 20, page), (BLOCK_SIZE, 16), "libpcap's 2 MiB");
        assert_eq!(geometry(8 << 20, page), (BLOCK_SIZE, 64));
        assert_eq!(
            geometry((2 << 20) + 1, page),
            (BLOCK_SIZE, 17),
            "rounded up"
        );
        assert_eq!(
            geometry(64 << 10, page),
            (32 << 10, 2),
            "small: smaller blocks"
        );
        assert_eq!(geometry(1, page), (page, 2), "two pages at least");
        let (block, blocks) = geometry(3 << 20, 65536);
        assert_eq!((block % 65536, block * blocks >= 3 << 20), (0, true));
    }
}
