//! The seed's two scripts as sockets: a server that binds and waits for one
//! datagram, a client that sends one. Nothing here blocks forever unless asked.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
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

/// What one TCP exchange did, with the times of its steps (since the Unix
/// epoch) for a synthesized capture where live capture is not possible.
#[derive(Clone, Debug)]
pub struct TcpExchange {
    /// The connecting socket.
    pub client: SocketAddr,
    /// The listening socket.
    pub server: SocketAddr,
    /// What the server read before the client closed.
    pub received: Vec<u8>,
    /// When the client started to connect.
    pub connect_at: Duration,
    /// When the connection was established.
    pub connected_at: Duration,
    /// When the data was written.
    pub sent_at: Duration,
    /// When the server had read it all.
    pub received_at: Duration,
    /// When both sides had closed.
    pub closed_at: Duration,
}

/// A TCP listener bound and ready, split from [`tcp_run`] so that a capture
/// can start between listening and connecting.
pub struct TcpServer {
    listener: TcpListener,
    addr: SocketAddr,
}

impl TcpServer {
    /// Listens on `addr` (port 0: any free port).
    pub fn bind(addr: SocketAddr) -> Result<TcpServer> {
        let listener = TcpListener::bind(addr).map_err(|source| Error::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| Error::Bind { addr, source })?;
        Ok(TcpServer { listener, addr })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connects to it, sends `payload`, closes from the client side, reads
    /// it all on the server side and closes that too: one connection, one
    /// short message, as in the seed's TCP post.
    pub fn exchange(self, payload: &[u8], timeout: Duration) -> Result<TcpExchange> {
        let to = self.addr;
        let send_err = |source| Error::Send { to, source };
        let connect_at = now();
        let mut client = TcpStream::connect_timeout(&to, timeout).map_err(send_err)?;
        let connected_at = now();
        let client_addr = client.local_addr().map_err(send_err)?;
        // The kernel completed the handshake already; accept() returns at once.
        self.listener.set_nonblocking(false).map_err(send_err)?;
        let (mut server, _) = self
            .listener
            .accept()
            .map_err(|source| Error::Receive { addr: to, source })?;
        client.write_all(payload).map_err(send_err)?;
        let sent_at = now();
        drop(client); // FIN from the client
        server
            .set_read_timeout(Some(timeout))
            .map_err(|source| Error::Receive { addr: to, source })?;
        let mut received = Vec::new();
        server
            .read_to_end(&mut received)
            .map_err(|source| match source.kind() {
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => Error::Timeout {
                    addr: to,
                    after: timeout,
                },
                _ => Error::Receive { addr: to, source },
            })?;
        let received_at = now();
        drop(server); // FIN from the server; the client's kernel ACKs it
        Ok(TcpExchange {
            client: client_addr,
            server: to,
            received,
            connect_at,
            connected_at,
            sent_at,
            received_at,
            closed_at: now(),
        })
    }
}

/// One TCP connection carrying `payload` to `to`, then closed.
pub fn tcp_run(to: SocketAddr, payload: &[u8], timeout: Duration) -> Result<TcpExchange> {
    TcpServer::bind(to)?.exchange(payload, timeout)
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
