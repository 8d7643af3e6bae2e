//! The fast path of the [`SetChecker`](super::SetChecker): from the ports
//! and transport each `match` and `forbid` predicate needs, a table that
//! tells by a frame's protocol and ports alone that none of them can hold.

use std::collections::BTreeSet;

use super::filter::{Filter, Lit, Node, Op, Quant};
use crate::packet::fields::Id;

/// Which ports a predicate needs, per transport: it can hold only on a
/// frame of an allowed transport with one of these ports (`None`: any port).
#[derive(Clone, Debug)]
struct Need {
    udp: bool,
    tcp: bool,
    other: bool,
    ports: Option<BTreeSet<u16>>,
}

impl Need {
    fn any() -> Need {
        Need {
            udp: true,
            tcp: true,
            other: true,
            ports: None,
        }
    }

    /// What both need: a frame that satisfies both has a port of each
    /// side's set (not one in both: `udp.srcport == 1 && udp.dstport == 2`):
    /// either set is a necessary condition; the smaller one skips more.
    fn and(a: Need, b: Need) -> Need {
        let ports = match (a.ports, b.ports) {
            (Some(x), Some(y)) => Some(if x.len() <= y.len() { x } else { y }),
            (x, y) => x.or(y),
        };
        Need {
            udp: a.udp && b.udp,
            tcp: a.tcp && b.tcp,
            other: a.other && b.other,
            ports,
        }
    }

    fn or(a: Need, b: Need) -> Need {
        let ports = match (a.ports, b.ports) {
            (Some(x), Some(y)) => Some(x.union(&y).copied().collect()),
            _ => None,
        };
        Need {
            udp: a.udp || b.udp,
            tcp: a.tcp || b.tcp,
            other: a.other || b.other,
            ports,
        }
    }

    fn of(n: &Node) -> Need {
        match n {
            Node::And(all) => all
                .iter()
                .map(Need::of)
                .reduce(Need::and)
                .unwrap_or_else(Need::any),
            Node::Or(all) => all
                .iter()
                .map(Need::of)
                .reduce(Need::or)
                .unwrap_or_else(Need::any),
            // `a ^^ b`, a negation, or a test beyond a field and constants:
            // any frame may satisfy it.
            Node::Xor(_) | Node::Test(_) => Need::any(),
            Node::Not(_) => Need::any(),
            Node::Exists(f) | Node::Cmp(f, ..) | Node::In(f, _) => {
                let proto = if f.name == "udp" || f.name.starts_with("udp.") {
                    Some((true, false))
                } else if f.name == "tcp" || f.name.starts_with("tcp.") {
                    Some((false, true))
                } else {
                    None
                };
                let port_field = matches!(
                    f.id,
                    Id::UdpSrcport
                        | Id::UdpDstport
                        | Id::UdpPort
                        | Id::TcpSrcport
                        | Id::TcpDstport
                        | Id::TcpPort
                );
                let ports = match n {
                    Node::Cmp(_, Quant::Any, Op::Eq, Lit::Int(p)) if port_field => {
                        Some(u16::try_from(*p).map_or_else(|_| BTreeSet::new(), |p| [p].into()))
                    }
                    Node::In(_, lits) if port_field => Some(
                        lits.iter()
                            .filter_map(|l| match l {
                                Lit::Int(p) => u16::try_from(*p).ok(),
                                _ => None,
                            })
                            .collect(),
                    ),
                    _ => None,
                };
                let (udp, tcp) = proto.unwrap_or((true, true));
                Need {
                    udp,
                    tcp,
                    other: proto.is_none(),
                    ports,
                }
            }
        }
    }
}

/// The fast path's table: per transport (UDP, TCP), whether any predicate
/// may hold whatever the ports, and the ports some predicate needs.
pub(super) struct Prefilter {
    any_port: [bool; 2],
    /// Indexed by port: a fixed size, so that no lookup is bounds-checked.
    ports: [Box<[bool; 65536]>; 2],
}

impl Prefilter {
    pub(super) fn new(filters: &[&Filter]) -> Prefilter {
        let mut p = Prefilter {
            any_port: [false; 2],
            ports: [Box::new([false; 65536]), Box::new([false; 65536])],
        };
        for f in filters {
            let need = Need::of(f.node());
            for (i, allowed) in [need.udp, need.tcp].into_iter().enumerate() {
                if !allowed {
                    continue;
                }
                match &need.ports {
                    None => p.any_port[i] = true,
                    Some(ports) => {
                        for &port in ports {
                            p.ports[i][usize::from(port)] = true;
                        }
                    }
                }
            }
        }
        p
    }

    /// True when no predicate can hold on a frame of this transport and ports.
    #[inline(always)]
    pub(super) fn skips(&self, protocol: u8, sp: u16, dp: u16) -> bool {
        let i = match protocol {
            17 => 0,
            6 => 1,
            _ => return false,
        };
        !self.any_port[i] && !self.ports[i][usize::from(sp)] && !self.ports[i][usize::from(dp)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UDP: u8 = 17;
    const TCP: u8 = 6;
    const ICMP: u8 = 1;

    fn prefilter(predicates: &[&str]) -> Prefilter {
        let filters: Vec<Filter> = predicates
            .iter()
            .map(|p| Filter::parse(p).unwrap())
            .collect();
        Prefilter::new(&filters.iter().collect::<Vec<_>>())
    }

    #[test]
    fn a_frame_on_no_port_a_predicate_needs_is_skipped() {
        let p = prefilter(&["udp.dstport == 7456"]);
        assert!(!p.skips(UDP, 40000, 7456));
        assert!(
            !p.skips(UDP, 7456, 40000),
            "either port may hold: the table is a necessary condition"
        );
        assert!(p.skips(UDP, 40000, 9));
        assert!(
            p.skips(TCP, 40000, 7456),
            "a udp predicate holds on no TCP frame"
        );
        assert!(!p.skips(ICMP, 0, 0), "only UDP and TCP are sorted by port");
    }

    #[test]
    fn and_needs_the_ports_of_one_side_or_those_of_both() {
        let p = prefilter(&["udp.srcport == 1 && udp.dstport == 2"]);
        assert!(!p.skips(UDP, 1, 2));
        assert!(p.skips(UDP, 3, 4));
        let p = prefilter(&["udp.port == 1 || tcp.port in {2, 3}"]);
        assert!(!p.skips(UDP, 1, 9) && !p.skips(TCP, 9, 3));
        assert!(p.skips(UDP, 5, 6) && p.skips(TCP, 5, 6));
    }

    #[test]
    fn a_predicate_on_no_port_keeps_every_frame_of_its_transport() {
        for predicate in [
            "ip.ttl == 64",
            "!(udp.dstport == 7456)",
            "udp",
            "udp.port > 10",
        ] {
            let p = prefilter(&[predicate]);
            assert!(!p.skips(UDP, 5, 6), "{predicate}");
        }
        let p = prefilter(&["tcp.flags.syn == 1"]);
        assert!(!p.skips(TCP, 5, 6) && p.skips(UDP, 5, 6));
    }

    #[test]
    fn every_predicate_counts() {
        let p = prefilter(&["udp.dstport == 1", "udp.dstport == 2"]);
        assert!(!p.skips(UDP, 9, 1) && !p.skips(UDP, 9, 2) && p.skips(UDP, 9, 3));
    }
}
