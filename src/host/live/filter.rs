//! Which frames a capture keeps, decided in userspace on the whole frame.

use std::net::SocketAddr;

use crate::packet::decode::{Transport, decode_with};

/// Which frames a capture keeps: those between the given endpoints (either
/// direction, UDP or TCP), ICMP errors quoting them, or, with only ports,
/// anything to or from those ports.
///
/// ```
/// # let d = lola::Datagram::new(
/// #     "127.0.0.1:40000".parse().unwrap(),
/// #     "127.0.0.1:7456".parse().unwrap(),
/// #     b"Hello Lola".to_vec(),
/// # );
/// use lola::host::live::FlowFilter;
/// let frame = lola::build_frame(&d).unwrap();
/// assert!(FlowFilter::default().keeps(&[0u8; 60]), "no pairs and no ports: everything");
/// assert!(FlowFilter::ports(vec![7456]).keeps(&frame));
/// assert!(!FlowFilter::ports(vec![9999]).keeps(&frame));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlowFilter {
    /// Exact endpoint pairs; a frame between any pair (either way) is kept.
    pub pairs: Vec<(SocketAddr, SocketAddr)>,
    /// Ports; a UDP/TCP frame with either port among these is kept, and
    /// ICMP errors about such a datagram.
    pub ports: Vec<u16>,
}

impl FlowFilter {
    /// Frames between `a` and `b`, either way, and ICMP errors about them.
    ///
    /// ```
    /// # let d = lola::Datagram::new(
    /// #     "127.0.0.1:40000".parse().unwrap(),
    /// #     "127.0.0.1:7456".parse().unwrap(),
    /// #     b"Hello Lola".to_vec(),
    /// # );
    /// use lola::host::live::FlowFilter;
    /// let frame = lola::build_frame(&d).unwrap(); // 127.0.0.1:40000 → 127.0.0.1:7456
    /// assert!(FlowFilter::pair(d.dst, d.src).keeps(&frame), "either direction");
    /// let elsewhere = FlowFilter::pair(d.src, "127.0.0.1:7457".parse().unwrap());
    /// assert!(!elsewhere.keeps(&frame));
    /// ```
    pub fn pair(a: SocketAddr, b: SocketAddr) -> FlowFilter {
        FlowFilter {
            pairs: vec![(a, b)],
            ports: Vec::new(),
        }
    }

    /// Frames to or from any of `ports`; no ports means every frame.
    ///
    /// ```
    /// # let d = lola::Datagram::new(
    /// #     "127.0.0.1:40000".parse().unwrap(),
    /// #     "127.0.0.1:7456".parse().unwrap(),
    /// #     b"Hello Lola".to_vec(),
    /// # );
    /// use lola::host::live::FlowFilter;
    /// let frame = lola::build_frame(&d).unwrap(); // 127.0.0.1:40000 → 127.0.0.1:7456
    /// assert!(FlowFilter::ports(vec![40000]).keeps(&frame));
    /// assert!(!FlowFilter::ports(vec![53, 9999]).keeps(&frame));
    /// assert!(FlowFilter::ports(Vec::new()).keeps(&frame), "no ports: every frame");
    /// ```
    pub fn ports(ports: Vec<u16>) -> FlowFilter {
        FlowFilter {
            pairs: Vec::new(),
            ports,
        }
    }

    /// The ports the kernel-side filter may pre-select on (empty: all).
    pub(super) fn kernel_ports(&self) -> Vec<u16> {
        let mut ports: Vec<u16> = self.ports.clone();
        for (a, b) in &self.pairs {
            ports.push(a.port());
            ports.push(b.port());
        }
        ports.sort_unstable();
        ports.dedup();
        ports
    }

    /// True when the frame belongs to the flow.
    ///
    /// ```
    /// use lola::host::live::FlowFilter;
    /// # let mut reader = lola::capture::CaptureReader::open("fixtures/seed-ipv4-no-listener.pcap".as_ref()).unwrap();
    /// # reader.next_frame().unwrap();
    /// // Frame 2: ICMP port unreachable about 127.0.0.1:47300 → 127.0.0.1:7457.
    /// let icmp = reader.next_frame().unwrap().unwrap().data;
    /// let flow = FlowFilter::pair("127.0.0.1:47300".parse().unwrap(), "127.0.0.1:7457".parse().unwrap());
    /// assert!(flow.keeps(icmp));
    /// assert!(!FlowFilter::ports(vec![7456]).keeps(icmp));
    /// ```
    pub fn keeps(&self, frame: &[u8]) -> bool {
        if self.is_everything() {
            return true;
        }
        // Ports and addresses only: no checksum is summed (a flood of large
        // frames would spend its time there).
        let packet = decode_with(crate::capture::LINKTYPE_ETHERNET, frame, frame.len(), false);
        match (&packet.transport, packet.endpoints()) {
            (Transport::Udp(_) | Transport::Tcp(_), Some((s, d))) => self.between(s, d),
            (Transport::Icmp(icmp), _) => icmp.quoted_udp.is_some_and(|(s, d)| self.between(s, d)),
            _ => false,
        }
    }

    /// No pairs and no ports: every frame.
    pub(super) fn is_everything(&self) -> bool {
        self.pairs.is_empty() && self.ports.is_empty()
    }

    /// True when a UDP/TCP packet from `s` to `d` is the flow's.
    pub(super) fn between(&self, s: SocketAddr, d: SocketAddr) -> bool {
        self.pairs
            .iter()
            .any(|&(a, b)| (s, d) == (a, b) || (s, d) == (b, a))
            || self.ports.iter().any(|&p| s.port() == p || d.port() == p)
    }
}
