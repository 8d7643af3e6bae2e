//! The seed's two scripts as sockets: a server that binds and waits for one
//! datagram, a client that sends one. Nothing here blocks forever unless asked.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::packet::frame::Datagram;

/// Largest datagram the server reads whole (the largest UDP payload over IPv6).
const RECV_BUFFER: usize = 65_536;

/// The server role: a UDP socket bound to one address.
///
/// ```
/// use lola::host::exchange::Server;
/// let server = Server::bind("127.0.0.1:0".parse().unwrap()).unwrap();
/// assert!(server.local_addr().ip().is_loopback());
/// assert_ne!(server.local_addr().port(), 0, "the kernel picked a free port");
/// ```
pub struct Server {
    socket: UdpSocket,
    addr: SocketAddr,
}

impl Server {
    /// Binds `addr`; port 0 picks a free port. The error names the address.
    ///
    /// ```
    /// use lola::host::exchange::Server;
    /// let first = Server::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    /// let addr = first.local_addr();
    /// let err = Server::bind(addr).err().unwrap();
    /// assert_eq!(err.to_string(), format!("cannot bind {addr}: address in use"));
    /// ```
    pub fn bind(addr: SocketAddr) -> Result<Server> {
        let socket = UdpSocket::bind(addr).map_err(|source| Error::Bind { addr, source })?;
        let addr = socket
            .local_addr()
            .map_err(|source| Error::Bind { addr, source })?;
        Ok(Server { socket, addr })
    }

