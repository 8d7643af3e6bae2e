//! The `lola` command: parses arguments, calls the library, prints, and maps
//! the outcome to an exit code (0 pass, 1 expectation not met, 2 could not run).

mod cli;

use std::process::ExitCode;

use clap::Parser as _;

use cli::args::{Cli, Command};
use cli::output::{self, Exit};

fn main() -> ExitCode {
    output::start_clock();
    cli::signals::install_cleanup();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => return output::argument_error(&e, args.get(1..).unwrap_or_default()).into(),
    };
    output::set_command(cli.command.name());
    let result = match cli.command {
        Command::Run(args) => cli::run::run(args),
        Command::Listen(args) => cli::listen::run(args),
        Command::Send(args) => cli::send::run(args),
        Command::Build(args) => cli::build::run(args),
        Command::Check(args) => cli::check::run(args),
        Command::Capture(args) => cli::capture::run(args),
        Command::Compare(args) => cli::compare::run(args),
        Command::Flow(args) => cli::flow::run(args),
        Command::Diff(args) => cli::diff::run(args),
        Command::Exec(args) => cli::exec::run(args),
        Command::Doctor(args) => cli::doctor::run(args),
        Command::Expect(cmd) => cli::expect::run(cmd),
        Command::Completions { shell } => cli::completions::run(shell),
        Command::Man => cli::man::run(),
    };
    match result {
        Ok(exit) => exit.into(),
        Err(e) => {
            output::error(&e);
            Exit::Error.into()
        }
    }
}
