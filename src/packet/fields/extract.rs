//! How each field's values are read from a decoded frame.
//!
//! A field takes a value from every header of its protocol in the frame, in
//! frame order, as Wireshark's do: `ip.src` of a VXLAN frame is the tunnel's
//! source, then the inner packet's; of an ICMP error, the error's, then the
//! quoted datagram's. [`walk`] visits the headers ([`Hdr`]) in that order;
//! one reader per protocol gives a header's values of a field (none when the
//! header is of another protocol), chosen by the field's [`Id`].

use crate::packet::decode::heuristics::{self, Dissector};
use crate::packet::decode::{
    Encapsulation, Icmp, Ip, Layer, Link, Packet, Tcp, Transport, Udp, ports,
};
use crate::packet::wire::field::{geneve, icmp as icmp_wire, tcp as tcp_wire};

use std::time::Duration;

use super::{Field, FrameView, Id, Value};

/// One header of a frame as the fields read it, with the bytes it starts
/// (itself and what it carries, as far as captured).
#[derive(Clone, Copy)]
enum Hdr<'p, 'a> {
    /// An Ethernet header: the frame's own, or one inside a tunnel.
    Eth(&'p Link, &'a [u8], bool),
    Ip(&'p Ip, &'a [u8]),
    /// A UDP header, with who takes its payload when the reader knows it
    /// from the capture's history (the datagram's own header only).
    Udp(&'p Udp<'a>, &'a [u8], Option<Dissector>),
    /// A TCP header; true for the datagram's own (the one with relative numbers).
    Tcp(&'p Tcp, &'a [u8], bool),
    /// An ICMP (false) or ICMPv6 (true) header.
    Icmp(&'p Icmp, bool, &'a [u8]),
    Vxlan(u32, &'a [u8]),
    Geneve(u32, &'a [u8]),
    Gre(&'a [u8]),
    /// Payload no dissector claims: Wireshark's `data`.
    Data(&'a [u8]),
}

/// Up to two values of a field in one header (`*.addr` and `*.port` have
/// the source and the destination).
type Two<'a> = [Option<Value<'a>>; 2];

fn one(x: Option<Value<'_>>) -> Two<'_> {
    [x, None]
}

/// Visits the frame's headers in frame order until `visit` returns a value
/// (only the datagram's own with `datagram_only`); `udp` is who takes the
/// datagram's own UDP payload, when the reader knows.
fn walk<'p, 'a, R>(
    p: &'p Packet<'a>,
    datagram_only: bool,
    time: Duration,
    udp: Option<Dissector>,
    mut visit: impl FnMut(Hdr<'p, 'a>) -> Option<R>,
) -> Option<R> {
    let (tunnel, quoted): (&[Layer<'a>], &[Layer<'a>]) = if datagram_only {
        (&[], &[])
    } else {
        (&p.tunnel_layers, &p.quoted)
    };
    if let Some(link) = p.link.as_ref().filter(|l| l.src_mac.is_some()) {
        let llc = p.encapsulation == Some(Encapsulation::LlcSnap);
        if let Some(r) = visit(Hdr::Eth(link, p.frame, !llc)) {
            return Some(r);
        }
        // An EtherType no dissector of Wireshark's takes: its payload is data.
        let unknown = link
            .ether_type
            .is_some_and(|t| t > 1500 && ports::ETHERTYPES.binary_search(&t).is_err());
        let payload = || p.frame.get(link.header_len..).unwrap_or(&[]);
        if unknown && !llc && p.ip.is_none() && !payload().is_empty() {
            return visit(Hdr::Data(payload()));
        }
        if link.ether_type == Some(LOOPBACK) && !llc && p.ip.is_none() {
            return loopback_data(payload()).and_then(|d| visit(Hdr::Data(d)));
        }
    }
    for layer in tunnel {
        if let Some(r) = visit_layer(layer, time, &mut visit) {
            return Some(r);
        }
    }
    if let Some(ip) = &p.ip
        && let Some(r) = visit(Hdr::Ip(ip, p.ip_bytes))
    {
        return Some(r);
    }
    let bytes = p.transport_bytes;
    let own = match &p.transport {
        Transport::Udp(u) => with_data(Hdr::Udp(u, bytes, udp), time, &mut visit),
        Transport::Tcp(t) => with_data(Hdr::Tcp(t, bytes, true), time, &mut visit),
        Transport::Icmp(c) => {
            let v6 = p.ip.as_ref().is_some_and(|ip| ip.version == 6);
            with_data(Hdr::Icmp(c, v6, bytes), time, &mut visit)
        }
        Transport::Fragment(b) if !b.is_empty() => visit(Hdr::Data(b)),
        Transport::Fragment(_) | Transport::Other => None,
    };
    if own.is_some() {
        return own;
    }
    for layer in quoted {
        if let Some(r) = visit_layer(layer, time, &mut visit) {
            return Some(r);
        }
    }
    None
}

/// EtherType 0x9000: Ethernet's Configuration Testing Protocol (loopback).
const LOOPBACK: u16 = 0x9000;

/// What Wireshark's `loop` dissector (`packet-loop.c`) leaves as `data`
/// after a loopback message's header: a 16-bit little-endian skip count,
/// then functions (also little-endian), each "forward" (2) followed by a
/// 6-byte address and another function, until a "reply" (1) with its
/// 2-byte receipt number or any other function. None when the header runs
/// past the bytes (Wireshark's dissector stops there) or nothing follows.
fn loopback_data(payload: &[u8]) -> Option<&[u8]> {
    const REPLY: u16 = 1;
    const FORWARD: u16 = 2;
    let mut at = 2;
    loop {
        let function = u16::from_le_bytes([*payload.get(at)?, *payload.get(at + 1)?]);
        at += 2;
        match function {
            REPLY => {
                payload.get(at + 1)?;
                at += 2;
                break;
            }
            FORWARD => {
                payload.get(at + 5)?;
                at += 6;
            }
            _ => break,
        }
    }
    payload.get(at..).filter(|d| !d.is_empty())
}

fn visit_layer<'p, 'a, R>(
    layer: &'p Layer<'a>,
    time: Duration,
    visit: &mut impl FnMut(Hdr<'p, 'a>) -> Option<R>,
) -> Option<R> {
    match layer {
        Layer::Ethernet(link, b) => visit(Hdr::Eth(link, b, true)),
        Layer::Ip(ip, b) => visit(Hdr::Ip(ip, b)),
        Layer::Udp(u, b) => with_data(Hdr::Udp(u, b, None), time, visit),
        Layer::Tcp(t, b) => with_data(Hdr::Tcp(t, b, false), time, visit),
        Layer::Icmp(c, v6, b) => with_data(Hdr::Icmp(c, *v6, b), time, visit),
        Layer::Vxlan(vni, b) => visit(Hdr::Vxlan(*vni, b)),
        Layer::Geneve(vni, b) => visit(Hdr::Geneve(*vni, b)),
        Layer::Gre(_, b) => visit(Hdr::Gre(b)),
        Layer::Data(b) => visit(Hdr::Data(b)),
    }
}

/// A transport header, then the `data` after it when no dissector claims
/// its payload.
fn with_data<'p, 'a, R>(
    h: Hdr<'p, 'a>,
    time: Duration,
    visit: &mut impl FnMut(Hdr<'p, 'a>) -> Option<R>,
) -> Option<R> {
    visit(h).or_else(|| data_of(h, time).and_then(|d| visit(Hdr::Data(d))))
}

/// The payload of a transport header that Wireshark shows as `data`: UDP
/// that no dissector takes (by its ports, a conversation, or QUIC's and
/// TFTP's heuristics; a TFTP DATA block's bytes after its header), TCP on
/// ports no dissector of tshark's port tables takes, and the
/// payload of an ICMP or ICMPv6 echo (an ICMP echo's after the timestamp it
/// starts with, if it looks like one at the frame's `time`).
fn data_of<'a>(h: Hdr<'_, 'a>, time: Duration) -> Option<&'a [u8]> {
    let payload = match h {
        Hdr::Udp(u, _, known) => {
            let by = known.unwrap_or_else(|| {
                heuristics::udp_claim(u.src_port, u.dst_port, u.payload).dissector
            });
            match by {
                Dissector::Port
                    if ports::claimed(ports::UDP_PORTS, u.src_port, u.dst_port).is_none() =>
                {
                    u.payload
                }
                Dissector::Port | Dissector::Quic => &[],
                Dissector::Tftp => heuristics::tftp_data(u.payload),
            }
        }
        Hdr::Tcp(t, b, _) if ports::claimed(ports::TCP_PORTS, t.src_port, t.dst_port).is_none() => {
            let payload = tcp_shown_payload(t, b);
            if payload.starts_with(&ETCH_MAGIC) {
                return None;
            }
            payload
        }
        Hdr::Icmp(c, v6, b) if echo(c, v6) => {
            let data = b.get(icmp_wire::HEADER_LEN..).unwrap_or(&[]);
            if v6 {
                data
            } else {
                &data[echo_timestamp_len(data, time)..]
            }
        }
        _ => &[],
    };
    (!payload.is_empty()).then_some(payload)
}

/// What Wireshark's Etch heuristic (`packet-etch.c`, tried on a TCP
/// payload no port's dissector takes) looks for at the start of a message:
/// a payload that starts so is Etch's (`tcp.segment_data` while its message
/// is incomplete), not `data`, SYN or not.
const ETCH_MAGIC: [u8; 4] = [0xde, 0xad, 0xbe, 0xef];

/// How many bytes at the start of an ICMP echo's `data` Wireshark reads as
/// the sender's clock (`icmp.data_time`, `get_best_guess_timestamp` in
/// today's `packet-icmp.c`): 0 (none), 8 or 16. Ping programs write a
/// `struct timeval` there in their machine's byte order, with a 32-bit or
/// 64-bit `time_t`; of the four readings with microseconds below a million,
/// the one nearest the frame's `time` wins if it is less than a day away (a
/// 16-byte one first, so that on a tie the 8-byte one is taken unless a
/// little-endian 32-bit reading has zero microseconds, which is how a
/// 64-bit little-endian `time_t` before 2038 looks).
///
/// Wireshark 4.0 tries only the 8-byte readings, big-endian first: on a
/// 64-bit little-endian ping (Linux on x86-64) it takes 8 bytes where
/// today's takes 16.
fn echo_timestamp_len(data: &[u8], time: Duration) -> usize {
    const DAY_NS: i128 = 86_400 * 1_000_000_000;
    let Some(head) = data.get(..8) else { return 0 };
    let frame = time.as_nanos() as i128;
    let mut best = DAY_NS;
    let mut len = 0;
    let mut nearer = |secs: i128, usecs: i128| {
        if !(0..1_000_000).contains(&usecs) {
            return false;
        }
        let delta = (frame - (secs * 1_000_000_000 + usecs * 1000)).abs();
        if delta < best {
            best = delta;
            return true;
        }
        false
    };
    let word = |b: &[u8], at: usize| -> [u8; 4] { b[at..at + 4].try_into().unwrap_or([0; 4]) };
    let long = |b: &[u8], at: usize| -> [u8; 8] { b[at..at + 8].try_into().unwrap_or([0; 8]) };
    let wide = data.get(..16);
    if let Some(w) = wide {
        let (s, u) = (
            i64::from_le_bytes(long(w, 0)),
            i64::from_le_bytes(long(w, 8)),
        );
        if nearer(s.into(), u.into()) {
            len = 16;
        }
    }
    let (s, u) = (
        u32::from_le_bytes(word(head, 0)),
        u32::from_le_bytes(word(head, 4)),
    );
    if (len == 0 || u != 0) && nearer(s.into(), u.into()) {
        len = 8;
    }
    let (s, u) = (
        u32::from_be_bytes(word(head, 0)),
        u32::from_be_bytes(word(head, 4)),
    );
    if nearer(s.into(), u.into()) {
        len = 8;
    }
    if let Some(w) = wide {
        let (s, u) = (
            i64::from_be_bytes(long(w, 0)),
            i64::from_be_bytes(long(w, 8)),
        );
        if nearer(s.into(), u.into()) {
            len = 16;
        }
    }
    len
}

/// True for an echo request or reply (ICMP 8/0, ICMPv6 128/129).
fn echo(c: &Icmp, v6: bool) -> bool {
    if v6 {
        matches!(c.icmp_type, 128 | 129)
    } else {
        matches!(c.icmp_type, 0 | 8)
    }
}

/// The payload Wireshark shows as `tcp.payload` (and perhaps `data`): none
/// on a reset, whose bytes are its reset cause (`tcp.reset_cause`, RFC 1122
/// 4.2.2.12), not data for the port's dissector.
fn tcp_shown_payload<'a>(t: &Tcp, b: &'a [u8]) -> &'a [u8] {
    if t.flags.contains(crate::packet::wire::TcpFlags::RST) {
        return &[];
    }
    tcp_payload(t, b)
}

/// The captured payload of a TCP segment whose header starts `b`.
fn tcp_payload<'a>(t: &Tcp, b: &'a [u8]) -> &'a [u8] {
    let header = b
        .get(tcp_wire::DATA_OFFSET)
        .map_or(b.len(), |o| usize::from(o >> 4) * 4);
    let end = header.saturating_add(t.payload_len).min(b.len());
    b.get(header..end).unwrap_or(&[])
}

/// Value `i` of field `id` in the frame, with the 1-based layer (among the
/// headers of the field's protocol) it comes from.
pub(super) fn nth<'a>(id: Id, v: &FrameView<'_, 'a>, i: usize) -> Option<(usize, Value<'a>)> {
    if let Some(x) = frame_field(id, v) {
        return (i == 0).then_some((1, x?));
    }
    let (mut layer, mut seen) = (0, 0);
    walk(v.packet, v.datagram_only, v.time, v.udp_dissector, |h| {
        let values = read(id, h, v)?;
        layer += 1;
        for x in values.into_iter().flatten() {
            if seen == i {
                return Some((layer, x));
            }
            seen += 1;
        }
        None
    })
}

