//! IP fragments carry no ports: the sorter keeps those of the datagrams
//! whose first fragment was the flow's.

use std::net::SocketAddr;

use super::{FlowFilter, LiveFrame};
use crate::packet::decode::{Transport, decode_with};

/// What a recording does with one frame that is an IP fragment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FragmentDecision {
    /// It belongs to the flow.
    Keep,
    /// A later fragment whose first has not been seen: held until it is.
    Hold,
    /// Not the flow's.
    Drop,
}

/// The datagram an IP fragment belongs to: addresses, identification
/// (IPv4 identification or IPv6 fragment identification) and protocol.
type FragmentKey = (std::net::IpAddr, std::net::IpAddr, u32, u8);

/// Datagrams whose fragments a recording keeps, most recent last.
const KEPT_DATAGRAMS: usize = 64;
/// Later fragments held while their first is awaited (a 64 KiB datagram
/// over a 1280-byte MTU is 52 fragments).
const HELD_FRAGMENTS: usize = 256;

/// Keeps the fragments of a flow's datagrams. A datagram larger than the
/// MTU crosses `lo` as IP fragments, and only the first carries the UDP or
/// TCP ports: the first decides (by [`FlowFilter`]'s rules on the ports it
/// carries), and every later fragment with the same addresses,
/// identification and protocol follows it. A later fragment that comes
/// before its first is held, and released just after the first, or dropped
/// at the end of the recording if its first never comes.
#[derive(Default)]
pub(crate) struct FragmentSorter {
    kept: std::collections::VecDeque<FragmentKey>,
    held: std::collections::VecDeque<(FragmentKey, LiveFrame)>,
}

impl FragmentSorter {
    /// Sorts `frame`: given back when it is not a fragment (the caller's
    /// filter decides), else the frames to keep now, in order (empty:
    /// dropped or held).
    pub(crate) fn sort(
        &mut self,
        filter: &FlowFilter,
        frame: LiveFrame,
    ) -> Result<Vec<LiveFrame>, LiveFrame> {
        let packet = decode_with(
            crate::capture::LINKTYPE_ETHERNET,
            &frame.data,
            frame.data.len(),
            false,
        );
        let (Some(ip), Transport::Fragment(bytes)) = (&packet.ip, &packet.transport) else {
            return Err(frame);
        };
        let Some(info) = ip.frag else {
            return Err(frame);
        };
        let key = (ip.src, ip.dst, info.id, info.protocol);
        let first_ports = (info.offset == 0 && bytes.len() >= 4).then(|| {
            (
                u16::from_be_bytes([bytes[0], bytes[1]]),
                u16::from_be_bytes([bytes[2], bytes[3]]),
            )
        });
        let decision = match first_ports {
            _ if filter.is_everything() => FragmentDecision::Keep,
            Some((sp, dp)) => {
                let (s, d) = (SocketAddr::new(ip.src, sp), SocketAddr::new(ip.dst, dp));
                if matches!(info.protocol, 6 | 17) && filter.between(s, d) {
                    FragmentDecision::Keep
                } else {
                    FragmentDecision::Drop
                }
            }
            None if self.kept.contains(&key) => FragmentDecision::Keep,
            None if info.offset != 0 => FragmentDecision::Hold,
            None => FragmentDecision::Drop,
        };
        Ok(match decision {
            FragmentDecision::Drop => Vec::new(),
            FragmentDecision::Hold => {
                if self.held.len() >= HELD_FRAGMENTS {
                    self.held.pop_front();
                }
                self.held.push_back((key, frame));
                Vec::new()
            }
            FragmentDecision::Keep => {
                if !self.kept.contains(&key) {
                    if self.kept.len() >= KEPT_DATAGRAMS {
                        self.kept.pop_front();
                    }
                    self.kept.push_back(key);
                }
                let mut now = vec![frame];
                let held = std::mem::take(&mut self.held);
                for (k, f) in held {
                    if k == key {
                        now.push(f);
                    } else {
                        self.held.push_back((k, f));
                    }
                }
                now
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The frames of a fixture, as a live capture would return them.
    fn fixture_frames(name: &str) -> Vec<LiveFrame> {
        let path = format!("fixtures/{name}");
        let mut reader = crate::capture::CaptureReader::open(path.as_ref()).unwrap();
        let mut frames = Vec::new();
        while let Some(f) = reader.next_frame().unwrap() {
            frames.push(LiveFrame {
                timestamp: f.timestamp,
                data: f.data.to_vec(),
                orig_len: f.orig_len,
                flags: 0,
            });
        }
        frames
    }

    fn sort_all(filter: &FlowFilter, frames: &[LiveFrame]) -> Vec<LiveFrame> {
        let mut sorter = FragmentSorter::default();
        let mut kept = Vec::new();
        for f in frames {
            match sorter.sort(filter, f.clone()) {
                Ok(now) => kept.extend(now),
                Err(whole) => kept.extend(filter.keeps(&whole.data).then_some(whole)),
            }
        }
        kept
    }

    #[test]
    fn every_fragment_of_the_flows_datagram_is_kept() {
        // A 3000-byte datagram 127.0.0.1:48404 → 127.0.0.1:7456 in three
        // IPv4 fragments, and the same over IPv6 (51123 → 7456).
        for (name, client) in [
            ("frag-ipv4.pcap", "127.0.0.1:48404"),
            ("frag-ipv6.pcap", "[::1]:51123"),
        ] {
            let frames = fixture_frames(name);
            let server = SocketAddr::new(client.parse::<SocketAddr>().unwrap().ip(), 7456);
            let flow = FlowFilter::pair(client.parse().unwrap(), server);
            assert!(
                frames.iter().all(|f| !flow.keeps(&f.data)),
                "{name}: no ports in a fragment"
            );
            assert_eq!(sort_all(&flow, &frames), frames, "{name}");
            assert_eq!(
                sort_all(&FlowFilter::ports(vec![7456]), &frames),
                frames,
                "{name}"
            );
            let elsewhere =
                FlowFilter::pair(client.parse().unwrap(), "127.0.0.1:9".parse().unwrap());
            assert!(sort_all(&elsewhere, &frames).is_empty(), "{name}");
        }
    }

    #[test]
    fn a_fragment_before_its_first_is_held_until_the_first_comes() {
        let frames = fixture_frames("frag-ipv4.pcap");
        let flow = FlowFilter::ports(vec![7456]);
        let reordered = [frames[2].clone(), frames[0].clone(), frames[1].clone()];
        let kept = sort_all(&flow, &reordered);
        assert_eq!(
            kept,
            [frames[0].clone(), frames[2].clone(), frames[1].clone()]
        );
        // Without its first, a later fragment is never kept.
        assert!(sort_all(&flow, &frames[1..]).is_empty());
    }
}
