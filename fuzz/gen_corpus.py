#!/usr/bin/env python3
"""Write the seed corpus of every fuzz target into fuzz/corpus/<target>/.

Small valid inputs, so the fuzzers start from the interesting paths (a full
DfuSe download, an enumeration, well-formed files of each format). The files
are committed; run this again after changing an input format:
    python3 fuzz/gen_corpus.py
Other files in those folders (reproducers of findings, e.g. plan/overlap-1)
are left alone.
"""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- DFU requests (fuzz_dfu_requests.c input format) ----

OUT, IN = 0x21, 0xA1
DNLOAD, UPLOAD, GETSTATUS, CLRSTATUS, GETSTATE, ABORT = 1, 2, 3, 4, 5, 6


def rec(bm, req, value=0, index=0, length=0, data=b"", ctl=0):
    if bm & 0x80 == 0:
        data = data.ljust(length, b"\0")[:length]
    else:
        data = b""
    return bytes([ctl]) + struct.pack("<BBHHH", bm, req, value, index, length) + data


def getstatus():
    return rec(IN, GETSTATUS, length=6)


def dnload(block, data):
    return rec(OUT, DNLOAD, block, 0, len(data), data) + getstatus() + getstatus()


def cmd(c, addr=None):
    body = bytes([c]) + (struct.pack("<I", addr) if addr is not None else b"")
    return dnload(0, body)


APP = 0x08020000
BOOT = 0x08000000


def dfu_seeds():
    xfer64 = 3  # flags: transfer size 64
    hdr = bytes([xfer64, 0, 0, 0])
    block = bytes((i * 7 + 1) & 0xFF for i in range(64))
    download = (cmd(0x21, APP) + cmd(0x41, APP) + dnload(2, block) + dnload(3, block[:40]) +
                cmd(0x21, APP) + rec(OUT, DNLOAD) + getstatus() + getstatus())
    put("dfu_requests", "download", hdr + download)
    put("dfu_requests", "download-poll", bytes([xfer64 | 8, 0, 0, 0]) + download)
    put("dfu_requests", "download-tolerant",
        bytes([xfer64 | 4, 0, 0, 0]) + download + getstatus() + rec(0, 0, ctl=2) + getstatus())
    put("dfu_requests", "upload",
        hdr + cmd(0x21, BOOT) + rec(OUT, ABORT) + rec(IN, UPLOAD, 0, 0, 64) +
        rec(IN, UPLOAD, 2, 0, 64) + rec(IN, UPLOAD, 3, 0, 64) + rec(IN, GETSTATE, length=1))
    put("dfu_requests", "bootloader-attack",
        hdr + cmd(0x21, BOOT) + cmd(0x41, BOOT) + rec(OUT, CLRSTATUS) + dnload(2, block) +
        rec(OUT, CLRSTATUS) + cmd(0x21, 0x0801FFE0) + dnload(2, block) + rec(OUT, CLRSTATUS) +
        cmd(0x41) + rec(OUT, CLRSTATUS) + cmd(0x92) + getstatus())
    put("dfu_requests", "power-cut",
        bytes([xfer64, 0x02, 2, 1]) + cmd(0x21, APP) + cmd(0x41, APP) + dnload(2, block) +
        rec(OUT, CLRSTATUS) + rec(0, 0, ctl=3) + cmd(0x41, APP) + getstatus())
    put("dfu_requests", "out-of-state",
        hdr + rec(OUT, DNLOAD) + getstatus() + rec(OUT, CLRSTATUS) + rec(OUT, 0) +
        rec(IN, UPLOAD, 1, 0, 64) + rec(OUT, CLRSTATUS) + cmd(0x21, 0x20000000) +
        rec(OUT, DNLOAD, 0, 0, 5, b"\x21\0\0\2\x08", ctl=1) + getstatus() + getstatus() +
        rec(IN, GETSTATE, length=1) + rec(OUT, ABORT))


# ---- USB device core (fuzz_usbd_std.c input format) ----

def setup(bm, req, value=0, index=0, length=0):
    return struct.pack("<BBHHH", bm, req, value, index, length)


def xfer(bm, req, value=0, index=0, length=0, data=b""):
    out = b""
    if bm & 0x80 == 0:
        out = data.ljust(length, b"\0")[:length]
    return bytes([7]) + setup(bm, req, value, index, length) + out


