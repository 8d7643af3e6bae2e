//! `lola expect`: the built-in expectation file, and record mode.

use lola::Error;
use lola::check::expect::{ExpectationSet, Filter, RecordOptions, record_file};

use super::args::ExpectCommand;
use super::output::{Exit, out};

pub fn run(cmd: ExpectCommand) -> Result<Exit, Error> {
    super::draw::note_old_spelling("expect", "--count", "--exactly");
    match cmd {
        ExpectCommand::ShowDefault(args) => {
            let set = ExpectationSet::from_expectation(&args.expect.expectation());
            out(set.to_toml(
                "What `lola check` checks with these options (lola expect show-default).\n\
                 Use it with: lola check --expect FILE CAPTURE",
            ));
            Ok(Exit::Pass)
        }
        ExpectCommand::Record(args) => {
            let only = match &args.flow {
                None => None,
                Some(text) => Some(
                    Filter::parse(text)
                        .map_err(|e| Error::Invalid(format!("--flow {text:?}: {e}")))?,
                ),
            };
            let options = RecordOptions {
                only,
                ephemeral_ports: args.ephemeral_ports,
            };
            let set = record_file(&args.file, &options)?;
            out(set.to_toml(&format!(
                "Recorded from {} by lola expect record.",
                args.file.display()
            )));
            Ok(Exit::Pass)
        }
    }
}
