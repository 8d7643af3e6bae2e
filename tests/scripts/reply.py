# A request and its reply over UDP on lo, in one program: a server on 7456
# that answers "Hi", and a client that sends "Hello Lola" and waits for the
# answer. The server binds before the client sends (no ICMP "port
# unreachable"), and both sockets time out, so it cannot hang.

import socket

def main():
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.settimeout(5)
    server.bind(('127.0.0.1', 7456))
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.settimeout(5)
    client.sendto(b"Hello Lola", ('127.0.0.1', 7456))
    request, address = server.recvfrom(1024)
    server.sendto(b"Hi", address)
    reply, _ = client.recvfrom(1024)
    print(f"server got {request}, client got {reply}", flush=True)

if __name__ == "__main__":
    main()