/// Every value of each of `fields` in the frame, from one walk over its
/// headers: `out(k, value)` for each value of `fields[k]`. A field's values
/// come in the order [`nth`] numbers them (the fields' are interleaved),
/// each read by the same readers, so the two never disagree.
pub(super) fn each<'a>(
    fields: &[&Field],
    v: &FrameView<'_, 'a>,
    mut out: impl FnMut(usize, Value<'a>),
) {
    // The frame's own fields are not in its headers (`nth` never walks
    // for them); a bit for each of the first 128, found again past them.
    let mut own = 0u128;
    for (k, f) in fields.iter().enumerate() {
        if let Some(x) = frame_field(f.id, v) {
            if k < 128 {
                own |= 1 << k;
            }
            if let Some(x) = x {
                out(k, x);
            }
        }
    }
    /// Every field's values in one header, the header's reader inlined.
    struct All<'f, 'o, F> {
        fields: &'f [&'f Field],
        own: u128,
        /// Whether a field past the first 128 is the frame's own.
        frame_own: &'o dyn Fn(Id) -> bool,
        out: &'o mut F,
    }
    impl<'a, F: FnMut(usize, Value<'a>)> Use<'a> for All<'_, '_, F> {
        type Out = ();
        #[inline]
        fn with(self, read: impl Fn(Id) -> Option<Two<'a>>) {
            for (k, f) in self.fields.iter().enumerate() {
                let frame_own = if k < 128 {
                    self.own & (1 << k) != 0
                } else {
                    (self.frame_own)(f.id)
                };
                if frame_own {
                    continue;
                }
                if let Some([a, b]) = read(f.id) {
                    if let Some(a) = a {
                        (self.out)(k, a);
                    }
                    if let Some(b) = b {
                        (self.out)(k, b);
                    }
                }
            }
        }
    }
    walk(v.packet, v.datagram_only, v.time, v.udp_dissector, |h| {
        reader(
            h,
            v,
            All {
                fields,
                own,
                frame_own: &|id| frame_field(id, v).is_some(),
                out: &mut out,
            },
        );
        None::<()>
    });
}

