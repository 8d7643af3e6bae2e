//! Any bytes as a capture file: the reader must return frames or an error,
//! never panic, hang or allocate without bound; every frame it returns is
//! decoded too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = lola::capture::CaptureReader::new(data, "fuzz") else {
        return;
    };
    let _ = (reader.format(), reader.link_type());
    while let Ok(Some(frame)) = reader.next_frame() {
        let _ = lola::packet::decode::decode(frame.link_type, frame.data, frame.orig_len as usize);
    }
    let _ = reader.notes();
});
