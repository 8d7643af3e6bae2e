//! `lola build`: the frame of a datagram, without any socket.

use std::time::Duration;

use lola::capture::is_standard_output;
use lola::check::SEED_MESSAGE;
use lola::{Datagram, Error};

use super::args::BuildArgs;
use super::output::{Exit, humans_to_stderr, out, out_json, prepare_outputs};

pub fn run(args: BuildArgs) -> Result<Exit, Error> {
    let payload = args
        .payload
        .bytes()
        .unwrap_or_else(|| SEED_MESSAGE.as_bytes().to_vec());
    let datagram =
        Datagram::new(args.src, args.dst, payload).at(args.timestamp.unwrap_or(Duration::ZERO));
    let (output, format) = args.output.resolve();
    prepare_outputs([output.as_path()])?;
    humans_to_stderr(is_standard_output(&output));
    let built = lola::harness::build(&datagram, &output, format)?;
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