/// How many bytes at the start of value `i` of protocol field `id` the
/// protocol's own item covers in Wireshark (what its `len()`, slices and
/// `==` see; `contains` sees the whole value).
pub(super) fn own_len(id: Id, v: &FrameView<'_, '_>, i: usize) -> Option<usize> {
    if id == Id::Frame {
        return (i == 0).then_some(v.cap_len);
    }
    let mut seen = 0;
    walk(v.packet, v.datagram_only, v.time, v.udp_dissector, |h| {
        read(id, h, v)?[0].as_ref()?;
        if seen < i {
            seen += 1;
            return None;
        }
        Some(match h {
            Hdr::Eth(_, b, _) => b.len().min(14),
            Hdr::Ip(ip, b) => ip.header_len.min(b.len()),
            Hdr::Udp(_, b, _) => b.len().min(8),
            Hdr::Tcp(t, b, _) => b.len() - tcp_payload(t, b).len(),
            Hdr::Vxlan(_, b) => b.len().min(8),
            Hdr::Geneve(_, b) => b
                .first()
                .map_or(0, |f| {
                    geneve::HEADER_LEN + usize::from(f & geneve::OPTIONS_MASK) * 4
                })
                .min(b.len()),
            Hdr::Icmp(_, _, b) | Hdr::Gre(b) | Hdr::Data(b) => b.len(),
        })
    })
}

