//! Live capture on the loopback interface with an AF_PACKET socket: what the
//! kernel really put on the wire, with no libpcap and no system library.
//!
//! On `lo` a packet socket sees every frame twice, once leaving and once
//! arriving; like libpcap (and so like `tcpdump -i lo`) lola keeps only the
//! arriving copy, asking the kernel to drop the other (`PACKET_IGNORE_OUTGOING`)
//! or, on kernels older than 4.20, by the packet type of each frame. A classic
//! BPF program attached before the socket is bound keeps the kernel from
//! queueing other flows' frames at all; an exact userspace filter
//! ([`FlowFilter`]) then keeps only the run's own addresses and ports, and
//! ICMP errors about them, so parallel runs never see each other's frames.
//! IP fragments carry no ports: the kernel passes them all, and lola keeps
//! those of the datagrams whose first fragment was the flow's.
//!
//! By concern: [`FlowFilter`], the exact userspace filter (`filter`); the
//! kernel-side classic BPF program built from it (`bpf`); the fragment
//! sorter (`fragments`); opening an AF_PACKET socket (`open`), and the
//! capture on it with its receive path (`socket`); the ring made while a
//! capture already records (`handover`); the process that closes a socket
//! so that lola need not wait for the kernel (`detach`); and the recording front, [`Stop`] and [`Capture::record`]
//! (`record`); a process's own traffic taken in slices ([`Tap`], `tap`).

use std::time::Duration;

#[cfg(target_os = "linux")]
mod bpf;
#[cfg(target_os = "linux")]
mod detach;
mod filter;
mod fragments;
#[cfg(target_os = "linux")]
mod handover;
#[cfg(target_os = "linux")]
mod open;
#[cfg(not(target_os = "linux"))]
mod other;
mod record;
#[cfg(target_os = "linux")]
mod ring;
#[cfg(target_os = "linux")]
mod socket;
#[cfg(target_os = "linux")]
mod tap;

pub use crate::error::cause::Unavailable;
pub use filter::FlowFilter;
pub use record::Stop;

#[cfg(target_os = "linux")]
pub use socket::Capture;
#[cfg(target_os = "linux")]
pub use tap::Tap;

#[cfg(not(target_os = "linux"))]
pub use other::Capture;

/// The kernel buffer a capture records into unless told otherwise, in
/// bytes: 8 MiB, four times libpcap's default (and so `tcpdump`'s without
/// `-B`). With 2 MiB a flood paced at 200,000 datagrams a second lost a few
/// hundred frames on a busy 2-core machine; with 8 MiB none
/// (`bench/capture-vs-tcpdump.sh`, docs/benchmarks.md).
pub const DEFAULT_BUFFER_SIZE: usize = 8 << 20;

/// A frame captured live.
///
/// ```
/// # let d = lola::Datagram::new(
/// #     "127.0.0.1:40000".parse().unwrap(),
/// #     "127.0.0.1:7456".parse().unwrap(),
/// #     b"Hello Lola".to_vec(),
/// # );
/// use lola::host::live::LiveFrame;
/// let data = lola::build_frame(&d).unwrap();
/// let frame = LiveFrame { timestamp: lola::host::exchange::now(), orig_len: data.len() as u32, data, flags: 0 };
/// assert_eq!(frame.orig_len as usize, frame.data.len(), "captured whole");
/// assert!(lola::harness::is_datagram(&frame.data, &d));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveFrame {
    /// Kernel receive time, since the Unix epoch.
    pub timestamp: Duration,
    /// The frame (Ethernet on `lo`).
    pub data: Vec<u8>,
    /// Length on the wire (more than `data.len()` if it was cut).
    pub orig_len: u32,
    /// What the kernel said about it, as pcapng `epb_flags`: the direction
    /// (1 inbound, 2 outbound; 0 unknown) and bit 9 when its checksum was
    /// not ready (left to offload, as Linux leaves it on `lo`).
    pub flags: u32,
}

/// `epb_flags` direction: inbound.
pub const INBOUND: u32 = 1;
/// `epb_flags` direction: outbound.
pub const OUTBOUND: u32 = 2;
