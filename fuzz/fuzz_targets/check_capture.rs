//! Any bytes as a capture file, checked against the seed's expectation: the
//! checker must give a report or an error, and the report must print and
//! serialize, all without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(reader) = lola::capture::CaptureReader::new(data, "fuzz") else {
        return;
    };
    match lola::check::check_reader(reader, "fuzz", &lola::Expectation::seed()) {
        Ok(report) => {
            let text = format!("{report}");
            let json = serde_json::to_string(&report).expect("a report serializes");
            std::hint::black_box((text, json, report.passed()));
        }
        Err(e) => {
            std::hint::black_box(e.to_string());
        }
    }
});
