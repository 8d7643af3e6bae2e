//! IPComp (RFC 3173, IP protocol 108): a 4-byte header (next header, flags,
//! compression parameter index), then the compressed IP payload. Wireshark
//! (`dissect_ipcomp` in `packet-ipsec.c`) shows the compressed bytes as
//! `data`, then tries to inflate them whatever the CPI (`tvb_uncompress`: a
//! zlib stream first, raw DEFLATE, RFC 2394's format, when that fails at
//! once; what came out before an error or the end of the bytes is kept)
//! and dissects what came out by the next header. lola does the same for
//! an IPv4 or IPv6 packet inside (tunnel mode), with the inflated bytes
//! held in an [`Inflated`] the caller owns: they are not in the frame.

use std::cell::OnceCell;

use miniz_oxide::inflate::TINFLStatus;
use miniz_oxide::inflate::core::{DecompressorOxide, decompress, inflate_flags};

use super::ip::{decode_ipv4, decode_ipv6};
use super::tunnel::enter_tunnel;
use super::{Encapsulation, Layer, Packet, Verify};

/// Room for the bytes a frame's IPComp payload inflates to, owned by the
/// caller of [`decode_in`](super::decode_in) and living as long as the
/// [`Packet`] that points into them. One per frame: decoding the frame
/// again with the same store reuses its bytes, and an IPComp payload
/// inside an inflated one stays compressed.
///
/// ```
/// use lola::packet::decode::{decode_in, Inflated, Transport};
/// # let path = "fixtures/corpus/tests_filter_AH-IPcomp-IPv6.pcap";
/// # let mut reader = lola::capture::CaptureReader::open(path.as_ref()).unwrap();
/// # reader.next_frame().unwrap(); reader.next_frame().unwrap();
/// # let frame = reader.next_frame().unwrap().unwrap();
/// // Frame 3: IPv6, AH, IPComp, and inside the DEFLATE stream IPv6 and TCP.
/// let store = Inflated::default();
/// let packet = decode_in(frame.link_type, frame.data, frame.orig_len as usize, true, &store);
/// assert!(matches!(packet.transport, Transport::Tcp(_)));
/// assert!(store.bytes().is_some_and(|b| b[0] >> 4 == 6));
/// ```
#[derive(Debug, Default)]
pub struct Inflated(OnceCell<Inflation>);

/// One inflated payload: where its compressed bytes were (address and
/// length, to know them again), what came out, and whether the stream ended.
#[derive(Debug)]
struct Inflation {
    from: (usize, usize),
    bytes: Vec<u8>,
    whole: bool,
}

impl Inflated {
    /// The inflated bytes, once a frame's IPComp payload was inflated.
    pub fn bytes(&self) -> Option<&[u8]> {
        self.0.get().map(|i| i.bytes.as_slice())
    }

    /// What `compressed` inflated to, inflating it if the store is still
    /// empty: None when it holds another payload's bytes, or nothing came out.
    fn inflate<'a>(&'a self, compressed: &[u8]) -> Option<(&'a [u8], bool)> {
        let from = (compressed.as_ptr() as usize, compressed.len());
        if self.0.get().is_none() {
            let (bytes, whole) = inflate(compressed)?;
            let _ = self.0.set(Inflation { from, bytes, whole });
        }
        let i = self.0.get().filter(|i| i.from == from)?;
        Some((&i.bytes, i.whole))
    }
}

/// The most an IPComp payload inflates to: an IP packet's largest size.
/// A stream that would give more (a "bomb") is cut there.
pub const MAX_INFLATED: usize = 65_535;

/// IP protocol 108.
pub(super) const IPCOMP: u8 = 108;

/// The IPComp header's length.
const HEADER_LEN: usize = 4;

/// An IPComp header and its payload: with a store to inflate into and an
/// IP packet inside, the tunnel is entered (the compressed bytes are the
/// tunnel's `data`); otherwise it stays another protocol.
pub(super) fn decode_ipcomp<'a>(payload: &'a [u8], verify: Verify, packet: &mut Packet<'a>) {
    let Some(store) = packet.store else { return };
    let (Some(&next), Some(compressed)) = (payload.first(), payload.get(HEADER_LEN..)) else {
        return;
    };
    if !matches!(next, 4 | 41) {
        return;
    }
    let Some((inner, whole)) = store.inflate(compressed) else {
        return;
    };
    enter_tunnel(Encapsulation::IpComp, Some(Layer::Data(compressed)), packet);
    let wire_len = (whole && verify.complete).then_some(inner.len());
    if next == 4 {
        decode_ipv4(inner, wire_len, verify.verify, packet);
    } else {
        decode_ipv6(inner, wire_len, verify.verify, packet);
    }
}

/// What `compressed` inflates to, as Wireshark's `tvb_uncompress` reads
/// it: a zlib stream, or raw DEFLATE when the zlib reading fails before
/// its first byte out. None when nothing comes out; true with the bytes
/// when the stream ended within the bytes given and the limit.
fn inflate(compressed: &[u8]) -> Option<(Vec<u8>, bool)> {
    let (out, done) = match inflate_as(compressed, true) {
        (out, done) if !out.is_empty() || done => (out, done),
        _ => inflate_as(compressed, false),
    };
    (!out.is_empty()).then_some((out, done))
}