/// The `frame` protocol and the `frame.*` fields: Some (one value) for them,
/// None for every other field.
#[allow(clippy::option_option)]
fn frame_field<'a>(id: Id, v: &FrameView<'_, 'a>) -> Option<Option<Value<'a>>> {
    use Value::Uint;
    Some(match id {
        Id::Frame => Some(Value::Bytes(v.packet.frame)),
        Id::FrameNumber => Some(Uint(v.number)),
        Id::FrameLen => Some(Uint(u64::from(v.orig_len))),
        Id::FrameCapLen => Some(Uint(v.cap_len as u64)),
        _ => return None,
    })
}

/// The values of field `id` in header `h`, or None when `h` is not of the
/// field's protocol.
fn read<'a>(id: Id, h: Hdr<'_, 'a>, v: &FrameView<'_, 'a>) -> Option<Two<'a>> {
    /// One field's values.
    struct One(Id);
    impl<'a> Use<'a> for One {
        type Out = Option<Two<'a>>;
        #[inline]
        fn with(self, read: impl Fn(Id) -> Option<Two<'a>>) -> Option<Two<'a>> {
            read(self.0)
        }
    }
    reader(h, v, One(id))
}

/// What is done with a header's reader ([`reader`]); generic, so that the
/// reader is inlined where it is used.
trait Use<'a> {
    type Out;
    fn with(self, read: impl Fn(Id) -> Option<Two<'a>>) -> Self::Out;
}

/// Hands `with` the reader of header `h`: a field's values in `h`, or None
/// when `h` is not of the field's protocol. The header's kind is matched
/// once, however many fields `with` reads.
#[inline]
fn reader<'a, U: Use<'a>>(h: Hdr<'_, 'a>, v: &FrameView<'_, 'a>, with: U) -> U::Out {
    match h {
        Hdr::Eth(link, bytes, typed) => with.with(|id| link_field(id, link, bytes, typed)),
        Hdr::Ip(ip, bytes) if ip.version == 4 => with.with(|id| ipv4_field(id, ip, bytes)),
        Hdr::Ip(ip, bytes) => with.with(|id| ipv6_field(id, ip, bytes)),
        Hdr::Udp(u, bytes, _) => with.with(|id| udp_field(id, u, bytes)),
        Hdr::Tcp(t, bytes, own) => {
            let relative = own.then_some(v.tcp_relative);
            with.with(|id| tcp_field(id, t, bytes, relative))
        }
        Hdr::Icmp(c, v6, bytes) => with.with(|id| icmp_field(id, c, v6, bytes)),
        Hdr::Vxlan(vni, bytes) => {
            with.with(|id| tunnel_field(id, Id::Vxlan, Id::VxlanVni, vni, bytes))
        }
        Hdr::Geneve(vni, bytes) => {
            with.with(|id| tunnel_field(id, Id::Geneve, Id::GeneveVni, vni, bytes))
        }
        Hdr::Gre(bytes) => with.with(|id| (id == Id::Gre).then(|| one(Some(Value::Bytes(bytes))))),
        Hdr::Data(bytes) => with.with(|id| data_field(id, bytes)),
    }
}

/// The `eth` protocol and the `eth.*` and `vlan.*` fields. `typed` is false
/// for 802.3 with LLC/SNAP, whose length field is no `eth.type`.
fn link_field<'a>(id: Id, link: &Link, bytes: &'a [u8], typed: bool) -> Option<Two<'a>> {
    use Value::{Mac, Uint};
    let (src, dst) = (link.src_mac.map(Mac), link.dst_mac.map(Mac));
    Some(match id {
        Id::Eth => one(Some(Value::Bytes(bytes))),
        Id::EthSrc => one(src),
        Id::EthDst => one(dst),
        Id::EthAddr => [dst, src],
        // A tagged frame's is the outer tag's TPID (0x8100, 0x88a8), as
        // in Wireshark; an untagged 802.3 frame carries a length there, not
        // a type (LLC/SNAP names the protocol): no eth.type.
        Id::EthType if !link.vlans.is_empty() => one(bytes
            .get(12..14)
            .map(|t| u16::from_be_bytes([t[0], t[1]]))
            .filter(|t| matches!(t, 0x8100 | 0x88a8 | 0x9100))
            .map(|t| Uint(t.into()))),
        Id::EthType => one(link
            .ether_type
            .filter(|_| typed)
            .filter(|&t| t > crate::packet::wire::field::llc::MAX_LENGTH)
            .map(|t| Uint(t.into()))),
        Id::VlanId => one(link.vlans.last().map(|&id| Uint(id.into()))),
        _ => return None,
    })
}

