//! Field-by-field comparison of two Ethernet frames, with tshark's field
//! names: the synthesized frame against the one the kernel really sent.
//!
//! Some fields legitimately differ between the frame lola builds and the one
//! Linux puts on `lo`; those are named as expected differences, with the
//! reason, rather than hidden.

use std::fmt;

use crate::check::quote_bytes;
use crate::decode::{ChecksumState, Packet, Transport, decode};

/// How a field compares.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase", tag = "status", content = "why")]
pub enum Status {
    /// Equal.
    Same,
    /// Different, as it should be; the reason says why.
    Expected(&'static str),
    /// Different, and it should not be.
    Different,
}

/// One field of both frames.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FieldDiff {
    /// tshark's name for the field (`ip.ttl`, `udp.srcport`).
    pub field: &'static str,
    /// Its value in the first frame (the synthesized one).
    pub left: String,
    /// Its value in the second frame (the observed one).
    pub right: String,
    /// How they compare.
    #[serde(flatten)]
    pub status: Status,
}

/// The comparison of two frames.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Comparison {
    /// Every field, in header order.
    pub fields: Vec<FieldDiff>,
}

impl Comparison {
    /// True when no field differs unexpectedly.
    pub fn equivalent(&self) -> bool {
        self.fields.iter().all(|f| f.status != Status::Different)
    }

    /// The fields that differ unexpectedly.
    pub fn unexpected(&self) -> impl Iterator<Item = &FieldDiff> {
        self.fields.iter().filter(|f| f.status == Status::Different)
    }
}

const WHY_ID: &str =
    "Linux picks the IPv4 identification from a hashed per-destination counter; lola writes 0";
const WHY_IP_CHECKSUM: &str = "follows from ip.id; both are correct";
const WHY_UDP_CHECKSUM: &str = "Linux leaves the UDP checksum partial on lo (pseudo-header only, checksum offload); lola writes it whole";
const WHY_FLOW: &str = "Linux sets a hashed flow label (net.ipv6.auto_flowlabels); lola writes 0";

