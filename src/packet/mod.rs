//! Layer 2, the bytes of one frame: the field offsets ([`wire`]), building a
//! frame from a datagram ([`frame`]), decoding a frame into fields
//! ([`decode`]), putting IP fragments back together ([`reassembly`]), the
//! registry of Wireshark field names ([`fields`]), the words lola prints and
//! reads ([`glossary`]) and a frame in a few words
//! ([`summary`]).
//!
//! May use: [`error`](crate::error) and [`capture`](crate::capture) (link
//! types, captured frames). Knows nothing of sockets, verdicts or reports.

pub mod decode;
pub mod fields;
pub mod frame;
pub mod glossary;
pub mod reassembly;
pub mod summary;
pub mod wire;