/// The `ip` protocol and the `ip.*` fields of an IPv4 header.
fn ipv4_field<'a>(id: Id, ip: &Ip, bytes: &'a [u8]) -> Option<Two<'a>> {
    use Value::{Addr, Bool, Uint};
    Some(one(Some(match id {
        Id::Ip => Value::Bytes(bytes),
        Id::IpVersion => Uint(4),
        Id::IpHdrLen => Uint(ip.header_len as u64),
        Id::IpDsfield => Uint(ip.tos.into()),
        Id::IpLen => Uint(ip.total_len as u64),
        Id::IpId => Uint(ip.identification?.into()),
        Id::IpFlagsDf => Bool(ip.dont_fragment),
        Id::IpFlagsMf => Bool(ip.frag.is_some_and(|f| f.more)),
        // The header's 13 bits, in 8-byte units, as Wireshark 3.4 and later
        // hold it (its tree shows the bytes, its filters use the units).
        Id::IpFragOffset => Uint(ip.frag.map_or(0, |f| f.offset.into())),
        Id::IpTtl => Uint(ip.ttl.into()),
        Id::IpProto => Uint(ip.protocol.into()),
        Id::IpChecksum => Uint(ip.header_checksum?.value.into()),
        Id::IpChecksumStatus => Value::Status(ip.header_checksum?.state.word()),
        Id::IpSrc => Addr(ip.src),
        Id::IpDst => Addr(ip.dst),
        Id::IpAddr => return Some([Some(Addr(ip.src)), Some(Addr(ip.dst))]),
        _ => return None,
    })))
}

/// The `ipv6` protocol and the `ipv6.*` fields (and `ip.version`, which
/// Wireshark gives an IPv6 header too).
fn ipv6_field<'a>(id: Id, ip: &Ip, bytes: &'a [u8]) -> Option<Two<'a>> {
    use Value::{Addr, Uint};
    Some(one(Some(match id {
        Id::Ipv6 => Value::Bytes(bytes),
        Id::IpVersion => Uint(6),
        Id::Ipv6Hlim => Uint(ip.ttl.into()),
        Id::Ipv6Nxt => Uint(ip.next_header.into()),
        Id::Ipv6Src => Addr(ip.src),
        Id::Ipv6Dst => Addr(ip.dst),
        Id::Ipv6Addr => return Some([Some(Addr(ip.src)), Some(Addr(ip.dst))]),
        _ => return None,
    })))
}

/// The `udp` protocol and the `udp.*` fields.
fn udp_field<'a>(id: Id, u: &Udp<'a>, bytes: &'a [u8]) -> Option<Two<'a>> {
    use Value::Uint;
    let (src, dst) = (Uint(u.src_port.into()), Uint(u.dst_port.into()));
    Some(match id {
        Id::Udp => one(Some(Value::Bytes(bytes))),
        Id::UdpSrcport => one(Some(src)),
        Id::UdpDstport => one(Some(dst)),
        Id::UdpPort => [Some(src), Some(dst)],
        Id::UdpLength => one(Some(Uint(u.length.into()))),
        // tshark stops at a bogus length (below 8, not a jumbogram's 0)
        // before it reads the checksum.
        Id::UdpChecksum => {
            one(Some(Uint(u.checksum.value.into())).filter(|_| u.length >= 8 || u.payload_len > 0))
        }
        Id::UdpChecksumStatus => one(Some(Value::Status(u.checksum.state.word()))),
        Id::UdpPayload => one((!u.payload.is_empty()).then_some(Value::Bytes(u.payload))),
        _ => return None,
    })
}

