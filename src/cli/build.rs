//! `lola build`: the frame of a datagram, without any socket.

use std::path::Path;
use std::time::Duration;

use lola::check::SEED_MESSAGE;
use lola::{Datagram, Error};

use super::args::BuildArgs;
use super::output::{Exit, out, out_json};

pub fn run(args: BuildArgs) -> Result<Exit, Error> {
    let payload = args
        .payload
        .bytes()
        .unwrap_or_else(|| SEED_MESSAGE.as_bytes().to_vec());
    let datagram =
        Datagram::new(args.src, args.dst, payload).at(args.timestamp.unwrap_or(Duration::ZERO));
    let (output, format) = args.output.resolve();
    let built = lola::harness::build(&datagram, &output, format)?;
    if output == Path::new("-") {
        return Ok(Exit::Pass);
    }
    if args.json {
        out_json(&built.to_json()?);
    } else {
        out(format_args!(
            "wrote {} ({}, 1 frame, {} bytes): {} → {} UDP {} Len={}\n",
            output.display(),
            built.written.format,
            built.written.bytes,
            datagram.src,
            datagram.dst,
            datagram.frame_len(),
            datagram.payload.len()
        ));
    }
    Ok(Exit::Pass)
}
