//! Off Linux there is no AF_PACKET: live capture is never available.

use std::io;
use std::time::Duration;

use super::{FlowFilter, LiveFrame, Unavailable};
use crate::capture::CaptureStatistics;

/// Live capture is Linux-only; elsewhere it is never available.
pub struct Capture {
    interface: String,
}

impl Capture {
    /// Always unavailable off Linux.
    pub fn open(_interface: &str, _filter: FlowFilter) -> Result<Capture, Unavailable> {
        Err(Unavailable(
            "live capture is only implemented on Linux (AF_PACKET)".into(),
        ))
    }

    /// The interface it captures on.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// Never yields a frame.
    pub fn next(&mut self, _timeout: Duration) -> io::Result<Option<LiveFrame>> {
        Ok(None)
    }

    /// No counters.
    pub fn statistics(&mut self) -> io::Result<CaptureStatistics> {
        Ok(CaptureStatistics::default())
    }
}
