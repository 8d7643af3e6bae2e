//! Which dissector of tshark 4.0 takes a UDP payload when its ports alone do
//! not say, so that the payload is not `data`: the port tables (`ports`)
//! first, then the two heuristic dissectors lola follows, QUIC's and
//! TFTP's, and the TFTP dissector's rule for what of its payload is `data`.
//!
//! This is what one datagram says by itself. Both dissectors also take the
//! later datagrams of the conversation they find (QUIC: the same two
//! endpoints; TFTP: the client's address and port with any port of the
//! server's address): that needs the capture's history, kept by the fields
//! layer's conversation table, which asks [`udp_claim`] of every datagram.

use super::ports;

/// The UDP port of TFTP (`udp.port` 69 in tshark 4.0's table).
pub const TFTP_PORT: u16 = 69;

/// TFTP's DATA opcode: the bytes after its 4-byte header are `data`.
const TFTP_DATA: u16 = 3;

/// Who takes a UDP datagram's payload in tshark 4.0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dissector {
    /// The dissector of one of its ports (`ports::UDP_PORTS`), or none: the
    /// payload is `data` when no port has one.
    Port,
    /// QUIC (`packet-quic.c`): no `data`.
    Quic,
    /// TFTP (`packet-tftp.c`): a DATA block's bytes after its 4-byte header
    /// are `data`, nothing else is.
    Tftp,
}

/// What one datagram says: who takes it, and whether it starts a
/// conversation that dissector will take the later datagrams of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Claim {
    /// Who takes this datagram.
    pub dissector: Dissector,
    /// True when the dissector sets itself on a conversation here: QUIC's
    /// heuristic on the two endpoints, a TFTP read or write request on the
    /// client's address and port and the server's address.
    pub starts: bool,
}

/// Who takes the payload of a UDP datagram from `src_port` to `dst_port`,
/// as tshark 4.0 decides it with no conversation yet: the lower port's
/// dissector, then the higher's (port 69 is TFTP's), then the heuristic
/// dissectors ([`quic_heuristic`] before [`tftp_request`]).
pub fn udp_claim(src_port: u16, dst_port: u16, payload: &[u8]) -> Claim {
    match ports::claimed(ports::UDP_PORTS, src_port, dst_port) {
        // dissect_tftp: a request to port 69 sets TFTP on the client's
        // address and port and the server's address, any port.
        Some(TFTP_PORT) => Claim {
            dissector: Dissector::Tftp,
            starts: dst_port == TFTP_PORT && tftp_request(payload, true),
        },
        Some(_) => Claim {
            dissector: Dissector::Port,
            starts: false,
        },
        None if quic_heuristic(payload) => Claim {
            dissector: Dissector::Quic,
            starts: true,
        },
        None if tftp_request(payload, false) => Claim {
            dissector: Dissector::Tftp,
            starts: true,
        },
        None => Claim {
            dissector: Dissector::Port,
            starts: false,
        },
    }
}

/// False when `payload` can start no conversation ([`Claim::starts`]
/// would be false whatever its ports); true for some that do not. What the
/// checker's fast path asks of each datagram it skips, in a few
/// instructions: a QUIC long header has its first bit set and 13 bytes; a
/// TFTP request at least 8 bytes (opcode, an empty file name, `mail`) and a
/// NUL after its opcode, looked for 8 bytes at a time (the last word may
/// take in the opcode: a false alarm costs only a closer look). `payload`
/// may run on past the datagram's end (the bytes after its UDP header,
/// captured): more bytes only make it true more often.
#[inline(always)]
pub fn may_start(payload: &[u8]) -> bool {
    let n = payload.len();
    if n < 8 {
        return false;
    }
    if payload[0] & 0x80 != 0 && n >= 13 {
        return true;
    }
    let word = |at: usize| {
        let w = &payload[at..at + 8];
        u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]])
    };
    let mut at = 2;
    while at + 8 < n {
        if has_nul(word(at)) {
            return true;
        }
        at += 8;
    }
    has_nul(word(n - 8))
}

/// True when a byte of `w` is 0.
#[inline(always)]
fn has_nul(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    w.wrapping_sub(ONES) & !w & HIGHS != 0
}