/// Compares `left` (synthesized) and `right` (observed), both Ethernet frames.
///
/// ```
/// use lola::{build_frame, Datagram};
/// let d = Datagram::new("127.0.0.1:40000".parse().unwrap(), "127.0.0.1:7456".parse().unwrap(), b"Hello Lola".to_vec());
/// let a = build_frame(&d).unwrap();
/// let mut b = a.clone();
/// b[18] = 0x12; // the IPv4 identification Linux would pick...
/// b[24] = 0; b[25] = 0; // ...and a header checksum that no longer verifies
/// let c = lola::compare::compare_frames(&a, &b);
/// assert!(!c.equivalent(), "a bad ip.checksum is not an expected difference");
/// ```
pub fn compare_frames(left: &[u8], right: &[u8]) -> Comparison {
    let l = decode(crate::capture::LINKTYPE_ETHERNET, left, left.len());
    let r = decode(crate::capture::LINKTYPE_ETHERNET, right, right.len());
    let mut fields = Vec::new();
    let mut push = |field: &'static str, a: String, b: String, expected: Option<&'static str>| {
        let status = if a == b {
            Status::Same
        } else if let Some(why) = expected {
            Status::Expected(why)
        } else {
            Status::Different
        };
        fields.push(FieldDiff {
            field,
            left: a,
            right: b,
            status,
        });
    };
    push(
        "frame.len",
        left.len().to_string(),
        right.len().to_string(),
        None,
    );
    let mac = |m: Option<[u8; 6]>| {
        m.map(|m| {
            m.iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":")
        })
        .unwrap_or_default()
    };
    let link = |p: &Packet<'_>| p.link.clone();
    let (ll, rl) = (link(&l), link(&r));
    push(
        "eth.dst",
        mac(ll.as_ref().and_then(|x| x.dst_mac)),
        mac(rl.as_ref().and_then(|x| x.dst_mac)),
        None,
    );
    push(
        "eth.src",
        mac(ll.as_ref().and_then(|x| x.src_mac)),
        mac(rl.as_ref().and_then(|x| x.src_mac)),
        None,
    );
    let etype = |x: &Option<crate::decode::Link>| {
        x.as_ref()
            .and_then(|x| x.ether_type)
            .map(|t| format!("0x{t:04x}"))
            .unwrap_or_default()
    };
    push("eth.type", etype(&ll), etype(&rl), None);

    if let (Some(a), Some(b)) = (&l.ip, &r.ip) {
        let v6 = a.version == 6;
        push(
            "ip.version",
            a.version.to_string(),
            b.version.to_string(),
            None,
        );
        if v6 {
            push(
                "ipv6.tclass",
                format!("0x{:02x}", a.tos),
                format!("0x{:02x}", b.tos),
                None,
            );
            push(
                "ipv6.flow",
                flow_label(left),
                flow_label(right),
                Some(WHY_FLOW),
            );
            push(
                "ipv6.plen",
                (a.total_len - 40).to_string(),
                (b.total_len - 40).to_string(),
                None,
            );
            push(
                "ipv6.nxt",
                a.protocol.to_string(),
                b.protocol.to_string(),
                None,
            );
            push("ipv6.hlim", a.ttl.to_string(), b.ttl.to_string(), None);
            push("ipv6.src", a.src.to_string(), b.src.to_string(), None);
            push("ipv6.dst", a.dst.to_string(), b.dst.to_string(), None);
        } else {
            push(
                "ip.hdr_len",
                a.header_len.to_string(),
                b.header_len.to_string(),
                None,
            );
            push(
                "ip.dsfield",
                format!("0x{:02x}", a.tos),
                format!("0x{:02x}", b.tos),
                None,
            );
            push(
                "ip.len",
                a.total_len.to_string(),
                b.total_len.to_string(),
                None,
            );
            let id = |x: Option<u16>| x.map(|v| format!("0x{v:04x}")).unwrap_or_default();
            push(
                "ip.id",
                id(a.identification),
                id(b.identification),
                Some(WHY_ID),
            );
            let flags = |ip: &crate::decode::Ip| {
                if ip.dont_fragment {
                    "DF".to_string()
                } else {
                    "-".to_string()
                }
            };
            push("ip.flags", flags(a), flags(b), None);
            push("ip.ttl", a.ttl.to_string(), b.ttl.to_string(), None);
            push(
                "ip.proto",
                a.protocol.to_string(),
                b.protocol.to_string(),
                None,
            );
            let both_correct = [a, b].iter().all(|ip| {
                ip.header_checksum
                    .is_some_and(|c| c.state == ChecksumState::Correct)
            });
            let cs = |ip: &crate::decode::Ip| {
                ip.header_checksum
                    .map(|c| format!("0x{:04x} {}", c.value, c.state.word()))
                    .unwrap_or_default()
            };
            push(
                "ip.checksum",
                cs(a),
                cs(b),
                both_correct.then_some(WHY_IP_CHECKSUM),
            );
            push("ip.src", a.src.to_string(), b.src.to_string(), None);
            push("ip.dst", a.dst.to_string(), b.dst.to_string(), None);
        }
    }
    match (&l.transport, &r.transport) {
        (Transport::Udp(a), Transport::Udp(b)) => {
            push(
                "udp.srcport",
                a.src_port.to_string(),
                b.src_port.to_string(),
                None,
            );
            push(
                "udp.dstport",
                a.dst_port.to_string(),
                b.dst_port.to_string(),
                None,
            );
            push(
                "udp.length",
                a.length.to_string(),
                b.length.to_string(),
                None,
            );
            let expected_partial = matches!(
                (a.checksum.state, b.checksum.state),
                (ChecksumState::Correct, ChecksumState::Partial { .. })
            );
            push(
                "udp.checksum",
                format!("0x{:04x} {}", a.checksum.value, a.checksum.state.word()),
                format!("0x{:04x} {}", b.checksum.value, b.checksum.state.word()),
                expected_partial.then_some(WHY_UDP_CHECKSUM),
            );
            push("data", quote_bytes(a.payload), quote_bytes(b.payload), None);
        }
        (a, b) => push("transport", describe(a), describe(b), None),
    }
    Comparison { fields }
}

