//! The seed's two scripts as sockets: a server that binds and waits for one
//! datagram, a client that sends one. Nothing here blocks forever unless asked.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::frame::Datagram;

/// Largest datagram the server reads whole (the largest UDP payload over IPv6).
const RECV_BUFFER: usize = 65_536;

/// The server role: a UDP socket bound to one address.
pub struct Server {
    socket: UdpSocket,
    addr: SocketAddr,
}

impl Server {
    /// Binds `addr`; port 0 picks a free port. The error names the address and,
    /// for "address in use", suggests `--port 0`.
    pub fn bind(addr: SocketAddr) -> Result<Server> {
        let socket = UdpSocket::bind(addr).map_err(|source| Error::Bind { addr, source })?;
        let addr = socket
            .local_addr()
            .map_err(|source| Error::Bind { addr, source })?;
        Ok(Server { socket, addr })
    }

    /// The address actually bound (with the port the kernel picked).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Waits for one datagram, from `from` if given (others are skipped and
    /// returned in the second list), for at most `timeout` (`None`: forever).
    ///
    /// The returned datagram's destination is the server's bound address, its
    /// timestamp the time it was received.
    pub fn receive(
        &self,
        from: Option<SocketAddr>,
        timeout: Option<Duration>,
    ) -> Result<(Datagram, Vec<Datagram>)> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut strays = Vec::new();
        let mut buf = vec![0u8; RECV_BUFFER];
        loop {
            let wait = match deadline {
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(Error::Timeout {
                            addr: self.addr,
                            after: timeout.unwrap_or_default(),
                        });
                    }
                    Some(left)
                }
                None => None,
            };
            self.socket
                .set_read_timeout(wait)
                .map_err(|source| Error::Receive {
                    addr: self.addr,
                    source,
                })?;
            match self.socket.recv_from(&mut buf) {
                Ok((n, src)) => {
                    let datagram = Datagram {
                        src,
                        dst: self.addr,
                        payload: buf[..n].to_vec(),
                        timestamp: now(),
                    };
                    if from.is_none_or(|f| f == src) {
                        return Ok((datagram, strays));
                    }
                    strays.push(datagram);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    continue;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(Error::Receive {
                        addr: self.addr,
                        source,
                    });
                }
            }
        }
    }
}

/// The client role: a UDP socket on the loopback address of `to`'s family
/// with an ephemeral port.
pub struct Client {
    socket: UdpSocket,
    addr: SocketAddr,
}

impl Client {
    /// Binds an ephemeral port on the loopback address of the same family as
    /// `to` (127.0.0.1 or ::1), or on `from` when given.
    pub fn bind_for(to: SocketAddr, from: Option<SocketAddr>) -> Result<Client> {
        let addr = from.unwrap_or_else(|| {
            let ip = if to.is_ipv4() {
                IpAddr::V4(Ipv4Addr::LOCALHOST)
            } else {
                IpAddr::V6(Ipv6Addr::LOCALHOST)
            };
            // A destination that is not loopback gets a source the kernel picks.
            let ip = if to.ip().is_loopback() {
                ip
            } else if to.is_ipv4() {
                IpAddr::V4(Ipv4Addr::UNSPECIFIED)
            } else {
                IpAddr::V6(Ipv6Addr::UNSPECIFIED)
            };
            SocketAddr::new(ip, 0)
        });
        let socket = UdpSocket::bind(addr).map_err(|source| Error::Bind { addr, source })?;
        let addr = socket
            .local_addr()
            .map_err(|source| Error::Bind { addr, source })?;
        Ok(Client { socket, addr })
    }

    /// The address the client sends from.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sends `payload` to `to` as one datagram.
    pub fn send(&self, to: SocketAddr, payload: &[u8]) -> Result<()> {
        let sent = self
            .socket
            .send_to(payload, to)
            .map_err(|source| Error::Send { to, source })?;
        if sent != payload.len() {
            return Err(Error::Invalid(format!(
                "sent only {sent} of {} bytes to {to}",
                payload.len()
            )));
        }
        Ok(())
    }
}