/// The `tcp` protocol and the `tcp.*` fields. `relative` is the frame's
/// relative (seq, ack) for the datagram's own header, None for another
/// (one an ICMP error quotes), which has no `tcp.seq`/`tcp.ack`.
fn tcp_field<'a>(
    id: Id,
    t: &Tcp,
    bytes: &'a [u8],
    relative: Option<Option<(u32, u32)>>,
) -> Option<Two<'a>> {
    use crate::packet::wire::TcpFlags;
    use Value::{Bool, Uint};
    let (src, dst) = (Uint(t.src_port.into()), Uint(t.dst_port.into()));
    let flag = |bit: TcpFlags| one(Some(Bool(t.flags.contains(bit))));
    let relative = relative.flatten();
    Some(match id {
        Id::Tcp => one(Some(Value::Bytes(bytes))),
        Id::TcpSrcport => one(Some(src)),
        Id::TcpDstport => one(Some(dst)),
        Id::TcpPort => [Some(src), Some(dst)],
        Id::TcpSeq => one(relative.map(|(s, _)| Uint(s.into()))),
        Id::TcpAck => one(relative.map(|(_, a)| Uint(a.into()))),
        Id::TcpSeqRaw => one(Some(Uint(t.seq.into()))),
        Id::TcpAckRaw => one(Some(Uint(t.ack.into()))),
        Id::TcpLen => one(Some(Uint(t.payload_len as u64))),
        Id::TcpFlags => one(Some(Uint(t.flag_bits.into()))),
        Id::TcpFlagsFin => flag(TcpFlags::FIN),
        Id::TcpFlagsSyn => flag(TcpFlags::SYN),
        Id::TcpFlagsReset => flag(TcpFlags::RST),
        Id::TcpFlagsPush => flag(TcpFlags::PSH),
        Id::TcpFlagsAck => flag(TcpFlags::ACK),
        Id::TcpFlagsUrg => flag(TcpFlags::URG),
        Id::TcpPayload => {
            let payload = tcp_shown_payload(t, bytes);
            one((!payload.is_empty()).then_some(Value::Bytes(payload)))
        }
        _ => return None,
    })
}

/// The `icmp`/`icmpv6` protocols and their `.type` and `.code`.
fn icmp_field<'a>(id: Id, c: &Icmp, v6: bool, bytes: &'a [u8]) -> Option<Two<'a>> {
    use Value::Uint;
    let x = match (id, v6) {
        (Id::Icmp, false) | (Id::Icmpv6, true) => Value::Bytes(bytes),
        (Id::IcmpType, false) | (Id::Icmpv6Type, true) => Uint(c.icmp_type.into()),
        (Id::IcmpCode, false) | (Id::Icmpv6Code, true) => Uint(c.code.into()),
        _ => return None,
    };
    Some(one(Some(x)))
}

/// A tunnel header's protocol (`vxlan`, `geneve`) and its `.vni`.
fn tunnel_field<'a>(id: Id, proto: Id, vni_id: Id, vni: u32, bytes: &'a [u8]) -> Option<Two<'a>> {
    match id {
        i if i == proto => Some(one(Some(Value::Bytes(bytes)))),
        i if i == vni_id => Some(one(Some(Value::Uint(vni.into())))),
        _ => None,
    }
}

/// The `data` protocol and the `data.*` fields: payload no dissector claims.
fn data_field<'a>(id: Id, bytes: &'a [u8]) -> Option<Two<'a>> {
    Some(one(Some(match id {
        Id::Data | Id::DataData => Value::Bytes(bytes),
        Id::DataLen => Value::Uint(bytes.len() as u64),
        Id::DataText => Value::Text(String::from_utf8_lossy(bytes)),
        _ => return None,
    })))
}

#[cfg(test)]
mod tests {
    use crate::capture::CaptureReader;
    use crate::packet::decode::decode;
    use crate::packet::fields::{FrameView, Value, lookup};

    /// Every value of each named field in frame `n` of fixture `name`,
    /// with its layer, seen whole or datagram-only.
    fn values(name: &str, n: usize, fields: &[&str], only: bool) -> Vec<Vec<(usize, String)>> {
        let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        let mut reader = CaptureReader::open(path.as_ref()).unwrap();
        for _ in 1..n {
            reader.next_frame().unwrap();
        }
        let frame = reader.next_frame().unwrap().unwrap();
        let packet = decode(frame.link_type, frame.data, frame.orig_len as usize);
        let view = FrameView {
            datagram_only: only,
            ..FrameView::new(&frame, &packet)
        };
        fields
            .iter()
            .map(|name| {
                let f = lookup(name).unwrap();
                (0..)
                    .map_while(|i| Some((f.layer(&view, i), f.get(&view, i)?.to_string())))
                    .collect()
            })
            .collect()
    }

