# The TCP pair the seed's blog post compares with: one connection, one message.

import socket

def main():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(('localhost', 7456))
    sock.listen()
    print("Just here on 7456...", flush=True)
    conn, address = sock.accept()
    with conn:
        data = conn.recv(1024)
        print(f"FROM: {address} DATA: {data}", flush=True)

if __name__ == "__main__":
    main()
