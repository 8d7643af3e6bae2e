//! # lola
//!
//! A pcap-generating test harness for loopback UDP. lola sends the datagram
//! `Hello Lola` from a client socket to a server socket over loopback, builds
//! the Ethernet/IP/UDP frame that exchange puts on `lo` (with etherparse),
//! writes it to a pcap or pcapng file (with pcap-file) that Wireshark opens
//! without a warning, and checks that the file holds exactly one such datagram
//! and no TCP handshake.
//!
//! ```
//! use std::borrow::Cow;
//! use lola::{build_frame, capture, check, Datagram, Expectation};
//!
//! // The frame for one datagram, as Linux shows it on `lo`.
//! let datagram = Datagram::new(
//!     "127.0.0.1:40000".parse().unwrap(),
//!     "127.0.0.1:7456".parse().unwrap(),
//!     b"Hello Lola".to_vec(),
//! );
//! let frame = capture::CaptureFrame {
//!     timestamp: datagram.timestamp,
//!     data: Cow::Owned(build_frame(&datagram).unwrap()),
//!     comment: None,
//!     flags: None,
//! };
//!
//! // Written as a pcap, read back and checked against the seed's expectation.
//! let mut file = Vec::new();
//! capture::encode_capture(&mut file, capture::Format::Pcap, &[frame]).unwrap();
//! let reader = capture::CaptureReader::new(&file[..], "memory.pcap").unwrap();
//! let report = check::check_reader(reader, "memory.pcap", &Expectation::seed()).unwrap();
//! assert!(report.passed(), "{report}");
//! ```
//!
//! The modules sit in one folder per layer, bottom to top (`ARCHITECTURE.md`
//! is the map): [`error`] (the one error type), [`capture`] (files in and
//! out), [`packet`] (the bytes of one frame: building, decoding, fragments,
//! field names), [`host`] (sockets, AF_PACKET capture, namespaces),
//! [`check`] (fields → verdict, as typed findings), [`harness`] (each command
//! as one library call with a typed outcome) and [`report`] (text, JSON,
//! JUnit and pictures of those outcomes).

#![deny(missing_docs)]

// The layers, bottom to top (ARCHITECTURE.md; tests/architecture.rs keeps
// every import pointing down).
pub mod capture;
pub mod check;
pub mod error;
pub mod harness;
pub mod host;
pub mod packet;
pub mod report;

/// The version of the `--json` documents' shape, carried by every typed
/// outcome that is serialised as one; bumped on any incompatible change.
///
/// It sits at the crate root, beside no layer, because the typed values of
/// several layers (a check [`Report`], a [`flow::Flows`], a run's outcome)
/// carry it in their serialised form.
pub const SCHEMA_VERSION: u32 = 3;

// The paths of lola 0.1, kept for the library's users.
pub use check::{flow, golden as diff};
pub use harness::exec;
pub use host::{exchange, live, sandbox};
pub use packet::{decode, fields, frame, reassembly, summary, wire};
pub use report::{emit, junit, schema};

/// The README's Rust examples, compiled as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// The library guide's Rust examples (docs/library.md), compiled as doc tests.
#[doc = include_str!("../docs/library.md")]
#[cfg(doctest)]
pub struct LibraryGuideDoctests;

pub use check::{ChecksumPolicy, Count, Expectation, Report, check_file};
pub use error::{Error, Result};
pub use frame::{Datagram, build_frame};
pub use harness::{RunOptions, RunOutcome};
