//! `lola send`: the seed's client.py, one datagram; with `--capture`, what
//! the send put on `lo`, frame by frame.

use std::path::PathBuf;

use lola::exchange::Event;
use lola::harness::{self, CaptureMode, SendOptions, SentCapture};
use lola::summary::summarize;
use lola::{Datagram, Error};

use super::args::{SendArgs, format_of};
use super::output::{Exit, frames_word, out};

pub fn run(args: SendArgs) -> Result<Exit, Error> {
    if args.output.is_some() && args.capture == CaptureMode::Off {
        return Err(Error::Invalid(
            "-o needs --capture host, private or auto".into(),
        ));
    }
    let payload = args.message().into_bytes();
    let output = args.output.unwrap_or_else(|| PathBuf::from("send.pcap"));
    let options = SendOptions {
        to: args.to,
        from: args.from,
        payload,
        capture: args.capture,
        format: args.format.unwrap_or_else(|| format_of(&output)),
        output,
        linger: args.linger,
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
    for (i, f) in live.frames.iter().enumerate() {
        let what = describe_live_frame(&f.data, datagram);
        out(format_args!("  frame {}  {}\n", i + 1, what));
    }
}

/// One line for a frame `send` captured: the datagram, or what answered it.
fn describe_live_frame(frame: &[u8], datagram: &Datagram) -> String {
    use lola::capture::LINKTYPE_ETHERNET;
    use lola::decode::{Transport, decode};
    if harness::is_datagram(frame, datagram) {
        return format!(
            "the datagram {} → {} UDP {} Len={}",
            datagram.src,
            datagram.dst,
            frame.len(),
            datagram.payload.len()
        );
    }
    let packet = decode(LINKTYPE_ETHERNET, frame, frame.len());
    match (&packet.transport, &packet.ip) {
        (Transport::Icmp(i), Some(ip)) if i.port_unreachable => format!(
            "ICMP port unreachable from {}: nobody listens on {}, the kernel answered",
            ip.src, datagram.dst
        ),
        _ => summarize(&packet).line(frame.len()),
    }
}
