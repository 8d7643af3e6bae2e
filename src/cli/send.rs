//! `lola send`: the seed's client.py, one datagram; with `--capture`, what
//! the send put on `lo`, frame by frame.

use std::path::PathBuf;

use lola::capture::is_standard_output;
use lola::harness::{self, CaptureMode, DatagramWatch, SendOptions, SentCapture};
use lola::host::exchange::Event;
use lola::packet::summary::summarize;
use lola::{Datagram, Error};

use super::args::{SendArgs, format_of};
use super::output::{Exit, frames_word, humans_to_stderr, out, prepare_outputs};

pub fn run(args: SendArgs) -> Result<Exit, Error> {
    if args.output.is_some() && args.capture == CaptureMode::Off {
        return Err(Error::Invalid(
            "-o needs --capture host, private or auto".into(),
        ));
    }
    let payload = args.message().into_bytes();
    let output = args.output.unwrap_or_else(|| PathBuf::from("send.pcap"));
    if args.capture != CaptureMode::Off {
        prepare_outputs([output.as_path()])?;
        humans_to_stderr(is_standard_output(&output));
    }
    let options = SendOptions {
        to: args.to,
        from: args.from,
        payload,
        capture: args.capture,
        format: args.format.unwrap_or_else(|| format_of(&output)),
        output,
        linger: args.linger,
        buffer_size: args.live.bytes(),
    };
    let sent = harness::send(&options, |event| {
        if let Event::Sending(..) = event {
            out("Sending data...\n");
        }
    })?;
    if let Some(note) = &sent.capture_note {
        out(format_args!("note: {note}\n"));
    }
    if let Some(live) = &sent.live {
        print_capture(live, &sent.datagram);
    }
    Ok(Exit::Pass)
}

fn print_capture(live: &SentCapture, datagram: &Datagram) {
    out(format_args!(
        "captured on {}: {} {}; wrote {} ({}, {} bytes)\n",
        live.place,
        live.written.frames,
        frames_word(live.written.frames),
        live.output.display(),
        live.written.format,
        live.written.bytes
    ));
    let mut watch = DatagramWatch::new(datagram);
    for (i, f) in live.frames.iter().enumerate() {
        let what = describe_live_frame(&f.data, datagram, &mut watch);
        out(format_args!("  frame {}  {}\n", i + 1, what));
    }
    if live.drops.total() > 0 {
        out(format_args!(
            "note: the capture admits {} lost {} ({}): the frames above may not be all the send put on lo\n",
            live.drops.total(),
            frames_word(live.drops.total() as usize),
            live.drops
        ));
    }
}

/// One line for a frame `send` captured: the datagram (whole, or the last
/// of its fragments), a fragment, or what answered it.
fn describe_live_frame(frame: &[u8], datagram: &Datagram, watch: &mut DatagramWatch) -> String {
    use lola::capture::LINKTYPE_ETHERNET;
    use lola::packet::decode::{Transport, decode};
    if watch.observe(frame) {
        return if watch.reassembled() {
            format!(
                "the last fragment of the datagram {} → {} UDP Len={}, reassembled",
                datagram.src,
                datagram.dst,
                datagram.payload.len()
            )
        } else {
            format!(
                "the datagram {} → {} UDP {} Len={}",
                datagram.src,
                datagram.dst,
                frame.len(),
                datagram.payload.len()
            )
        };
    }
    let packet = decode(LINKTYPE_ETHERNET, frame, frame.len());
    if let Some(ip) = &packet.ip
        && let Some(f) = ip.frag
    {
        return format!(
            "an IP fragment {} → {} (id 0x{:x}, offset {}, {} bytes)",
            ip.src,
            ip.dst,
            f.id,
            u32::from(f.offset) * 8,
            frame.len()
        );
    }
    match (&packet.transport, &packet.ip) {
        (Transport::Icmp(i), Some(ip)) if i.port_unreachable => format!(
            "ICMP port unreachable from {}: nobody listens on {}, the kernel answered",
            ip.src, datagram.dst
        ),
        _ => summarize(&packet).line(frame.len()),
    }
}
