# A UDP echo service and its client in one program, as a user's own program
# under test: the server on 127.0.0.1:9999 answers each datagram in
# capitals; the client sends "ping 0".."ping 2" and prints the answers, then
# the program exits with $STATUS (0 unless set). The client's socket times
# out, so it cannot hang.

import os
import socket
import sys
import threading

def main():
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 9999))

    def serve():
        for _ in range(3):
            data, address = server.recvfrom(2048)
            server.sendto(data.upper(), address)

    threading.Thread(target=serve, daemon=True).start()
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.settimeout(5)
    for i in range(3):
        client.sendto(b"ping %d" % i, ("127.0.0.1", 9999))
        print(client.recvfrom(2048)[0].decode(), flush=True)
    sys.exit(int(os.environ.get("STATUS", "0")))

if __name__ == "__main__":
    main()
