# UDP client.py, as the seed's blog post writes it.

import socket

def main():
    # create the socket
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    print("Sending data...", flush=True)
    # and ready to go
    sock.sendto(b"Hello Lola", ('localhost', 7456))

if __name__ == "__main__":
    main()
