# The TCP pair the seed's blog post compares with: one connection, one message.

import socket

def main():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.connect(('localhost', 7456))
        print("Sending data...", flush=True)
        sock.sendall(b"Hello Lola")

if __name__ == "__main__":
    main()
