//! Value parsers for the flags: addresses as the seed scripts write them,
//! durations, timestamps, hex bytes. Each error names what was given.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use lola::check::SEED_PORT;

/// `127.0.0.1:7456`, `[::1]:7456`, `localhost:7456`, or an address alone
/// (port 7456).
pub fn parse_endpoint(s: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Ok(ip) = s.trim_matches(|c| c == '[' || c == ']').parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, SEED_PORT));
    }
    if let Some(port) = s.strip_prefix("localhost:") {
        let port: u16 = port.parse().map_err(|_| format!("bad port in {s:?}"))?;
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    if s == "localhost" {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), SEED_PORT));
    }
    match s.to_socket_addrs() {
        Ok(mut addrs) => addrs
            .next()
            .ok_or_else(|| format!("{s:?} resolves to no address")),
        Err(_) => Err(format!(
            "{s:?} is not an address:port such as 127.0.0.1:7456 or [::1]:7456"
        )),
    }
}

pub fn parse_addr_maybe_port(s: &str) -> Result<(IpAddr, Option<u16>), String> {
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok((addr.ip(), Some(addr.port())));
    }
    s.trim_matches(|c| c == '[' || c == ']')
        .parse::<IpAddr>()
        .map(|ip| (ip, None))
        .map_err(|_| {
            format!("{s:?} is not an address, with or without a port (127.0.0.1, [::1]:7456)")
        })
}

/// A port: decimal (`7456`) or hex with `0x` (`0x1d20`), as tcpdump and
/// Wireshark print them.
pub fn parse_port(s: &str) -> Result<u16, String> {
    let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u16::from_str_radix(hex, 16).map_err(|_| ()),
        None => s.parse::<u16>().map_err(|_| ()),
    };
    parsed.map_err(|()| format!("{s:?} is not a port: 0 to 65535, or 0x0 to 0xffff"))
}

/// `--frames`: a number of lines, or `all`.
pub fn parse_frames(s: &str) -> Result<usize, String> {
    if s == "all" {
        return Ok(usize::MAX);
    }
    s.parse::<usize>()
        .map_err(|_| format!("{s:?} is not a number of frames or all"))
}

/// The longest duration any option takes: about 31 years. Longer ones
/// would overflow the clock arithmetic of a deadline.
const MAX_DURATION: Duration = Duration::from_secs(1_000_000_000);

pub fn parse_duration(s: &str) -> Result<Duration, String> {
    if let Ok(secs) = s.parse::<f64>() {
        if (0.0..1e9).contains(&secs) {
            return Ok(Duration::from_secs_f64(secs));
        }
        return Err(format!("{s:?} is not a usable duration"));
    }
    let d = humantime::parse_duration(s)
        .map_err(|e| format!("{s:?} is not a duration such as 2s or 500ms: {e}"))?;
    if d > MAX_DURATION {
        return Err(format!(
            "{s:?} is too long: durations go up to {}",
            humantime::format_duration(MAX_DURATION)
        ));
    }
    Ok(d)
}

pub fn parse_timestamp(s: &str) -> Result<Duration, String> {
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    if !secs.is_empty()
        && secs.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
        && frac.len() <= 9
    {
        let secs: u64 = secs
            .parse()
            .map_err(|_| format!("{s:?}: seconds out of range"))?;
        let nanos: u32 = if frac.is_empty() {
            0
        } else {
            format!("{frac:0<9}")
                .parse()
                .map_err(|_| format!("{s:?}: bad fraction"))?
        };
        return Ok(Duration::new(secs, nanos));
    }
    humantime::parse_rfc3339_weak(s)
        .map_err(|_| format!("{s:?} is not seconds since the epoch (1700000000.5) or RFC 3339 (2024-01-01T00:00:00Z)"))?
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| format!("{s:?} is before 1970"))
}

/// Bytes given in hex. A newtype, because clap reads `Vec<u8>` as many values.
#[derive(Clone, Debug)]
pub struct HexBytes(pub Vec<u8>);

pub fn parse_hex(s: &str) -> Result<HexBytes, String> {
    let clean: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    let clean = clean.strip_prefix("0x").unwrap_or(&clean);
    if !clean.len().is_multiple_of(2) {
        return Err(format!("{s:?}: hex needs an even number of digits"));
    }
    (0..clean.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&clean[i..i + 2], 16)
                .map_err(|_| format!("{s:?}: {:?} is not a hex byte", &clean[i..i + 2]))
        })
        .collect::<Result<Vec<u8>, String>>()
        .map(HexBytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_like_the_seed_writes_them() {
        assert_eq!(parse_endpoint("127.0.0.1:7456").unwrap().port(), 7456);
        assert!(parse_endpoint("[::1]:7456").unwrap().is_ipv6());
        assert_eq!(
            parse_endpoint("localhost:9").unwrap(),
            "127.0.0.1:9".parse().unwrap()
        );
        assert_eq!(
            parse_endpoint("::1").unwrap(),
            "[::1]:7456".parse().unwrap()
        );
        assert!(parse_endpoint("nonsense:port").is_err());
    }

    #[test]
    fn timestamps_and_hex_parse() {
        assert_eq!(
            parse_timestamp("1700000000.5").unwrap(),
            Duration::new(1_700_000_000, 500_000_000)
        );
        assert_eq!(
            parse_timestamp("2024-01-01T00:00:00Z").unwrap().as_secs(),
            1_704_067_200
        );
        assert_eq!(parse_hex("48 65:6c").unwrap().0, b"Hel");
        assert!(parse_hex("4").is_err());
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_port("0x1d20"), Ok(7456));
        assert_eq!(parse_port("7456"), Ok(7456));
        assert!(parse_port("65536").is_err());
        assert!(parse_port("0x10000").is_err());
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
    }
}
