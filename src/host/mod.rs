//! Layer 3, the kernel: UDP and TCP sockets on loopback ([`exchange`]),
//! AF_PACKET live capture on `lo` ([`live`]), the private network
//! namespace where an unprivileged user may capture ([`sandbox`]) and the
//! PID namespace that holds a program's whole process tree ([`tree`]).
//!
//! May use: [`error`](crate::error), [`capture`](crate::capture) and
//! [`packet`](crate::packet). Judges nothing and writes no report.

pub mod exchange;
pub mod live;
pub mod sandbox;
pub mod tree;