    fn owned(v: &[(usize, &str)]) -> Vec<(usize, String)> {
        v.iter().map(|(l, s)| (*l, s.to_string())).collect()
    }

    #[test]
    fn an_icmp_error_has_its_own_headers_then_the_quoted_ones() {
        let got = values(
            "seed-ipv4-no-listener.pcap",
            2,
            &[
                "ip.ttl",
                "udp.dstport",
                "icmp.type",
                "data.len",
                "udp.payload",
            ],
            false,
        );
        assert_eq!(got[0], owned(&[(1, "64"), (2, "64")]));
        assert_eq!(
            got[1],
            owned(&[(1, "7457")]),
            "the quoted UDP header is the frame's first"
        );
        assert_eq!(got[2], owned(&[(1, "3")]));
        assert_eq!(
            got[3],
            owned(&[(1, "10")]),
            "the quoted datagram's payload is data"
        );
        assert_eq!(got[4].len(), 1);
        // The built-in check's view: the error alone.
        let only = values(
            "seed-ipv4-no-listener.pcap",
            2,
            &["ip.ttl", "udp.dstport"],
            true,
        );
        assert_eq!(only, [owned(&[(1, "64")]), vec![]]);
    }

    #[test]
    fn a_tunnel_has_its_outer_headers_first() {
        let got = values(
            "tunnel-geneve.pcap",
            1,
            &["ip.src", "udp.port", "geneve.vni", "eth.type", "data.data"],
            false,
        );
        assert_eq!(got[0], owned(&[(1, "192.0.2.1"), (2, "127.0.0.1")]));
        let ports: Vec<(usize, String)> =
            owned(&[(1, "50000"), (1, "6081"), (2, "48801"), (2, "7456")]);
        assert_eq!(got[1], ports);
        assert_eq!(got[2], owned(&[(1, "42")]));
        assert_eq!(got[3], owned(&[(1, "2048"), (2, "2048")]));
        assert_eq!(got[4].len(), 1, "the outer payload is Geneve's, not data");
        let only = values("tunnel-geneve.pcap", 1, &["ip.src", "geneve.vni"], true);
        assert_eq!(only, [owned(&[(1, "127.0.0.1")]), vec![]]);
    }

    #[test]
    fn data_is_the_payload_no_port_dissector_claims() {
        let view_of = |dst: u16| {
            let d = crate::packet::frame::Datagram::new(
                "127.0.0.1:40000".parse().unwrap(),
                std::net::SocketAddr::new("127.0.0.1".parse().unwrap(), dst),
                b"Hello Lola".to_vec(),
            );
            crate::packet::frame::build_frame(&d).unwrap()
        };
        let data = lookup("data.len").unwrap();
        let payload = lookup("udp.payload").unwrap();
        // An EtherType Wireshark has no dissector for: the payload is data.
        let mut frame = vec![0u8; 12];
        frame.extend_from_slice(&[0x12, 0x34]);
        frame.extend_from_slice(b"Hello Lola");
        let packet = decode(1, &frame, frame.len());
        let raw = ethernet(&frame);
        assert_eq!(
            data.get(&FrameView::new(&raw, &packet), 0),
            Some(Value::Uint(10))
        );
        for (dst, has_data) in [(7456, true), (53, false), (5353, false), (123, false)] {
            let frame = view_of(dst);
            let packet = decode(1, &frame, frame.len());
            let raw = ethernet(&frame);
            let view = FrameView::new(&raw, &packet);
            assert_eq!(data.get(&view, 0).is_some(), has_data, "port {dst}");
            assert_eq!(payload.get(&view, 0), Some(Value::Bytes(b"Hello Lola")));
        }
    }

