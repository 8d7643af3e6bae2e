//! Floods `lo` with UDP datagrams, to see whether a capture keeps up.
//!
//! ```text
//! cargo run --release --example flood -- COUNT SIZE PORT [RATE]
//! ```
//!
//! Sends COUNT datagrams of SIZE payload bytes from 127.0.0.1 to
//! 127.0.0.1:PORT with `sendmmsg` (up to 64 datagrams per system call), as fast
//! as the kernel takes them (RATE 0 or absent) or paced at RATE datagrams a
//! second. A socket bound to PORT sinks them unread, so that no ICMP
//! port-unreachable joins the traffic. Prints `sent N` and exits 0 when every
//! datagram left. Linux only (`sendmmsg`).

use std::net::UdpSocket;
use std::os::fd::AsRawFd;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Datagrams handed to the kernel in one `sendmmsg` call, unpaced.
const BATCH: usize = 64;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = (|| -> Option<(u64, usize, u16, u64)> {
        let count = args.first()?.parse().ok()?;
        let size = args.get(1)?.parse().ok()?;
        let port = args.get(2)?.parse().ok()?;
        let rate = match args.get(3) {
            Some(r) => r.parse().ok()?,
            None => 0,
        };
        (args.len() <= 4).then_some((count, size, port, rate))
    })();
    let Some((count, size, port, rate)) = parsed else {
        eprintln!("usage: flood COUNT SIZE PORT [RATE per second, 0 = unpaced]");
        return ExitCode::from(2);
    };
    match flood(count, size, port, rate) {
        Ok(sent) => {
            println!("sent {sent}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("flood: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Sends `count` datagrams of `size` bytes to 127.0.0.1:`port`, `rate` a
/// second (0: unpaced); the number sent.
fn flood(count: u64, size: usize, port: u16, rate: u64) -> std::io::Result<u64> {
    // The sink: bound but never read, so datagrams are dropped by its full
    // buffer rather than answered with ICMP errors. Someone else's listener
    // on the port does the same.
    let _sink = UdpSocket::bind(("127.0.0.1", port));
    let socket = UdpSocket::bind("127.0.0.1:0")?;
    socket.connect(("127.0.0.1", port))?;
    let payload = vec![b'L'; size];
    // Paced: batches small enough that a batch lasts about 100 µs.
    let batch = if rate == 0 {
        BATCH
    } else {
        (rate / 10_000).clamp(1, BATCH as u64) as usize
    };
    let mut iov: Vec<libc::iovec> = (0..batch)
        .map(|_| libc::iovec {
            iov_base: payload.as_ptr() as *mut libc::c_void,
            iov_len: payload.len(),
        })
        .collect();
    // SAFETY: mmsghdr is plain data; zeroed is a valid value.
    let mut msgs: Vec<libc::mmsghdr> = (0..batch).map(|_| unsafe { std::mem::zeroed() }).collect();
    for (m, v) in msgs.iter_mut().zip(iov.iter_mut()) {
        m.msg_hdr.msg_iov = v;
        m.msg_hdr.msg_iovlen = 1;
    }
    let started = Instant::now();
    let mut sent = 0u64;
    while sent < count {
        if rate > 0 {
            // When datagram `sent` is due; sleep until then, spin the last bit.
            let due = started + Duration::from_secs_f64(sent as f64 / rate as f64);
            loop {
                let now = Instant::now();
                if now >= due {
                    break;
                }
                let left = due - now;
                if left > Duration::from_micros(200) {
                    std::thread::sleep(left - Duration::from_micros(100));
                } else {
                    std::hint::spin_loop();
                }
            }
        }
        let n = (count - sent).min(batch as u64) as u32;
        // SAFETY: msgs holds `batch` >= n headers pointing at live iovecs and
        // the payload, all alive for the call.
        let done = unsafe { libc::sendmmsg(socket.as_raw_fd(), msgs.as_mut_ptr(), n, 0) };
        if done < 0 {
            let e = std::io::Error::last_os_error();
            match e.kind() {
                std::io::ErrorKind::Interrupted => continue,
                // A full buffer on lo: try again (a blocking socket rarely says it).
                std::io::ErrorKind::WouldBlock => continue,
                _ if e.raw_os_error() == Some(libc::ENOBUFS) => continue,
                _ => return Err(e),
            }
        }
        sent += done as u64;
    }
    Ok(sent)
}
