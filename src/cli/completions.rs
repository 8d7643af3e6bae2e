//! `lola completions SHELL`: the shell completion script.

use clap::CommandFactory;
use lola::Error;

use super::args::Cli;
use super::output::{Exit, out};

pub fn run(shell: clap_complete::Shell) -> Result<Exit, Error> {
    let mut text = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "lola", &mut text);
    out(String::from_utf8_lossy(&text));
    Ok(Exit::Pass)
}