def enumerate_dev():
    return (bytes([3]) + xfer(0x80, 6, 0x0100, 0, 64) + bytes([3]) + xfer(0x00, 5, 7) +
            xfer(0x80, 6, 0x0100, 0, 18) + xfer(0x80, 6, 0x0200, 0, 9) +
            xfer(0x80, 6, 0x0200, 0, 255) + xfer(0x80, 6, 0x0300, 0, 255) +
            xfer(0x80, 6, 0x0302, 0x0409, 255) + xfer(0x80, 6, 0x0600, 0, 10) +
            xfer(0x00, 9, 1) + xfer(0x80, 8, 0, 0, 1) + xfer(0x80, 0, 0, 0, 2))


def usbd_seeds():
    put("usbd_std", "app",
        bytes([0]) + enumerate_dev() + xfer(0x81, 6, 0x2200, 0, 255) +
        xfer(0x81, 6, 0x2100, 0, 9) + xfer(0xA1, 1, 0x0300, 0, 64) + xfer(0x21, 0x0A, 0, 0) +
        xfer(0xA1, 2, 0, 0, 1) + xfer(0xA1, 3, 0, 0, 1) + xfer(0x01, 11, 0, 0) +
        xfer(0x02, 3, 0, 0x81) + xfer(0x82, 0, 0, 0x81, 2) + xfer(0x02, 1, 0, 0x81) +
        bytes([0x12, 6]) + b"\xdfh7dfu" + bytes([0x11, 4]) +
        xfer(0x21, 9, 0x0200, 0, 6, b"\xdfh7dfu") + xfer(0xA1, 3, 0, 1, 6) +
        xfer(0x21, 0, 1000, 1) + bytes([5, 13, 3]) + xfer(0xA1, 3, 0, 1, 6))
    def dfu_seq(i):
        return (xfer(0x21, 1, 0, i, 5, b"\x21\0\0\x02\x08") + xfer(0xA1, 3, 0, i, 6) +
                bytes([4]) + xfer(0xA1, 3, 0, i, 6) +
                xfer(0x21, 1, 0, i, 5, b"\x41\0\0\x02\x08") + xfer(0xA1, 3, 0, i, 6) +
                bytes([4]) + xfer(0xA1, 3, 0, i, 6) +
                xfer(0x21, 1, 2, i, 128, bytes(range(128))) + xfer(0xA1, 3, 0, i, 6) +
                bytes([4]) + xfer(0xA1, 3, 0, i, 6) + xfer(0xA1, 2, 2, i, 128) +
                xfer(0x21, 6, 0, i) + xfer(0xA1, 2, 0, i, 16) + xfer(0x21, 1, 0, i, 0) +
                xfer(0xA1, 3, 0, i, 6) + bytes([4]) + xfer(0xA1, 3, 0, i, 6))

    dfu = dfu_seq(0)
    put("usbd_std", "bootloader", bytes([1]) + enumerate_dev() + xfer(0x01, 11, 0, 0) + dfu)
    put("usbd_std", "bootloader-poll", bytes([0x82]) + enumerate_dev() + dfu)
    put("usbd_std", "composite",
        bytes([0x44]) + enumerate_dev() + xfer(0x00, 3, 1) + xfer(0x00, 1, 1) +
        xfer(0x01, 11, 0, 2) + xfer(0x81, 10, 0, 2, 1) +
        dfu_seq(2) +
        bytes([0]) + setup(0x80, 6, 0x0200, 0, 255) + bytes([1, 1, 1]) + bytes([6, 14]) +
        bytes([0]) + setup(0x00, 5, 9) + bytes([0x11]))


# ---- image files ----

def ihex_record(rtype, addr, data):
    body = bytes([len(data), (addr >> 8) & 0xFF, addr & 0xFF, rtype]) + data
    cks = (-sum(body)) & 0xFF
    return (":" + body.hex().upper() + "%02X" % cks + "\n").encode()


def ihex(segments, start=None):
    out = b""
    for addr, data in segments:
        upper = None
        for off in range(0, len(data), 16):
            a = addr + off
            if a >> 16 != upper:
                upper = a >> 16
                out += ihex_record(4, 0, struct.pack(">H", upper))
            out += ihex_record(0, a & 0xFFFF, data[off:off + 16])
    if start is not None:
        out += ihex_record(5, 0, struct.pack(">I", start))
    return out + ihex_record(1, 0, b"")


