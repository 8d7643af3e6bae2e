//! The capture's UDP conversations that a dissector of tshark's has taken:
//! what makes the `data` of a datagram depend on the datagrams before it.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};

use crate::packet::decode::heuristics::{self, Dissector};
use crate::packet::decode::{Packet, Transport};

/// Remembers, frame after frame, the UDP conversations QUIC and TFTP have
/// set themselves on, as tshark 4.0 does (`conversation_set_dissector`), and
/// says who takes each datagram's payload:
///
/// - a conversation first: QUIC's (found by its heuristic on a long
///   header) takes every later datagram between the same two endpoints,
///   whatever its bytes; TFTP's (set by a read or write request, to port 69
///   or found by TFTP's heuristic) every datagram between the client's
///   address and port and any port of the server's address;
/// - then the datagram alone ([`heuristics::udp_claim`]): its ports, then
///   the heuristics.
///
/// Bounded: past [`Conversations::MAX`] conversations of a kind, a new one
/// is not remembered, and its later datagrams read as they would alone
/// (their payload is `data` unless a port or a heuristic takes it).
///
/// ```
/// use lola::packet::fields::Conversations;
/// use lola::packet::decode::heuristics::Dissector;
/// let mut conversations = Conversations::default();
/// let (client, server) = ("10.0.0.1:1111".parse().unwrap(), "10.0.0.2:69".parse().unwrap());
/// let transfer = "10.0.0.2:2222".parse().unwrap();
/// // A read request to port 69, then the server's DATA from another port.
/// assert_eq!(conversations.observe(client, server, b"\x00\x01f\x00octet\x00"), Dissector::Tftp);
/// assert_eq!(conversations.observe(transfer, client, b"\x00\x03\x00\x01abc"), Dissector::Tftp);
/// ```
#[derive(Default)]
pub struct Conversations {
    /// QUIC's: the two endpoints, the lower first.
    quic: HashSet<(SocketAddr, SocketAddr)>,
    /// TFTP's: the client's address and port, the server's address.
    tftp: HashSet<(SocketAddr, IpAddr)>,
}

impl Conversations {
    /// Conversations of each kind remembered at most.
    pub const MAX: usize = 1 << 16;

    /// Who takes the UDP payload of `packet` (its own datagram: the
    /// innermost), None when it is not UDP.
    pub fn observe_packet(&mut self, packet: &Packet<'_>) -> Option<Dissector> {
        let Transport::Udp(u) = &packet.transport else {
            return None;
        };
        let (src, dst) = packet.endpoints()?;
        Some(self.observe(src, dst, u.payload))
    }

    /// Who takes `payload`, sent from `src` to `dst`, after the datagrams
    /// observed before it; remembers the conversation it starts.
    #[inline]
    pub fn observe(&mut self, src: SocketAddr, dst: SocketAddr, payload: &[u8]) -> Dissector {
        if payload.is_empty() {
            // UDP hands no dissector an empty payload.
            return Dissector::Port;
        }
        if let Some(d) = self.taken(src, dst) {
            return d;
        }
        let claim = heuristics::udp_claim(src.port(), dst.port(), payload);
        if claim.starts {
            match claim.dissector {
                Dissector::Quic if self.quic.len() < Self::MAX => {
                    self.quic.insert(pair(src, dst));
                }
                Dissector::Tftp if self.tftp.len() < Self::MAX => {
                    self.tftp.insert((src, dst.ip()));
                }
                _ => {}
            }
        }
        claim.dissector
    }

    /// The dissector a conversation of the datagram's has, if any: an exact
    /// one (QUIC's) before one with a port left open (TFTP's), as
    /// Wireshark's `find_conversation` prefers them.
    fn taken(&self, src: SocketAddr, dst: SocketAddr) -> Option<Dissector> {
        if self.quic.is_empty() && self.tftp.is_empty() {
            return None;
        }
        if self.quic.contains(&pair(src, dst)) {
            return Some(Dissector::Quic);
        }
        if self.tftp.contains(&(src, dst.ip())) || self.tftp.contains(&(dst, src.ip())) {
            return Some(Dissector::Tftp);
        }
        None
    }
}

