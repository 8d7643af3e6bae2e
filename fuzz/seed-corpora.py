#!/usr/bin/env python3
"""Seeds fuzz/corpus/<target>/ from ../fixtures (run from anywhere; re-run when
fixtures are added: existing corpus files are kept).

- read_capture, check_capture: every fixtures/*.pcap and *.pcapng, as is.
- decode_frame: every frame of those files behind the 4-byte head the target
  reads (byte 0: index into its LINK_TYPES, byte 3: bytes cut off, 0 here);
  Ethernet frames are also written under the other link types, with the
  Ethernet header swapped for theirs, so that each link type has a seed.
"""
import pathlib
import shutil
import struct

FUZZ = pathlib.Path(__file__).resolve().parent
FIXTURES = FUZZ.parent / "fixtures"
CORPUS = FUZZ / "corpus"
LINK_TYPES = [0, 1, 101, 108, 113, 228, 229, 276]  # as in fuzz_targets/decode_frame.rs


def pcap_frames(b):
    magic = b[:4]
    order = {b"\xd4\xc3\xb2\xa1": "<", b"\x4d\x3c\xb2\xa1": "<",
             b"\xa1\xb2\xc3\xd4": ">", b"\xa1\xb2\x3c\x4d": ">",
             b"\x34\xcd\xb2\xa1": "<", b"\xa1\xb2\xcd\x34": ">"}.get(magic)
    if order is None:  # a version or magic lola refuses
        return
    # the modified (Kuznetsov) format has 24-byte record headers
    head = 24 if magic in (b"\x34\xcd\xb2\xa1", b"\xa1\xb2\xcd\x34") else 16
    link = struct.unpack(order + "I", b[20:24])[0] & 0xFFFF
    at = 24
    while at + head <= len(b):
        incl = struct.unpack(order + "I", b[at + 8:at + 12])[0]
        yield link, b[at + head:at + head + incl]
        at += head + incl


def pcapng_frames(b):
    order, links, at = "<", [], 0
    while at + 12 <= len(b):
        btype = struct.unpack(">I", b[at:at + 4])[0]
        if btype == 0x0A0D0D0A:
            order = "<" if b[at + 8:at + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            links = []
        else:
            btype = struct.unpack(order + "I", b[at:at + 4])[0]
        blen = struct.unpack(order + "I", b[at + 4:at + 8])[0]
        if blen < 12 or blen % 4:
            break
        body = b[at + 8:at + blen - 4]
        if btype == 1:
            links.append(struct.unpack(order + "H", body[:2])[0])
        elif btype == 6:
            iface, _, _, cap, _ = struct.unpack(order + "5I", body[:20])
            yield links[iface], body[20:20 + cap]
        elif btype == 3:
            orig = struct.unpack(order + "I", body[:4])[0]
            yield links[0], body[4:4 + min(orig, len(body) - 4)]
        at += blen


def variants(link, frame):
    """The frame under its own link type, and an Ethernet frame under the others."""
    yield "", link, frame
    if link != 1 or len(frame) < 14:
        return
    ether_type, ip = frame[12:14], frame[14:]
    v6 = ether_type == b"\x86\xdd"
    if ether_type not in (b"\x08\x00", b"\x86\xdd"):
        return
    yield "-null", 0, struct.pack("<I", 30 if v6 else 2) + ip
    yield "-raw", 101, ip
    yield "-loop", 108, struct.pack(">I", 24 if v6 else 2) + ip
    sll = struct.pack(">HHH", 0, 772, 6) + frame[6:12] + b"\0\0" + ether_type
    yield "-sll", 113, sll + ip
    yield "-ipv", 229 if v6 else 228, ip
    sll2 = ether_type + b"\0\0" + struct.pack(">IHBB", 1, 772, 0, 6) + frame[6:12] + b"\0\0"
    yield "-sll2", 276, sll2 + ip


def many_flows():
    """A pcap of 60 datagrams of other flows (fixtures/seed-ipv4.pcap's frame
    with other ports), then the seed's datagram: past the checker's LIST_CAP
    (50) near misses, where it takes its fast path."""
    seed = FIXTURES / "seed-ipv4.pcap"
    if not seed.exists():
        return None
    b = seed.read_bytes()
    header, (_, frame) = b[:24], next(pcap_frames(b))
    records = []
    for i in range(60):
        f = bytearray(frame)
        f[36:38] = (9000 + i).to_bytes(2, "big")  # udp.dstport (UDP checksum now bad)
        records.append(f)
    records.append(frame)
    return header + b"".join(struct.pack("<IIII", 1, i, len(f), len(f)) + f
                             for i, f in enumerate(records))


def main():
    captures = sorted(p for p in FIXTURES.iterdir()
                      if p.suffix in (".pcap", ".pcapng") and p.is_file())
    for target in ("read_capture", "check_capture"):
        (CORPUS / target).mkdir(parents=True, exist_ok=True)
        for p in captures:
            shutil.copyfile(p, CORPUS / target / p.name)
    flows = many_flows()
    if flows:
        for target in ("read_capture", "check_capture"):
            (CORPUS / target / "synth-many-flows.pcap").write_bytes(flows)
    out = CORPUS / "decode_frame"
    out.mkdir(parents=True, exist_ok=True)
    # One seed per link type and frame length: the fixtures hold many frames
    # of the same shape (the same datagram with other ports, IDs, checksums).
    seen = {(f.read_bytes()[0], len(f.read_bytes())) for f in out.iterdir()}
    for p in captures:
        b = p.read_bytes()
        frames = []
        try:  # the bad-* fixtures are malformed on purpose: keep what reads
            for f in (pcapng_frames if b[:4] == b"\x0a\x0d\x0d\x0a" else pcap_frames)(b):
                frames.append(f)
        except (KeyError, IndexError, struct.error):
            pass
        for n, (link, frame) in enumerate(frames, 1):
            for suffix, lt, data in variants(link, frame):
                if lt not in LINK_TYPES:
                    continue
                seed = bytes([LINK_TYPES.index(lt), 0, 0, 0]) + data
                if (seed[0], len(seed)) not in seen:
                    seen.add((seed[0], len(seed)))
                    (out / f"{p.stem}-{n}{suffix}").write_bytes(seed)
    for target in sorted(CORPUS.iterdir()):
        print(f"{target.name}: {len(list(target.iterdir()))} files")


if __name__ == "__main__":
    main()