fn flow_label(frame: &[u8]) -> String {
    match frame.get(14..18) {
        Some(b) => format!("0x{:05x}", u32::from_be_bytes([0, b[1] & 0x0f, b[2], b[3]])),
        None => String::new(),
    }
}

fn describe(t: &Transport<'_>) -> String {
    match t {
        Transport::Udp(_) => "UDP".into(),
        Transport::Tcp(_) => "TCP".into(),
        Transport::Icmp(_) => "ICMP".into(),
        Transport::Fragment(_) => "fragment".into(),
        Transport::Other => "other".into(),
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w0 = self
            .fields
            .iter()
            .map(|x| x.field.len())
            .max()
            .unwrap_or(5)
            .max(5);
        let w1 = self
            .fields
            .iter()
            .map(|x| x.left.chars().count())
            .max()
            .unwrap_or(11)
            .max(11);
        let w2 = self
            .fields
            .iter()
            .map(|x| x.right.chars().count())
            .max()
            .unwrap_or(8)
            .max(8);
        writeln!(
            f,
            "  {:w0$}  {:w1$}  {:w2$}",
            "field", "synthesized", "observed"
        )?;
        for x in &self.fields {
            let status = match &x.status {
                Status::Same => "same".to_string(),
                Status::Expected(why) => format!("expected: {why}"),
                Status::Different => "DIFFERENT".to_string(),
            };
            let (left, right) = (pad(&x.left, w1), pad(&x.right, w2));
            writeln!(f, "  {:w0$}  {left}  {right}  {status}", x.field)?;
        }
        Ok(())
    }
}

/// Pads by characters, not bytes (quoted payloads may hold `…`).
fn pad(s: &str, width: usize) -> String {
    let n = s.chars().count();
    format!("{s}{}", " ".repeat(width.saturating_sub(n)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Datagram, build_frame};

    fn frame() -> Vec<u8> {
        build_frame(&Datagram::new(
            "127.0.0.1:40000".parse().unwrap(),
            "127.0.0.1:7456".parse().unwrap(),
            b"Hello Lola".to_vec(),
        ))
        .unwrap()
    }

    /// Frame 1 of fixtures/seed-ipv4.pcap (tcpdump -i lo), source port 48801.
    const TCPDUMP: [u8; 52] = [
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00, 0x45, 0x00, 0x00, 0x26, 0x46, 0xce, 0x40,
        0x00, 0x40, 0x11, 0xf5, 0xf6, 0x7f, 0, 0, 1, 0x7f, 0, 0, 1, 0xbe, 0xa1, 0x1d, 0x20, 0x00,
        0x12, 0xfe, 0x25, b'H', b'e', b'l', b'l', b'o', b' ', b'L', b'o', b'l', b'a',
    ];

    #[test]
    fn linux_frame_differs_only_where_expected() {
        let synthesized = build_frame(&Datagram::new(
            "127.0.0.1:48801".parse().unwrap(),
            "127.0.0.1:7456".parse().unwrap(),
            b"Hello Lola".to_vec(),
        ))
        .unwrap();
        let c = compare_frames(&synthesized, &TCPDUMP);
        assert!(c.equivalent(), "{c}");
        let expected: Vec<_> = c
            .fields
            .iter()
            .filter(|f| matches!(f.status, Status::Expected(_)))
            .map(|f| f.field)
            .collect();
        assert_eq!(expected, ["ip.id", "ip.checksum", "udp.checksum"]);
    }

    #[test]
    fn a_different_port_or_ttl_is_unexpected() {
        let c = compare_frames(&frame(), &TCPDUMP);
        let bad: Vec<_> = c.unexpected().map(|f| f.field).collect();
        assert_eq!(bad, ["udp.srcport"]);
        let mut ttl = frame();
        ttl[22] = 63;
        let c = compare_frames(&frame(), &ttl);
        assert!(c.unexpected().any(|f| f.field == "ip.ttl"), "{c}");
    }
}