/// Inflates `input` (a zlib stream with `zlib`, else raw DEFLATE) up to
/// [`MAX_INFLATED`] bytes: what came out, and whether the stream ended.
fn inflate_as(input: &[u8], zlib: bool) -> (Vec<u8>, bool) {
    let mut flags = inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    if zlib {
        flags |= inflate_flags::TINFL_FLAG_PARSE_ZLIB_HEADER;
    }
    let mut out = vec![0; input.len().saturating_mul(2).clamp(1024, MAX_INFLATED)];
    let mut state = Box::<DecompressorOxide>::default();
    let (mut input, mut at) = (input, 0);
    let done = loop {
        let (status, read, written) = decompress(&mut state, input, &mut out, at, flags);
        at += written;
        input = input.get(read..).unwrap_or(&[]);
        match status {
            TINFLStatus::Done => break true,
            TINFLStatus::HasMoreOutput if out.len() < MAX_INFLATED => {
                let len = out.len().saturating_mul(2).min(MAX_INFLATED);
                out.resize(len, 0);
            }
            _ => break false,
        }
    };
    out.truncate(at);
    (out, done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::decode::tests::TCPDUMP_LO_V4;
    use crate::packet::decode::{Transport, decode_in, decode_with};

    /// TCPDUMP_LO_V4 (IPv4, UDP, "Hello Lola") inside an IPComp header
    /// (next header 4) of an outer IPv4 packet, `body` its compressed bytes.
    fn ipcomp_frame(body: &[u8]) -> Vec<u8> {
        let mut frame = TCPDUMP_LO_V4[..34].to_vec();
        frame[14 + 9] = IPCOMP;
        frame.extend_from_slice(&[4, 0, 0, 2]);
        frame.extend_from_slice(body);
        let total = (frame.len() - 14) as u16;
        frame[16..18].copy_from_slice(&total.to_be_bytes());
        frame
    }

    #[test]
    fn a_deflated_ip_packet_is_decoded_as_a_tunnel() {
        let inner = &TCPDUMP_LO_V4[14..];
        for body in [
            miniz_oxide::deflate::compress_to_vec(inner, 6),
            miniz_oxide::deflate::compress_to_vec_zlib(inner, 6),
        ] {
            let frame = ipcomp_frame(&body);
            // Unverified: the outer header's checksum was not recomputed.
            let store = Inflated::default();
            let p = decode_in(1, &frame, frame.len(), false, &store);
            let Transport::Udp(udp) = &p.transport else {
                panic!("{p:?}")
            };
            assert_eq!(udp.payload, b"Hello Lola");
            assert_eq!(p.encapsulation, Some(Encapsulation::IpComp));
            let names: Vec<&str> = p.tunnel_layers.iter().map(Layer::name).collect();
            assert_eq!(names, ["ip", "data"]);
            assert!(matches!(p.tunnel_layers[1], Layer::Data(b) if b == &body[..]));
            assert!(p.problems.is_empty(), "{:?}", p.problems);
            // Decoded again with the same store: the same bytes, reused.
            let again = decode_in(1, &frame, frame.len(), false, &store);
            assert!(matches!(again.transport, Transport::Udp(_)));
            // Without a store it stays another protocol, as before.
            let p = decode_with(1, &frame, frame.len(), true);
            assert!(matches!(p.transport, Transport::Other));
            assert!(p.tunnel_layers.is_empty());
        }
    }

    #[test]
    fn a_cut_stream_gives_what_came_out_and_garbage_gives_nothing() {
        let inner = &TCPDUMP_LO_V4[14..];
        let body = miniz_oxide::deflate::compress_to_vec(inner, 0); // stored block
        let (whole, done) = inflate(&body).unwrap();
        assert_eq!((&whole[..], done), (inner, true));
        let (part, done) = inflate(&body[..body.len() - 4]).unwrap();
        assert_eq!((&part[..], done), (&inner[..inner.len() - 4], false));
        assert_eq!(inflate(&[0xff; 16]), None);
        assert_eq!(inflate(&[]), None);
        // Garbage after IPComp: no tunnel, no panic.
        let frame = ipcomp_frame(&[0xff; 16]);
        let store = Inflated::default();
        let p = decode_in(1, &frame, frame.len(), true, &store);
        assert!(p.encapsulation.is_none() && store.bytes().is_none());
    }

    #[test]
    fn a_bomb_is_cut_at_the_largest_ip_packet() {
        let zeros = vec![0u8; 10 * MAX_INFLATED];
        let body = miniz_oxide::deflate::compress_to_vec(&zeros, 9);
        assert!(body.len() < 1000, "{}", body.len());
        let (out, done) = inflate(&body).unwrap();
        assert_eq!((out.len(), done), (MAX_INFLATED, false));
    }

    #[test]
    fn every_prefix_of_an_ipcomp_frame_decodes_without_panic() {
        let body = miniz_oxide::deflate::compress_to_vec(&TCPDUMP_LO_V4[14..], 6);
        let frame = ipcomp_frame(&body);
        for n in 0..frame.len() {
            let store = Inflated::default();
            let p = decode_in(1, &frame[..n], frame.len(), true, &store);
            let _ = crate::packet::summary::summarize(&p);
        }
    }
}
