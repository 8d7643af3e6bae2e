"""The first test of docs/python.md, as a user copies it: an echo server and
a `packets` assertion."""

import socket
import threading


def echo_server():
    """A UDP echo server on a free port of 127.0.0.1; returns its port."""
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))

    def serve():
        data, peer = server.recvfrom(2048)
        server.sendto(data, peer)
        server.close()

    threading.Thread(target=serve, daemon=True).start()
    return server.getsockname()[1]


def test_echo_answers_once(packets):
    port = echo_server()
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.settimeout(2)
    client.sendto(b"ping", ("127.0.0.1", port))
    assert client.recvfrom(2048)[0] == b"ping"
    client.close()

    packets.expect(f'udp.dstport == {port} && data.text == "ping"', count=1)
    packets.expect(f'udp.srcport == {port} && data.text == "ping"', count=1)
    packets.forbid("tcp.flags.syn == 1")
