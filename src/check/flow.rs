//! Conversations in a capture and their ladder diagrams, like Wireshark's
//! Flow Graph: one column per endpoint, one arrow per frame with its flags
//! and length, time on the left.

use std::collections::HashMap;
use std::io::Read;
use std::net::SocketAddr;
use std::time::Duration;

use crate::capture::CaptureReader;
use crate::error::Result;
use crate::packet::decode::{Packet, Transport, decode};
use crate::packet::wire::TcpFlags;

/// Arrows kept per conversation (counts stay exact).
pub const MAX_ARROWS: usize = 60;
/// Conversations kept per file (counts stay exact).
pub const MAX_CONVERSATIONS: usize = 20;

/// What a frame is for, in the seed's terms.
///
/// ```
/// use lola::check::flow::Role::*;
/// # let reader = lola::capture::CaptureReader::open("fixtures/seed-tcp.pcap".as_ref()).unwrap();
/// let flows = lola::check::flow::flows(reader).unwrap();
/// let roles: Vec<_> = flows.conversations[0].arrows.iter().map(|a| a.role).collect();
/// assert_eq!(roles, [Handshake, Handshake, Handshake, Data, Ack, Teardown, Teardown, Teardown]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// SYN, SYN/ACK, and the ACK that completes the handshake.
    Handshake,
    /// A segment or datagram carrying data.
    Data,
    /// A bare acknowledgement of data.
    Ack,
    /// FIN or RST, and acknowledgements after the first FIN.
    Teardown,
    /// An ICMP error about the conversation.
    Icmp,
}

/// One frame of a conversation.
///
/// ```
/// # let reader = lola::capture::CaptureReader::open("fixtures/seed-tcp.pcap".as_ref()).unwrap();
/// let flows = lola::check::flow::flows(reader).unwrap();
/// let syn_ack = &flows.conversations[0].arrows[1];
/// assert_eq!((syn_ack.frame, syn_ack.label.as_str(), syn_ack.length), (2, "SYN, ACK", 74));
/// assert!(!syn_ack.rightward, "from the server back to the client");
/// assert_eq!(syn_ack.time, std::time::Duration::from_micros(136));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Arrow {
    /// 1-based frame number in the file.
    pub frame: u64,
    /// Time since the conversation's first frame.
    #[serde(serialize_with = "millis", rename = "time_ms")]
    #[schemars(with = "f64", rename = "time_ms")]
    pub time: Duration,
    /// True when it goes from the left endpoint (the one that spoke first).
    pub rightward: bool,
    /// `SYN`, `SYN, ACK`, `PSH, ACK`, `UDP`, `ICMP port unreachable`...
    pub label: String,
    /// Frame length on the wire.
    pub length: u32,
    /// Bytes of data carried.
    pub data_len: usize,
    /// What the frame is for.
    pub role: Role,
    /// The first [`PAYLOAD_KEPT`] bytes of the data it carries, when the
    /// flows were read with [`flows_with_payloads`]; else empty. (Not in
    /// the JSON document.)
    #[serde(skip)]
    #[schemars(skip)]
    pub payload: Vec<u8>,
}

/// How many bytes of each arrow's data [`flows_with_payloads`] keeps.
pub const PAYLOAD_KEPT: usize = 32;

impl Arrow {
    /// The arrow's words: its flags (or `UDP`, or the ICMP message), the
    /// bytes of data it carries, and its size on the wire.
    ///
    /// ```
    /// # let reader = lola::capture::CaptureReader::open("fixtures/seed-tcp.pcap".as_ref()).unwrap();
    /// let flows = lola::check::flow::flows(reader).unwrap();
    /// let captions: Vec<String> = flows.conversations[0].arrows.iter().map(|a| a.caption()).collect();
    /// assert_eq!(captions[0], "SYN · 74 B");
    /// assert_eq!(captions[3], "PSH, ACK · 10 B data · 76 B");
    /// ```
    pub fn caption(&self) -> String {
        if self.data_len > 0 || self.role == Role::Data {
            format!(
                "{} · {} B data · {} B",
                self.label, self.data_len, self.length
            )
        } else {
            format!("{} · {} B", self.label, self.length)
        }
    }
}

impl Role {
    /// Every role, in the order a legend lists them.
    pub const ALL: [Role; 5] = [
        Role::Handshake,
        Role::Data,
        Role::Ack,
        Role::Teardown,
        Role::Icmp,
    ];

