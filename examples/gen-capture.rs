//! Generates a large capture for the benchmark: N small UDP frames on
//! loopback (many flows, none to port 7456) with one `Hello Lola` datagram to
//! 127.0.0.1:7456 in the middle. Streams to disk; memory stays flat. A path
//! ending `.pcapng` gets pcapng (lola's writer: one interface, packet
//! blocks without options, as dumpcap writes them), any other pcap.
//!
//! cargo run --release --example gen-capture -- 5000000 /tmp/lola-bench.pcap

use std::borrow::Cow;
use std::fs::File;
use std::io::BufWriter;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapTsResolution, PcapWriter};
use pcap_file::{DataLink, Endianness};

use lola::capture::{CaptureFrame, Format, FrameEncoder};
use lola::{Datagram, build_frame};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(n), Some(path)) = (args.get(1).and_then(|n| n.parse::<u64>().ok()), args.get(2))
    else {
        eprintln!("usage: gen-capture FRAMES OUTPUT.pcap");
        return ExitCode::from(2);
    };
    match generate(n, path) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen-capture: {path}: {e}");
            ExitCode::from(2)
        }
    }
}

fn generate(n: u64, path: &str) -> Result<(), Box<dyn std::error::Error>> {
    let header = PcapHeader {
        version_major: 2,
        version_minor: 4,
        ts_correction: 0,
        ts_accuracy: 0,
        snaplen: 262_144,
        datalink: DataLink::ETHERNET,
        ts_resolution: PcapTsResolution::MicroSecond,
        endianness: Endianness::Little,
    };
    let out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut writer = if path.ends_with(".pcapng") {
        Writer::PcapNg(FrameEncoder::new(out, Format::PcapNg)?)
    } else {
        Writer::Pcap(PcapWriter::with_header(out, header)?)
    };
    let start = Duration::from_secs(1_764_000_000);
    let hello_at = n / 2;
    // A handful of distinct frames, reused: the point is the file's size and
    // frame count, not the variety of its bytes.
    let mut noise = Vec::new();
    for i in 0..16u16 {
        let src: SocketAddr = format!("127.0.0.1:{}", 40_000 + i).parse()?;
        let dst: SocketAddr = format!("127.0.0.1:{}", 9_000 + i).parse()?;
        noise.push(build_frame(&Datagram::new(
            src,
            dst,
            format!("noise {i:02}").into_bytes(),
        ))?);
    }
    let hello = build_frame(&Datagram::new(
        "127.0.0.1:40000".parse()?,
        "127.0.0.1:7456".parse()?,
        b"Hello Lola".to_vec(),
    ))?;
    for i in 0..n {
        let data = if i == hello_at {
            &hello
        } else {
            &noise[(i % 16) as usize]
        };
        let ts = start + Duration::from_micros(i);
        match &mut writer {
            Writer::Pcap(w) => {
                w.write_packet(&PcapPacket::new(ts, data.len() as u32, &data[..])?)?;
            }
            Writer::PcapNg(w) => w.write(&CaptureFrame {
                timestamp: ts,
                data: Cow::Borrowed(&data[..]),
                comment: None,
                flags: None,
            })?,
        }
    }
    match writer {
        Writer::Pcap(mut w) => w.flush()?,
        Writer::PcapNg(w) => {
            w.finish(None)?;
        }
    }
    Ok(())
}

/// The file being written, in its format.
enum Writer<W: std::io::Write> {
    Pcap(PcapWriter<W>),
    PcapNg(FrameEncoder<W>),
}
