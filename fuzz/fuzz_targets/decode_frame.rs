//! One frame of any bytes under each link type lola decodes: the decoder (and
//! the summary of what it decoded) must report problems, never panic.
//!
//! Input: a 4-byte head, then the captured frame. The head as a little-endian
//! u32 picks the link type from `LINK_TYPES` (so its first byte 0..=7 is the
//! index); its last byte is how many bytes the capture cut off, making the
//! length on the wire `frame.len() + head[3]` (0: the whole frame).
#![no_main]

use libfuzzer_sys::fuzz_target;

/// NULL, EN10MB, RAW, LOOP, LINUX_SLL, IPV4, IPV6, LINUX_SLL2.
const LINK_TYPES: [u32; 8] = [0, 1, 101, 108, 113, 228, 229, 276];

fuzz_target!(|data: &[u8]| {
    let Some((head, frame)) = data.split_first_chunk::<4>() else {
        return;
    };
    let link_type = LINK_TYPES[u32::from_le_bytes(*head) as usize % LINK_TYPES.len()];
    let orig_len = frame.len() + usize::from(head[3]);
    let packet = lola::packet::decode::decode(link_type, frame, orig_len);
    let _ = packet.endpoints();
    // The words of a frame line, tunnel names and outer addresses included.
    let summary = lola::packet::summary::summarize(&packet);
    std::hint::black_box(summary.line(frame.len()));
    std::hint::black_box(format!("{packet:?}"));
});