    /// The role's name in a legend: `handshake`, `data`, `ack`, `teardown`, `ICMP`.
    ///
    /// ```
    /// assert_eq!(lola::check::flow::Role::Icmp.name(), "ICMP");
    /// ```
    pub fn name(self) -> &'static str {
        // The glossary's words, in the order of the variants.
        crate::packet::glossary::ROLES[self as usize].word
    }
}

/// Consecutive arrows of one role: the handshake, the teardown, ...
///
/// ```
/// # let reader = lola::capture::CaptureReader::open("fixtures/seed-tcp.pcap".as_ref()).unwrap();
/// let flows = lola::check::flow::flows(reader).unwrap();
/// use lola::check::flow::Role::*;
/// let groups: Vec<_> = lola::check::flow::groups(&flows.conversations[0].arrows)
///     .into_iter()
///     .map(|g| (g.role, g.arrows))
///     .collect();
/// assert_eq!(groups, [(Handshake, 0..3), (Data, 3..4), (Ack, 4..5), (Teardown, 5..8)]);
/// ```
pub fn groups(arrows: &[Arrow]) -> Vec<Group> {
    let mut out: Vec<Group> = Vec::new();
    for (i, a) in arrows.iter().enumerate() {
        match out.last_mut() {
            Some(g) if g.role == a.role => g.arrows.end = i + 1,
            _ => out.push(Group {
                role: a.role,
                arrows: i..i + 1,
            }),
        }
    }
    out
}

/// A run of arrows of one role; see [`groups`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// Their role.
    pub role: Role,
    /// Their indices in the conversation's arrows.
    pub arrows: std::ops::Range<usize>,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

/// A conversation: two endpoints and the frames between them.
///
/// ```
/// # let reader = lola::capture::CaptureReader::open("fixtures/seed-tcp.pcap".as_ref()).unwrap();
/// let flows = lola::check::flow::flows(reader).unwrap();
/// let c = &flows.conversations[0];
/// assert_eq!((c.protocol, c.left.port(), c.right.port()), ("TCP", 51844, 7456));
/// assert_eq!((c.frames, c.bytes, c.handshake, c.data, c.teardown), (8, 554, 3, 1, 3));
/// assert_eq!(c.time_to_data, Some(std::time::Duration::from_micros(388)));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Conversation {
    /// `TCP` or `UDP`.
    pub protocol: &'static str,
    /// The endpoint that sent the first frame.
    #[serde(serialize_with = "crate::packet::summary::endpoint_json")]
    #[schemars(with = "crate::packet::summary::Endpoint")]
    pub left: SocketAddr,
    /// The other endpoint.
    #[serde(serialize_with = "crate::packet::summary::endpoint_json")]
    #[schemars(with = "crate::packet::summary::Endpoint")]
    pub right: SocketAddr,
    /// Frames between them (all of them, even past the arrows kept).
    pub frames: u64,
    /// Bytes on the wire (original frame lengths).
    pub bytes: u64,
    /// Frames of each role.
    pub handshake: u64,
    /// Teardown frames (FIN, RST and the ACKs after the first FIN).
    pub teardown: u64,
    /// Frames carrying data.
    pub data: u64,
    /// Time from the first frame to the first data from the left endpoint.
    #[serde(serialize_with = "millis_opt", rename = "time_to_data_ms")]
    #[schemars(with = "Option<f64>", rename = "time_to_data_ms")]
    pub time_to_data: Option<Duration>,
    /// The frames, at most [`MAX_ARROWS`].
    pub arrows: Vec<Arrow>,
    #[serde(skip)]
    start: Duration,
    #[serde(skip)]
    fin_seen: bool,
    #[serde(skip)]
    synack_seen: bool,
    #[serde(skip)]
    handshake_done: bool,
}

fn millis_opt<S: serde::Serializer>(
    d: &Option<Duration>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_some(&(d.as_secs_f64() * 1000.0)),
        None => s.serialize_none(),
    }
}

/// Every conversation of a capture (at most [`MAX_CONVERSATIONS`]), in the
/// order they start, and the frames that belong to none.
///
/// ```
/// // `other` to UDP 9999, a TCP connection to 9998, then Hello Lola to UDP 7456.
/// # let reader = lola::capture::CaptureReader::open("fixtures/other-flows.pcap".as_ref()).unwrap();
/// let flows = lola::check::flow::flows(reader).unwrap();
/// let c = &flows.conversations;
/// let seen: Vec<_> = c.iter().map(|c| (c.protocol, c.right.port(), c.frames)).collect();
/// assert_eq!(seen, [("UDP", 9999, 1), ("TCP", 9998, 8), ("UDP", 7456, 1)]);
/// assert_eq!((flows.more_conversations, flows.other_frames), (0, 0));
/// ```
#[derive(Clone, Debug, Default, serde::Serialize, schemars::JsonSchema)]
pub struct Flows {
    /// Version of this JSON schema (what `lola flow --json` prints).
    pub schema_version: u32,
    /// The conversations.
    pub conversations: Vec<Conversation>,
    /// Conversations past [`MAX_CONVERSATIONS`], counted only.
    pub more_conversations: u64,
    /// Frames that are not UDP/TCP/ICMP-about-a-flow.
    pub other_frames: u64,
}