/// What one run of the exchange saw.
#[derive(Clone, Debug)]
pub struct Exchange {
    /// The datagram as the server received it.
    pub received: Datagram,
    /// Datagrams from other senders that reached the server meanwhile.
    pub strays: Vec<Datagram>,
}

/// A bound server and client, ready to exchange one datagram: split from
/// [`run`] so that a capture can start between binding and sending.
pub struct Pair {
    /// The server socket.
    pub server: Server,
    /// The client socket.
    pub client: Client,
}

impl Pair {
    /// Binds the server at `to` (port 0: any free port) and a client socket
    /// on the loopback address of the same family.
    pub fn bind(to: SocketAddr) -> Result<Pair> {
        if to.ip().is_unspecified() {
            return Err(Error::Invalid(format!(
                "--to {to}: the destination must be a concrete address such as 127.0.0.1 or ::1"
            )));
        }
        let server = Server::bind(to)?;
        let client = Client::bind_for(server.local_addr(), None)?;
        Ok(Pair { server, client })
    }

    /// Sends `payload` from the client to the server and waits up to
    /// `timeout` for the server to receive it.
    pub fn exchange(&self, payload: &[u8], timeout: Duration) -> Result<Exchange> {
        self.client.send(self.server.local_addr(), payload)?;
        let (received, strays) = self
            .server
            .receive(Some(self.client.local_addr()), Some(timeout))?;
        Ok(Exchange { received, strays })
    }
}

/// Runs the seed's exchange: bind the server at `to`, send `payload` from a
/// fresh client socket, receive it within `timeout`.
///
/// `on_event` sees the seed's lines as they happen (`Just here on 7456...`,
/// `Sending data...`), so a CLI can print them in order.
///
/// ```
/// let run = lola::exchange::run("127.0.0.1:0".parse().unwrap(), b"Hello Lola",
///     std::time::Duration::from_secs(2), |_| {}).unwrap();
/// assert_eq!(run.received.payload, b"Hello Lola");
/// assert!(run.received.src.ip().is_loopback());
/// ```
pub fn run(
    to: SocketAddr,
    payload: &[u8],
    timeout: Duration,
    mut on_event: impl FnMut(Event),
) -> Result<Exchange> {
    let pair = Pair::bind(to)?;
    on_event(Event::Listening(pair.server.local_addr()));
    on_event(Event::Sending(
        pair.client.local_addr(),
        pair.server.local_addr(),
    ));
    pair.exchange(payload, timeout)
}

/// Steps of the exchange, for progress output.
#[derive(Clone, Copy, Debug)]
pub enum Event {
    /// The server is bound at this address.
    Listening(SocketAddr),
    /// The client at the first address is about to send to the second.
    Sending(SocketAddr, SocketAddr),
}

/// Now, as time since the Unix epoch.
pub fn now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_bind_on_the_same_port_names_address_and_hint() {
        let first = Server::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let err = Server::bind(first.local_addr()).err().unwrap().to_string();
        assert_eq!(
            err,
            format!(
                "cannot bind {}: address in use; try --port 0",
                first.local_addr()
            )
        );
    }

    #[test]
    fn receive_times_out_instead_of_blocking() {
        let server = Server::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let start = Instant::now();
        let err = server
            .receive(None, Some(Duration::from_millis(50)))
            .err()
            .unwrap();
        assert!(matches!(err, Error::Timeout { .. }), "{err}");
        assert!(start.elapsed() < Duration::from_secs(2));
        assert!(
            err.to_string()
                .starts_with("no datagram reached 127.0.0.1:"),
            "{err}"
        );
    }

    #[test]
    fn ipv6_exchange_works_over_loopback() {
        let run = run(
            "[::1]:0".parse().unwrap(),
            b"Hello Lola",
            Duration::from_secs(2),
            |_| {},
        )
        .unwrap();
        assert_eq!(run.received.src.ip(), "::1".parse::<IpAddr>().unwrap());
        assert_eq!(run.received.dst.ip(), "::1".parse::<IpAddr>().unwrap());
    }
}
