//! What a reader says besides its frames: the oddities it tolerated, as
//! notes (capped), and the errors that name the byte where the file stops
//! making sense.

use std::io;
use std::path::Path;

use crate::error::Error;

/// How many tolerated oddities a reader lists before it only counts them.
pub const MAX_NOTES: usize = 20;

/// Notes, capped: a file with a million odd records must not grow memory.
#[derive(Default)]
pub(super) struct Notes {
    lines: Vec<String>,
    more: u64,
}

impl Notes {
    pub(super) fn add(&mut self, line: impl FnOnce() -> String) {
        if self.lines.len() < MAX_NOTES {
            self.lines.push(line());
        } else {
            self.more += 1;
        }
    }

    pub(super) fn lines(&self) -> Vec<String> {
        let mut lines = self.lines.clone();
        if self.more > 0 {
            lines.push(format!("... and {} more notes like these", self.more));
        }
        lines
    }
}

pub(super) fn malformed(path: &Path, offset: u64, what: String) -> Error {
    Error::Malformed {
        path: path.to_path_buf(),
        offset,
        what,
    }
}

/// The file ends inside the record or block at `offset`: a typed end of
/// the stream, which a checker can judge the frames before.
pub(super) fn truncated(path: &Path, offset: u64, what: String) -> Error {
    Error::Truncated {
        path: path.to_path_buf(),
        offset,
        what,
    }
}

/// The file shrank to `size` bytes under a mapped reader that had read past
/// that: cut at `offset`, the last record or block read.
pub(super) fn shrunk(path: &Path, (offset, size): (u64, u64)) -> Error {
    truncated(
        path,
        offset,
        format!("the file shrank to {size} bytes while it was read"),
    )
}

pub(super) fn io_err(path: &Path, source: io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}