/// Reads a capture and sorts its frames into conversations.
///
/// ```
/// use lola::capture::CaptureReader;
/// let path = "fixtures/seed-ipv4-no-listener.pcap";
/// let flows = lola::check::flow::flows(CaptureReader::open(path.as_ref()).unwrap()).unwrap();
/// // The datagram and the ICMP error about it are one conversation.
/// let arrows = &flows.conversations[0].arrows;
/// let labels: Vec<&str> = arrows.iter().map(|a| a.label.as_str()).collect();
/// assert_eq!(labels, ["UDP", "ICMP port unreachable"]);
/// ```
pub fn flows<R: Read>(reader: CaptureReader<R>) -> Result<Flows> {
    read_flows(reader, false)
}

/// [`flows`], each arrow keeping the first [`PAYLOAD_KEPT`] bytes of the
/// data it carries (the UDP payload, the TCP segment's data), for ladders
/// that show them.
///
/// ```
/// # let reader = lola::capture::CaptureReader::open("fixtures/seed-tcp.pcap".as_ref()).unwrap();
/// let flows = lola::check::flow::flows_with_payloads(reader).unwrap();
/// let arrows = &flows.conversations[0].arrows;
/// assert_eq!((arrows[0].payload.as_slice(), arrows[3].payload.as_slice()), (&b""[..], &b"Hello Lola"[..]));
/// ```
pub fn flows_with_payloads<R: Read>(reader: CaptureReader<R>) -> Result<Flows> {
    read_flows(reader, true)
}

fn read_flows<R: Read>(mut reader: CaptureReader<R>, payloads: bool) -> Result<Flows> {
    let mut flows = Flows {
        schema_version: crate::SCHEMA_VERSION,
        ..Flows::default()
    };
    let mut index: HashMap<(SocketAddr, SocketAddr), usize> = HashMap::new();
    let mut unlisted: HashMap<(SocketAddr, SocketAddr), ()> = HashMap::new();
    while let Some(frame) = reader.next_frame()? {
        let packet = decode(frame.link_type, frame.data, frame.orig_len as usize);
        let Some(mut sighting) = Sighting::of(&packet) else {
            flows.other_frames += 1;
            continue;
        };
        if payloads && sighting.data_len > 0 {
            sighting.payload = payload(&frame, &packet);
        }
        let (src, dst) = (sighting.src, sighting.dst);
        let key = if src <= dst { (src, dst) } else { (dst, src) };
        let at = match index.get(&key) {
            Some(&at) => at,
            None if flows.conversations.len() < MAX_CONVERSATIONS => {
                let c = Conversation::new(sighting.protocol, src, dst, frame.timestamp);
                flows.conversations.push(c);
                index.insert(key, flows.conversations.len() - 1);
                flows.conversations.len() - 1
            }
            None => {
                if unlisted.len() < 100_000 && unlisted.insert(key, ()).is_none() {
                    flows.more_conversations += 1;
                }
                continue;
            }
        };
        flows.conversations[at].add(frame.number, frame.timestamp, frame.orig_len, sighting);
    }
    Ok(flows)
}

/// The first [`PAYLOAD_KEPT`] bytes of a frame's UDP payload or TCP data.
fn payload(frame: &crate::capture::RawFrame<'_>, packet: &Packet<'_>) -> Vec<u8> {
    let bytes = match &packet.transport {
        Transport::Udp(u) => u.payload,
        Transport::Tcp(_) => {
            let view = crate::packet::fields::FrameView::new(frame, packet);
            match crate::packet::fields::lookup("tcp.payload").and_then(|f| f.get(&view, 0)) {
                Some(crate::packet::fields::Value::Bytes(b)) => b,
                _ => &[],
            }
        }
        _ => &[],
    };
    bytes[..bytes.len().min(PAYLOAD_KEPT)].to_vec()
}