def srec_record(t, addr, data, alen):
    body = bytes([alen + len(data) + 1]) + addr.to_bytes(alen, "big") + data
    cks = (~sum(body)) & 0xFF
    return ("S%d" % t + body.hex().upper() + "%02X" % cks + "\n").encode()


def srec(segments, start=0):
    out = srec_record(0, 0, b"h7dfu", 2)
    n = 0
    for addr, data in segments:
        for off in range(0, len(data), 16):
            out += srec_record(3, addr + off, data[off:off + 16], 4)
            n += 1
    out += srec_record(5, n, b"", 2)
    return out + srec_record(7, start, b"", 4)


def suffix(body, vid=0x0483, pid=0xDF11, dev=0xFFFF):
    s = body + struct.pack("<HHHH", dev, pid, vid, 0x011A) + b"UFD" + bytes([16])
    return s + struct.pack("<I", (~zlib.crc32(s)) & 0xFFFFFFFF)


def dfuse(targets):
    tbytes = b""
    for alt, name, elements in targets:
        el = b"".join(struct.pack("<II", a, len(d)) + d for a, d in elements)
        tbytes += (b"Target" + bytes([alt]) + struct.pack("<I", 1 if name else 0) +
                   name.encode().ljust(255, b"\0") + struct.pack("<II", len(el), len(elements)) +
                   el)
    prefix = b"DfuSe" + bytes([1]) + struct.pack("<I", 11 + len(tbytes)) + bytes([len(targets)])
    return suffix(prefix + tbytes)


def elf(segments, entry):
    phoff = 52
    data_off = phoff + 32 * len(segments)
    hdr = (b"\x7fELF" + bytes([1, 1, 1]) + bytes(9) +
           struct.pack("<HHIIIIIHHHHHH", 2, 40, 1, entry, phoff, 0, 0x05000200, 52, 32,
                       len(segments), 40, 0, 0))
    ph = b""
    body = b""
    for addr, data in segments:
        ph += struct.pack("<IIIIIIII", 1, data_off + len(body), addr, addr, len(data),
                          len(data) + 16, 5, 4)
        body += data
    return hdr + ph + body


def image_seeds():
    code = bytes([0x00, 0x00, 0x02, 0x20, 0x99, 0x02, 0x02, 0x08]) + bytes(range(56))
    segs = [(APP, code), (APP + 0x100, b"\x11\x22\x33\x44\x55")]
    files = {
        "ihex": [("small.hex", ihex(segs, APP + 0x199)),
                 ("seg.hex", b":020000021000EC\n:0400000001020304F2\n:0400000300001000E9\n"
                             b":00000001FF\n")],
        "srec": [("small.s19", srec(segs, APP + 0x199)),
                 ("s1.s19", srec_record(0, 0, b"HDR", 2) + srec_record(1, 0x1000, b"\1\2\3\4", 2) +
                    srec_record(9, 0x1000, b"", 2))],
        "dfuse": [("one.dfu", dfuse([(0, "Internal Flash", segs)])),
                  ("two.dfu", dfuse([(0, "Internal Flash", segs[:1]),
                                     (1, "", [(0x5200201C, b"\xaa\xf8\xff\xff")])]))],
        "dfu": [("plain.dfu", suffix(code))],
        "elf": [("small.elf", elf(segs, APP + 0x199))],
        "bin": [("small.bin", code), ("zero.bin", bytes(1))],
    }
    for fmt, lst in files.items():
        for name, data in lst:
            put("image_" + fmt, name, data)
            put("image_auto", name, data)
    layouts = [
        b"@Internal Flash  /0x081E0000/01*128Kg/0x08020000/14*128Kg/0x08000000/01*128Ka",
        b"@Internal Flash  /0x08000000/01*128Ka,15*128Kg",
        b"@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg",
        b"@Option Bytes  /0x5200201C/01*128 e/0x08000000/2*1Ka",
        b"@X /0x08020000/8*32 g,2*1Mg",
    ]
    image = ihex(segs, APP)
    for i, lay in enumerate(layouts):
        put("plan", "layout%d" % i, bytes([i * 0x11 & 0xF7]) + lay + b"\n" + image)
    put("plan", "dfuse", bytes([0]) + layouts[0] + b"\n" + dfuse([(0, "Internal Flash", segs)]))
    put("plan", "bootsector", bytes([0]) + layouts[0] + b"\n" + ihex([(BOOT, code)]))


if __name__ == "__main__":
    dfu_seeds()
    usbd_seeds()
    image_seeds()