/// `dissect_quic_heur` of tshark 4.0 on a long header: at least 13 bytes,
/// the long-header bit, a version whose draft number is 11 or more
/// (`quic_draft_version`: drafts 0xff00000b..0xff0000ff, version 1, QUIC v2
/// 0x6b3343cf, Facebook's mvfst 0xfaceb001/2/e, Google's Q050/T050/T051,
/// and the 0x?a?a?a?a versions that force negotiation), and connection ID
/// lengths of at most 20 with the source one's length byte captured. A
/// short header is taken only by a connection already known (by its
/// connection ID, which lola does not follow) or by a conversation.
pub fn quic_heuristic(payload: &[u8]) -> bool {
    const MAX_CID: usize = 20;
    if payload.len() < 13 || payload[0] & 0x80 == 0 {
        return false;
    }
    let version = u32::from_be_bytes([payload[1], payload[2], payload[3], payload[4]]);
    let known = version >> 8 == 0x00ff_0000 && version & 0xff >= 11
        || matches!(
            version,
            0x0000_0001
                | 0x6b33_43cf
                | 0xface_b001
                | 0xface_b002
                | 0xface_b00e
                | 0x5130_3530
                | 0x5430_3530
                | 0x5430_3531
        )
        || version & 0x0f0f_0f0f == 0x0a0a_0a0a;
    if !known {
        return false;
    }
    let dcid = usize::from(payload[5]);
    if dcid > MAX_CID {
        return false;
    }
    payload
        .get(6 + dcid)
        .is_some_and(|&scid| usize::from(scid) <= MAX_CID)
}

/// A TFTP read or write request as tshark 4.0 knows one
/// (`is_valid_request_body`): after the 2-byte opcode, only printable ASCII
/// and NULs, an even number (not 0) of NULs, and a transfer mode (the second
/// string) of `netascii`, `octet` or `mail` in any case. Sent to port 69
/// (`to_port`), the opcode must also be 1 (RRQ) or 2 (WRQ); the heuristic
/// dissector on other ports does not look at it.
pub fn tftp_request(payload: &[u8], to_port: bool) -> bool {
    if to_port && !matches!(payload.get(..2), Some([0, 1 | 2])) {
        return false;
    }
    let Some(body) = payload.get(2..) else {
        return false;
    };
    let mut nuls = 0;
    for &b in body {
        match b {
            0 => nuls += 1,
            0x20..=0x7e => {}
            _ => return false,
        }
    }
    if nuls == 0 || nuls % 2 != 0 {
        return false;
    }
    let mut strings = body.split(|&b| b == 0);
    let mode = strings.nth(1).unwrap_or_default();
    ["netascii", "octet", "mail"]
        .iter()
        .any(|m| mode.eq_ignore_ascii_case(m.as_bytes()))
}