/// The two endpoints of a conversation in one order, whichever sent.
fn pair(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    if a <= b { (a, b) } else { (b, a) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_tftp_transfer_is_followed_on_the_ports_its_request_set_up() {
        // As tshark 4.0.17 reads the same datagrams.
        let mut c = Conversations::default();
        let (client, server) = (at("10.0.0.1:1111"), at("10.0.0.2:69"));
        let rrq = b"\x00\x01f\x00octet\x00";
        assert_eq!(c.observe(client, server, rrq), Dissector::Tftp);
        let data = b"\x00\x03\x00\x01zzz";
        assert_eq!(
            c.observe(at("10.0.0.2:2222"), client, data),
            Dissector::Tftp
        );
        assert_eq!(
            c.observe(client, at("10.0.0.2:2222"), b"\x00\x04\x00\x01"),
            Dissector::Tftp
        );
        // Any port of the server's address, either way.
        assert_eq!(
            c.observe(at("10.0.0.2:3333"), client, data),
            Dissector::Tftp
        );
        assert_eq!(
            c.observe(client, at("10.0.0.2:4444"), data),
            Dissector::Tftp
        );
        // Another address, or another client port: not the transfer.
        assert_eq!(
            c.observe(at("10.0.0.3:2222"), client, data),
            Dissector::Port
        );
        assert_eq!(
            c.observe(at("10.0.0.2:2222"), at("10.0.0.1:1112"), data),
            Dissector::Port
        );
        // A datagram to port 69 that is no request sets nothing up.
        assert_eq!(
            c.observe(at("10.0.0.1:5555"), server, data),
            Dissector::Tftp
        );
        assert_eq!(
            c.observe(at("10.0.0.2:6666"), at("10.0.0.1:5555"), data),
            Dissector::Port
        );
    }

    #[test]
    fn quic_takes_every_later_datagram_between_the_same_endpoints() {
        let mut c = Conversations::default();
        let (a, b) = (at("[2001:db8::1]:50606"), at("[2001:db8::2]:443"));
        let mut initial = vec![0xc0, 0, 0, 0, 1, 8];
        initial.extend([0x41; 8]);
        initial.push(0);
        initial.extend([0; 30]);
        // A short header alone is no QUIC ...
        assert_eq!(c.observe(b, a, &[0x40, 1, 2]), Dissector::Port);
        assert_eq!(c.observe(a, b, &initial), Dissector::Quic);
        // ... but it is once the conversation is QUIC's, either way.
        assert_eq!(c.observe(b, a, &[0x40, 1, 2]), Dissector::Quic);
        assert_eq!(c.observe(a, b, &[0]), Dissector::Quic);
        assert_eq!(
            c.observe(a, at("[2001:db8::2]:444"), &[0x40, 1, 2]),
            Dissector::Port
        );
        // An empty payload goes to no dissector.
        assert_eq!(c.observe(a, b, &[]), Dissector::Port);
    }

    #[test]
    fn the_table_is_bounded() {
        let mut c = Conversations::default();
        let rrq = b"\x00\x01f\x00octet\x00";
        for i in 0..Conversations::MAX + 10 {
            let client =
                SocketAddr::new([10, (i >> 16) as u8, (i >> 8) as u8, i as u8].into(), 1000);
            c.observe(client, at("10.255.0.1:69"), rrq);
        }
        assert_eq!(c.tftp.len(), Conversations::MAX);
        let late = at("10.1.0.9:1000");
        assert_eq!(
            c.observe(at("10.255.0.1:2000"), late, b"\x00\x03\x00\x01z"),
            Dissector::Port
        );
    }
}