    /// The address actually bound (with the port the kernel picked).
    ///
    /// ```
    /// let server = lola::host::exchange::Server::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    /// assert_eq!(server.local_addr().ip().to_string(), "127.0.0.1");
    /// assert_ne!(server.local_addr().port(), 0);
    /// ```
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Waits for one datagram, from `from` if given (others are skipped and
    /// returned in the second list), for at most `timeout` (`None`: forever).
    ///
    /// The returned datagram's destination is the server's bound address, its
    /// timestamp the time it was received.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lola::host::exchange::{Client, Server};
    /// let server = Server::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    /// let stray = Client::bind_for(server.local_addr(), None).unwrap();
    /// let client = Client::bind_for(server.local_addr(), None).unwrap();
    /// stray.send(server.local_addr(), b"stray").unwrap();
    /// client.send(server.local_addr(), b"Hello Lola").unwrap();
    /// let wait = Some(Duration::from_secs(2));
    /// let (got, strays) = server.receive(Some(client.local_addr()), wait).unwrap();
    /// assert_eq!((got.payload, strays[0].payload.as_slice()), (b"Hello Lola".to_vec(), &b"stray"[..]));
    /// let quiet = server.receive(None, Some(Duration::from_millis(10)));
    /// assert!(matches!(quiet, Err(lola::Error::Timeout { .. })));
    /// ```
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
///
/// ```
/// use lola::host::exchange::Client;
/// let client = Client::bind_for("127.0.0.1:7456".parse().unwrap(), None).unwrap();
/// assert_eq!(client.local_addr().ip().to_string(), "127.0.0.1");
/// ```
pub struct Client {
    socket: UdpSocket,
    addr: SocketAddr,
}

impl Client {
    /// Binds an ephemeral port on the loopback address of the same family as
    /// `to` (127.0.0.1 or ::1), or on `from` when given.
    ///
    /// ```
    /// use lola::host::exchange::Client;
    /// let near = Client::bind_for("127.0.0.1:7456".parse().unwrap(), None).unwrap();
    /// assert!(near.local_addr().ip().is_loopback());
    /// // A destination off the host: the kernel picks the source address.
    /// let far = Client::bind_for("192.0.2.1:7456".parse().unwrap(), None).unwrap();
    /// assert!(far.local_addr().ip().is_unspecified());
    /// ```
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
    ///
    /// ```
    /// let client = lola::host::exchange::Client::bind_for("127.0.0.1:7456".parse().unwrap(), None).unwrap();
    /// assert_ne!(client.local_addr().port(), 0, "an ephemeral port");
    /// ```
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sends `payload` to `to` as one datagram.
    ///
    /// ```
    /// use lola::host::exchange::{Client, Server};
    /// let server = Server::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    /// let client = Client::bind_for(server.local_addr(), None).unwrap();
    /// client.send(server.local_addr(), b"Hello Lola").unwrap();
    /// let wait = Some(std::time::Duration::from_secs(2));
    /// let (got, _) = server.receive(Some(client.local_addr()), wait).unwrap();
    /// assert_eq!(got.payload, b"Hello Lola");
    /// ```
    pub fn send(&self, to: SocketAddr, payload: &[u8]) -> Result<()> {
        let sent = self
            .socket
            .send_to(payload, to)
            .map_err(|source| Error::Send { to, source })?;
        if sent != payload.len() {
            return Err(Error::ShortSend {
                to,
                sent,
                len: payload.len(),
            });
        }
        Ok(())
    }
}

/// What one run of the exchange saw.
///
/// ```
/// use std::time::Duration;
/// let pair = lola::host::exchange::Pair::bind("127.0.0.1:0".parse().unwrap()).unwrap();
/// let exchange = pair.exchange(b"Hi", Duration::from_secs(2)).unwrap();
/// assert_eq!(exchange.received.payload, b"Hi");
/// assert!(exchange.strays.is_empty());
/// ```
#[derive(Clone, Debug)]
pub struct Exchange {
    /// The datagram as the server received it.
    pub received: Datagram,
    /// Datagrams from other senders that reached the server meanwhile.
    pub strays: Vec<Datagram>,
}

/// A bound server and client, ready to exchange one datagram: bound first so
/// that a capture can start between binding and sending.
///
/// ```
/// let pair = lola::host::exchange::Pair::bind("127.0.0.1:0".parse().unwrap()).unwrap();
/// assert_eq!(pair.client.local_addr().ip(), pair.server.local_addr().ip());
/// assert_ne!(pair.client.local_addr(), pair.server.local_addr());
/// ```
pub struct Pair {
    /// The server socket.
    pub server: Server,
    /// The client socket.
    pub client: Client,
}

impl Pair {
    /// Binds the server at `to` (port 0: any free port) and a client socket
    /// on the loopback address of the same family.
    ///
    /// ```
    /// use lola::host::exchange::Pair;
    /// let pair = Pair::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    /// assert!(pair.client.local_addr().ip().is_loopback());
    /// let err = Pair::bind("0.0.0.0:7456".parse().unwrap()).err().unwrap();
    /// assert!(matches!(err, lola::Error::UnspecifiedDestination { .. }), "{err}");
    /// ```
    pub fn bind(to: SocketAddr) -> Result<Pair> {
        if to.ip().is_unspecified() {
            return Err(Error::UnspecifiedDestination { addr: to });
        }
        let server = Server::bind(to)?;
        let client = Client::bind_for(server.local_addr(), None)?;
        Ok(Pair { server, client })
    }

    /// Sends `payload` from the client to the server and waits up to
    /// `timeout` for the server to receive it.
    ///
    /// ```
    /// use std::time::Duration;
    /// let pair = lola::host::exchange::Pair::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    /// // A capture can start here, before anything is sent.
    /// let exchange = pair.exchange(b"Hello Lola", Duration::from_secs(2)).unwrap();
    /// let got = &exchange.received;
    /// assert_eq!((got.src, got.dst), (pair.client.local_addr(), pair.server.local_addr()));
    /// ```
    pub fn exchange(&self, payload: &[u8], timeout: Duration) -> Result<Exchange> {
        self.client.send(self.server.local_addr(), payload)?;
        let (received, strays) = self
            .server
            .receive(Some(self.client.local_addr()), Some(timeout))?;
        Ok(Exchange { received, strays })
    }
}

/// What one TCP exchange did, with the times of its steps (since the Unix
/// epoch) for a synthesized capture where live capture is not possible.
///
/// ```
/// use std::time::Duration;
/// let server = lola::host::exchange::TcpServer::bind("127.0.0.1:0".parse().unwrap()).unwrap();
/// let tcp = server.exchange(b"Hello Lola", Duration::from_secs(2)).unwrap();
/// assert_eq!(tcp.received, b"Hello Lola");
/// assert!(tcp.connect_at <= tcp.connected_at && tcp.connected_at <= tcp.sent_at);
/// assert!(tcp.sent_at <= tcp.received_at && tcp.received_at <= tcp.closed_at);
/// ```
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

/// A TCP listener bound and ready, so that a capture can start between
/// listening and connecting.
///
/// ```
/// use std::time::Duration;
/// let server = lola::host::exchange::TcpServer::bind("127.0.0.1:0".parse().unwrap()).unwrap();
/// let addr = server.local_addr();
/// let tcp = server.exchange(b"Hello Lola", Duration::from_secs(2)).unwrap();
/// assert_eq!((tcp.server, tcp.received.as_slice()), (addr, &b"Hello Lola"[..]));
/// ```
pub struct TcpServer {
    listener: TcpListener,
    addr: SocketAddr,
}

impl TcpServer {
    /// Listens on `addr` (port 0: any free port).
    ///
    /// ```
    /// use lola::host::exchange::TcpServer;
    /// let first = TcpServer::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    /// let err = TcpServer::bind(first.local_addr()).err().unwrap();
    /// assert!(err.to_string().contains("address in use"), "{err}");
    /// ```
    pub fn bind(addr: SocketAddr) -> Result<TcpServer> {
        let listener = TcpListener::bind(addr).map_err(|source| Error::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| Error::Bind { addr, source })?;
        Ok(TcpServer { listener, addr })
    }

    /// The address it listens on.
    ///
    /// ```
    /// let server = lola::host::exchange::TcpServer::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    /// assert!(server.local_addr().ip().is_loopback());
    /// assert_ne!(server.local_addr().port(), 0);
    /// ```
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connects to it, sends `payload`, closes from the client side, reads
    /// it all on the server side and closes that too: one connection, one
    /// short message, as in the seed's TCP post.
    ///
    /// ```
    /// use std::time::Duration;
    /// let server = lola::host::exchange::TcpServer::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    /// let tcp = server.exchange(b"Hello Lola", Duration::from_secs(2)).unwrap();
    /// assert_eq!(tcp.received, b"Hello Lola");
    /// assert_eq!(tcp.client.ip(), tcp.server.ip());
    /// assert_ne!(tcp.client.port(), tcp.server.port());
    /// ```
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

/// Steps of the exchange, for progress output.
///
/// ```
/// use std::time::Duration;
/// use lola::host::exchange::Event;
/// let mut events = Vec::new();
/// let dir = tempfile::tempdir().unwrap();
/// let options = lola::RunOptions {
///     to: "127.0.0.1:0".parse().unwrap(),
///     output: dir.path().join("hello.pcap"),
///     capture: lola::harness::CaptureMode::Off,
///     ..Default::default()
/// };
/// let ex = lola::harness::run(&options, |e| events.push(e)).unwrap().exchange;
/// let (client, server) = (ex.received.src, ex.received.dst);
/// assert!(matches!(events[..], [Event::Listening(s), Event::Sending(c, t)]
///     if s == server && (c, t) == (client, server)));
/// ```
#[derive(Clone, Copy, Debug)]
pub enum Event {
    /// The server is bound at this address.
    Listening(SocketAddr),
    /// The client at the first address is about to send to the second.
    Sending(SocketAddr, SocketAddr),
}

/// Now, as time since the Unix epoch.
///
/// ```
/// let before = lola::host::exchange::now();
/// assert!(before > std::time::Duration::from_secs(1_700_000_000)); // after November 2023
/// assert!(lola::host::exchange::now() >= before);
/// ```
pub fn now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_bind_on_the_same_port_names_the_address() {
        let first = Server::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let err = Server::bind(first.local_addr()).err().unwrap().to_string();
        assert_eq!(
            err,
            format!("cannot bind {}: address in use", first.local_addr())
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
        let pair = Pair::bind("[::1]:0".parse().unwrap()).unwrap();
        let run = pair
            .exchange(b"Hello Lola", Duration::from_secs(2))
            .unwrap();
        assert_eq!(run.received.src.ip(), "::1".parse::<IpAddr>().unwrap());
        assert_eq!(run.received.dst.ip(), "::1".parse::<IpAddr>().unwrap());
    }
}