/// The `data` of a TFTP message: a DATA block's bytes after its opcode and
/// block number; none for any other opcode.
pub fn tftp_data(payload: &[u8]) -> &[u8] {
    match payload {
        [op0, op1, _, _, data @ ..] if u16::from_be_bytes([*op0, *op1]) == TFTP_DATA => data,
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A long header of `version` with an 8-byte destination connection ID
    /// and none for the source.
    fn long_header(version: u32) -> Vec<u8> {
        let mut p = vec![0xc0];
        p.extend(version.to_be_bytes());
        p.push(8);
        p.extend([0x41; 8]);
        p.push(0);
        p.extend([0; 30]);
        p
    }

    #[test]
    fn quic_versions_tshark_4_0_takes() {
        // Each checked against tshark 4.0.17 on a datagram between two
        // ports no dissector has.
        for v in [
            0xff00_000b,
            0xff00_001d,
            0xff00_0064,
            0xff00_00ff,
            1,
            0x6b33_43cf,
            0xface_b001,
            0xface_b00e,
            0x5130_3530,
            0x5430_3531,
            0x1a2a_3a4a,
        ] {
            assert!(quic_heuristic(&long_header(v)), "{v:#x}");
        }
        for v in [
            0,
            2,
            0xff00_0000,
            0xff00_000a,
            0xff02_0000,
            0x709a_50c4,
            0xface_b003,
            0x5130_3434,
            0xabcd_0000,
        ] {
            assert!(!quic_heuristic(&long_header(v)), "{v:#x}");
        }
    }

    #[test]
    fn quic_needs_a_long_header_with_short_connection_ids() {
        let good = long_header(1);
        assert!(quic_heuristic(&good));
        let mut short = good.clone();
        short[0] = 0x40;
        assert!(!quic_heuristic(&short));
        let mut dcid = good.clone();
        dcid[5] = 21;
        assert!(!quic_heuristic(&dcid));
        let mut scid = good.clone();
        scid[14] = 21;
        assert!(!quic_heuristic(&scid));
        // 13 bytes: the source ID's length byte (at 14) is not there.
        assert!(!quic_heuristic(&good[..13]));
        assert!(quic_heuristic(&good[..15]));
        let mut seven = good.clone();
        seven[5] = 7;
        seven[13] = 0;
        assert!(quic_heuristic(&seven[..14]));
        assert!(!quic_heuristic(&seven[..13]));
    }

    #[test]
    fn tftp_requests_as_tshark_4_0_reads_them() {
        assert!(tftp_request(b"\x00\x01f\x00octet\x00", true));
        assert!(tftp_request(b"\x00\x02f\x00NETASCII\x00", true));
        assert!(tftp_request(b"\x00\x01\x00mail\x00", true));
        assert!(tftp_request(
            b"\x00\x01f\x00octet\x00blksize\x00512\x00",
            true
        ));
        assert!(tftp_request(b"\x00\x01f\x00octet\x00junk", true));
        // No second NUL, a mode tshark 4.0 does not know (nor its later
        // misspelling), a byte that is not printable, not a request.
        assert!(!tftp_request(b"\x00\x01f\x00octet", true));
        assert!(!tftp_request(b"\x00\x01f\x00netscii\x00", true));
        assert!(!tftp_request(b"\x00\x01f\x00\x00", true));
        assert!(!tftp_request(b"\x00\x01\xff\x00octet\x00", true));
        assert!(!tftp_request(b"\x00\x04f\x00octet\x00", true));
        assert!(!tftp_request(b"\x00\x01", true));
        // The heuristic dissector skips the opcode.
        assert!(tftp_request(b"xxf\x00octet\x00", false));
        assert!(!tftp_request(b"Hello Lola", false));
    }

    #[test]
    fn a_claim_is_the_ports_then_quic_then_tftp() {
        let rrq = b"\x00\x01f\x00octet\x00";
        let claim = |s, d, p: &[u8]| {
            let c = udp_claim(s, d, p);
            (c.dissector, c.starts)
        };
        assert_eq!(claim(40000, 69, rrq), (Dissector::Tftp, true));
        // From port 69: TFTP's, but no conversation (tshark 4.0 sets one
        // only on a request to the port).
        assert_eq!(claim(69, 40000, rrq), (Dissector::Tftp, false));
        assert_eq!(claim(40000, 69, b"junk"), (Dissector::Tftp, false));
        // DNS's port is the lower one.
        assert_eq!(claim(53, 69, rrq), (Dissector::Port, false));
        assert_eq!(claim(40000, 50000, rrq), (Dissector::Tftp, true));
        assert_eq!(claim(40000, 443, &long_header(1)), (Dissector::Quic, true));
        assert_eq!(claim(53, 40000, &long_header(1)), (Dissector::Port, false));
        assert_eq!(claim(40000, 7456, b"Hello Lola"), (Dissector::Port, false));
    }

    #[test]
    fn what_may_not_start_a_conversation_starts_none() {
        // Random payloads, most of them near a request or a long header.
        let mut seed = 0x2026_1205_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let words: [&[u8]; 6] = [
            b"\x00\x01",
            b"f\x00",
            b"octet\x00",
            b"MAIL\x00",
            b"\xc0\x00\x00\x00\x01",
            b"\x08",
        ];
        let mut started = 0;
        for _ in 0..200_000 {
            let mut p = Vec::new();
            for _ in 0..next() % 9 {
                match next() % 3 {
                    0 => p.extend_from_slice(words[(next() % 6) as usize]),
                    1 => p.push(next() as u8),
                    _ => p.push(b'a' + (next() % 26) as u8),
                }
            }
            for ports in [(40000, 69), (40000, 50000), (69, 40000), (53, 40000)] {
                let claim = udp_claim(ports.0, ports.1, &p);
                if claim.starts {
                    started += 1;
                    assert!(may_start(&p), "{p:?}");
                }
            }
        }
        assert!(started > 1000, "{started}");
        // No NUL after the opcode, at any length: no conversation can start.
        for n in 0..40 {
            let mut p = vec![b'a'; n];
            assert!(!may_start(&p), "{n}");
            for at in 2..n {
                p[at] = 0;
                assert!(may_start(&p) || n < 8, "{n} {at}");
                p[at] = b'a';
            }
        }
    }

    #[test]
    fn tftp_data_is_a_data_block_after_its_header() {
        assert_eq!(tftp_data(b"\x00\x03\x00\x01abc"), b"abc");
        assert_eq!(tftp_data(b"\x00\x03\x00\x01"), b"");
        assert_eq!(tftp_data(b"\x00\x03\x00"), b"");
        assert_eq!(tftp_data(b"\x00\x04\x00\x01abc"), b"");
        assert_eq!(tftp_data(b"\x00\x05\x00\x01oops\x00"), b"");
    }
}