/// What one frame adds to a conversation.
struct Sighting {
    src: SocketAddr,
    dst: SocketAddr,
    protocol: &'static str,
    label: String,
    data_len: usize,
    /// The role, or `None` for TCP, whose role depends on the conversation so far.
    role: Option<Role>,
    flags: TcpFlags,
    /// Its first data bytes, when kept.
    payload: Vec<u8>,
}

impl Sighting {
    /// The sighting of a UDP or TCP frame, or of an ICMP error about a
    /// datagram (which travels back towards the datagram's sender).
    fn of(packet: &Packet<'_>) -> Option<Sighting> {
        let sighting = |(src, dst), protocol, label, data_len, role, flags| Sighting {
            src,
            dst,
            protocol,
            label,
            data_len,
            role,
            flags,
            payload: Vec::new(),
        };
        match (&packet.transport, packet.endpoints()) {
            (Transport::Udp(u), Some(ends)) => Some(sighting(
                ends,
                "UDP",
                "UDP".to_string(),
                u.payload.len(),
                Some(Role::Data),
                TcpFlags::default(),
            )),
            (Transport::Tcp(t), Some(ends)) => {
                let label = if t.flags.is_empty() {
                    "no flags".to_string()
                } else {
                    t.flags.to_string()
                };
                Some(sighting(ends, "TCP", label, t.payload_len, None, t.flags))
            }
            (Transport::Icmp(i), _) => {
                let (s, d) = i.quoted_udp?;
                let label = if i.port_unreachable {
                    "ICMP port unreachable".to_string()
                } else {
                    format!("ICMP type {} code {}", i.icmp_type, i.code)
                };
                let role = Some(Role::Icmp);
                Some(sighting((d, s), "UDP", label, 0, role, TcpFlags::default()))
            }
            _ => None,
        }
    }
}

impl Conversation {
    fn new(protocol: &'static str, left: SocketAddr, right: SocketAddr, start: Duration) -> Self {
        Conversation {
            protocol,
            left,
            right,
            frames: 0,
            bytes: 0,
            handshake: 0,
            teardown: 0,
            data: 0,
            time_to_data: None,
            arrows: Vec::new(),
            start,
            fin_seen: false,
            synack_seen: false,
            handshake_done: false,
        }
    }

    /// What a TCP segment with these flags is for, given the segments before it.
    fn tcp_role(&mut self, flags: TcpFlags, payload_len: usize) -> Role {
        if flags.is_handshake() {
            self.synack_seen |= flags.contains(TcpFlags::ACK);
            Role::Handshake
        } else if flags.is_teardown() {
            self.fin_seen = true;
            Role::Teardown
        } else if payload_len > 0 {
            self.handshake_done = true;
            Role::Data
        } else if self.fin_seen {
            Role::Teardown
        } else if self.synack_seen && !self.handshake_done {
            self.handshake_done = true;
            Role::Handshake
        } else {
            Role::Ack
        }
    }

    fn add(&mut self, frame: u64, timestamp: Duration, length: u32, s: Sighting) {
        let rightward = s.src == self.left;
        let role = match s.role {
            Some(role) => role,
            None => self.tcp_role(s.flags, s.data_len),
        };
        self.frames += 1;
        self.bytes += u64::from(length);
        match role {
            Role::Handshake => self.handshake += 1,
            Role::Teardown => self.teardown += 1,
            Role::Data => self.data += 1,
            _ => {}
        }
        let time = timestamp.saturating_sub(self.start);
        if role == Role::Data && rightward && self.time_to_data.is_none() {
            self.time_to_data = Some(time);
        }
        if self.arrows.len() < MAX_ARROWS {
            self.arrows.push(Arrow {
                frame,
                time,
                rightward,
                label: s.label,
                length,
                data_len: s.data_len,
                role,
                payload: s.payload,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed_tcp() -> Flows {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed-tcp.pcap");
        flows(CaptureReader::open(path.as_ref()).unwrap()).unwrap()
    }

    #[test]
    fn a_tcp_connection_is_handshake_data_ack_teardown() {
        let f = seed_tcp();
        assert_eq!(f.conversations.len(), 1);
        let c = &f.conversations[0];
        let roles: Vec<Role> = c.arrows.iter().map(|a| a.role).collect();
        use Role::*;
        assert_eq!(
            roles,
            [
                Handshake, Handshake, Handshake, Data, Ack, Teardown, Teardown, Teardown
            ]
        );
        assert_eq!((c.frames, c.handshake, c.teardown, c.data), (8, 3, 3, 1));
        assert_eq!(c.left.port(), 51844);
    }
}