    /// The Ethernet frame `data`, captured whole as frame 1.
    fn ethernet(data: &[u8]) -> crate::capture::RawFrame<'_> {
        crate::capture::RawFrame {
            number: 1,
            offset: 0,
            timestamp: std::time::Duration::ZERO,
            link_type: 1,
            orig_len: data.len() as u32,
            data,
            comment: None,
            flags: None,
        }
    }

    /// The value of `field` in the Ethernet frame `data` (a length for bytes).
    fn value(field: &str, data: &[u8]) -> Option<Value<'static>> {
        let frame = ethernet(data);
        let packet = decode(1, data, data.len());
        let v = FrameView::new(&frame, &packet);
        match lookup(field).unwrap().get(&v, 0) {
            Some(Value::Uint(n)) => Some(Value::Uint(n)),
            Some(Value::Bytes(b)) => Some(Value::Uint(b.len() as u64)),
            None => None,
            Some(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_reset_s_bytes_are_no_payload() {
        // IPv4 TCP 40000 -> 40001 (no port dissector) with 4 bytes: tshark
        // shows them as tcp.payload and data, but on a reset as its cause.
        let mut seg = vec![0u8; 12];
        seg.extend_from_slice(&[0x08, 0x00]);
        seg.extend_from_slice(&[0x45, 0, 0, 44, 0, 0, 0, 0, 64, 6, 0, 0]);
        seg.extend_from_slice(&[127, 0, 0, 1, 127, 0, 0, 1]);
        seg.extend_from_slice(&[0x9c, 0x40, 0x9c, 0x41, 0, 0, 0, 1, 0, 0, 0, 0]);
        seg.extend_from_slice(&[0x50, 0x18, 0x10, 0, 0, 0, 0, 0]);
        seg.extend_from_slice(b"stop");
        assert_eq!(value("tcp.payload", &seg), Some(Value::Uint(4)));
        assert_eq!(value("data.len", &seg), Some(Value::Uint(4)));
        seg[47] = 0x04; // RST
        assert_eq!(value("tcp.len", &seg), Some(Value::Uint(4)));
        assert_eq!(value("tcp.payload", &seg), None);
        assert_eq!(value("data.len", &seg), None);
    }

    #[test]
    fn echo_data_starts_after_the_ping_s_timestamp() {
        use super::echo_timestamp_len;
        use std::time::Duration;
        let at = Duration::new(1_700_000_000, 500_000_000);
        let pattern: Vec<u8> = (0x10..0x38).collect();
        let with = |stamp: &[u8]| [stamp, &pattern[..]].concat();
        // Linux on x86-64: a little-endian timeval with a 64-bit time_t.
        let mut le64 = 1_700_000_000i64.to_le_bytes().to_vec();
        le64.extend_from_slice(&499_000i64.to_le_bytes());
        assert_eq!(echo_timestamp_len(&with(&le64), at), 16);
        // Solaris on SPARC: big-endian, 32-bit time_t.
        let mut be32 = 1_700_000_000u32.to_be_bytes().to_vec();
        be32.extend_from_slice(&499_000u32.to_be_bytes());
        assert_eq!(echo_timestamp_len(&with(&be32), at), 8);
        // A little-endian 32-bit one.
        let mut le32 = 1_700_000_000u32.to_le_bytes().to_vec();
        le32.extend_from_slice(&499_000u32.to_le_bytes());
        assert_eq!(echo_timestamp_len(&with(&le32), at), 8);
        // Over a day away, or microseconds of a million: no timestamp.
        let far = Duration::new(1_700_000_000 + 86_400, 499_000_000);
        assert_eq!(echo_timestamp_len(&with(&be32), far), 0);
        let mut bad = 1_700_000_000u32.to_be_bytes().to_vec();
        bad.extend_from_slice(&1_000_000u32.to_be_bytes());
        assert_eq!(echo_timestamp_len(&with(&bad), at), 0);
        assert_eq!(echo_timestamp_len(&be32[..7], at), 0, "fewer than 8 bytes");
        assert_eq!(echo_timestamp_len(&pattern, at), 0);
        // On real pings (tshark 4.0 shows data after 8 bytes on both; today's
        // Wireshark after 16 on Linux's).
        let data_len = |name: &str| values(&format!("corpus/{name}"), 1, &["data.len"], false);
        assert_eq!(data_len("tests_e1000g.pcap"), [owned(&[(1, "48")])]);
        assert_eq!(
            data_len("tests_filter_gateway_or_not.pcap"),
            [owned(&[(1, "40")])]
        );
    }

    #[test]
    fn an_802_3_length_is_no_eth_type() {
        // IEEE 802.3 (length 38) with LLC for spanning tree: tshark shows no eth.type.
        let mut stp = vec![0u8; 12];
        stp.extend_from_slice(&[0x00, 0x26, 0x42, 0x42, 0x03]);
        stp.resize(60, 0);
        assert_eq!(value("eth.type", &stp), None);
        stp[12..14].copy_from_slice(&[0x88, 0xcc]); // LLDP: an EtherType
        assert_eq!(value("eth.type", &stp), Some(Value::Uint(0x88cc)));
    }

    #[test]
    fn a_tagged_frame_s_eth_type_is_the_outer_tag_s() {
        // 802.1Q tag (VLAN 5) then IPv4: tshark's eth.type is 0x8100.
        let mut tagged = vec![0u8; 12];
        tagged.extend_from_slice(&[0x81, 0x00, 0x00, 0x05, 0x08, 0x00]);
        tagged.extend_from_slice(&[0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0]);
        tagged.extend_from_slice(&[127, 0, 0, 1, 127, 0, 0, 1]);
        tagged.extend_from_slice(&[0x9c, 0x40, 0x1d, 0x20, 0, 8, 0, 0]);
        tagged.resize(64, 0);
        assert_eq!(value("vlan.id", &tagged), Some(Value::Uint(5)));
        assert_eq!(value("eth.type", &tagged), Some(Value::Uint(0x8100)));
        // QinQ: the service tag's 0x88a8.
        tagged[12..14].copy_from_slice(&[0x88, 0xa8]);
        tagged.splice(16..16, [0x81, 0x00, 0x00, 0x07]);
        assert_eq!(value("eth.type", &tagged), Some(Value::Uint(0x88a8)));
    }
}
