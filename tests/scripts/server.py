# UDP server.py, as the seed's blog post writes it.

import socket

def main():
    # creating the socket
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # binding the socket to the address, in our case the localhost
    sock.bind(('localhost', 7456))
    print("Just here on 7456...", flush=True)
    # a single short message from the client
    data, address = sock.recvfrom(1024)
    print(f"FROM: {address} DATA: {data}", flush=True)

if __name__ == "__main__":
    main()
