//! What a capture admits it lost: the file's statistics and drop counts,
//! and what the kernel reported it dropped while lola captured.

/// Frames a capture admits it lost: the Interface Statistics Blocks' drop
/// counters (the last block of each interface), the Enhanced Packet
/// Blocks' `epb_dropcount`s, and what the kernel reported it dropped while
/// lola captured (`PACKET_STATISTICS`), which a pcap file has no place for.
///
/// The kernel's count and the file's may be the same frames (lola writes the
/// one into a pcapng's `isb_ifdrop`), so the larger of the two is the count
/// of frames lost, never their sum ([`Drops::total`]); [`Drops::merge`]
/// joins what a file admits and what the kernel reported.
///
/// ```
/// use lola::capture::Drops;
/// let d = Drops { interface: 2, os: 1, ..Drops::default() };
/// assert_eq!(d.total(), 3);
/// assert_eq!(d.to_string(), "isb_ifdrop 2, isb_osdrop 1, epb_dropcount 0");
/// // A pcapng lola wrote says in its file what the kernel said: counted once.
/// let kernel = Drops::by_kernel(2);
/// assert_eq!(kernel.to_string(), "the kernel dropped 2 while capturing");
/// let both = Drops { interface: 2, ..Drops::default() }.merge(kernel);
/// assert_eq!(both.total(), 2);
/// assert_eq!(both.to_string(), "isb_ifdrop 2, isb_osdrop 0, epb_dropcount 0; the kernel dropped 2 while capturing");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Drops {
    /// `isb_ifdrop`: dropped by the interface.
    pub interface: u64,
    /// `isb_osdrop`: dropped by the operating system (capture buffer full).
    pub os: u64,
    /// Sum of `epb_dropcount`: lost between recorded frames.
    pub between_frames: u64,
    /// Dropped by the kernel while lola captured, as it reported
    /// (`PACKET_STATISTICS`): absent when none (or not captured by lola).
    #[serde(skip_serializing_if = "is_zero")]
    pub kernel: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Drops {
    /// What the kernel reported it dropped while capturing
    /// ([`CaptureStatistics::dropped`](crate::capture::CaptureStatistics)).
    pub fn by_kernel(dropped: u64) -> Drops {
        Drops {
            kernel: dropped,
            ..Drops::default()
        }
    }

    /// What both admit: each counter the larger of the two, so that the same
    /// count admitted twice (by the file and by the kernel, or twice by the
    /// file) is counted once.
    pub fn merge(self, other: Drops) -> Drops {
        Drops {
            interface: self.interface.max(other.interface),
            os: self.os.max(other.os),
            between_frames: self.between_frames.max(other.between_frames),
            kernel: self.kernel.max(other.kernel),
        }
    }

    /// What the file itself admits: its statistics and drop counts.
    fn in_file(&self) -> u64 {
        self.interface
            .saturating_add(self.os)
            .saturating_add(self.between_frames)
    }

    /// All the frames the capture admits it lost: what the file says or
    /// what the kernel reported, whichever is larger.
    pub fn total(&self) -> u64 {
        self.in_file().max(self.kernel)
    }
}

impl From<crate::capture::CaptureStatistics> for Drops {
    fn from(stats: crate::capture::CaptureStatistics) -> Drops {
        Drops::by_kernel(stats.dropped)
    }
}

impl std::fmt::Display for Drops {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let in_file = self.in_file() > 0 || self.kernel == 0;
        if in_file {
            write!(
                f,
                "isb_ifdrop {}, isb_osdrop {}, epb_dropcount {}",
                self.interface, self.os, self.between_frames
            )?;
        }
        if self.kernel > 0 {
            if in_file {
                f.write_str("; ")?;
            }
            write!(f, "the kernel dropped {} while capturing", self.kernel)?;
        }
        Ok(())
    }
}
