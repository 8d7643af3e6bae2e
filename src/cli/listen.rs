//! `lola listen`: the seed's server.py, printing each datagram that arrives
//! and, with `-o`, writing their frames.

use lola::Error;
use lola::capture::{is_standard_output, write_capture};
use lola::check::quote_bytes;
use lola::harness::synthesize;
use lola::host::exchange::Server;

use super::args::{ListenArgs, format_of};
use super::output::{Exit, frames_word, humans_to_stderr, out, prepare_outputs};

pub fn run(args: ListenArgs) -> Result<Exit, Error> {
    super::draw::note_old_spelling("listen", "--count", "--datagrams");
    if args.output.is_some() && args.count == 0 {
        return Err(Error::Invalid(
            "listen -o writes the capture once all datagrams are in; give --datagrams N (N > 0)"
                .into(),
        ));
    }
    if let Some(path) = &args.output {
        prepare_outputs([path.as_path()])?;
        humans_to_stderr(is_standard_output(path));
    }
    let server = Server::bind(args.addr())?;
    out(format_args!(
        "Just here on {}...\n",
        server.local_addr().port()
    ));
    let mut frames = Vec::new();
    let mut received = 0u64;
    while args.count == 0 || received < args.count {
        let (d, _) = server.receive(None, args.timeout)?;
        received += 1;
        out(format_args!(
            "FROM: {} DATA: {}\n",
            d.src,
            quote_bytes(&d.payload)
        ));
        if args.output.is_some() {
            frames.push(synthesize(&d)?);
        }
    }
    if let Some(path) = &args.output {
        let format = args.format.unwrap_or_else(|| format_of(path));
        let written = write_capture(path, format, &frames)?;
        out(format_args!(
            "wrote {} ({}, {} {}, {} bytes)\n",
            path.display(),
            written.format,
            written.frames,
            frames_word(written.frames),
            written.bytes
        ));
    }
    Ok(Exit::Pass)
}
