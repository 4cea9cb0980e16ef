"""The locked bootloader's CRC command (vendor command 0xC3, docs/protocol.md)
through pyusb, an independent libusb client: a range that is not whole
sectors fails with errTARGET (a short CRC would read the flash back a few
bytes at a time); a whole sector and a range in the record area (sector 15)
are answered.

    locked_crc.py
"""
import struct
import sys

import usb.core
import usb.util

DFU_DNLOAD, DFU_UPLOAD, DFU_GETSTATUS, DFU_CLRSTATUS, DFU_ABORT = 1, 2, 3, 4, 6
OUT = usb.util.CTRL_OUT | usb.util.CTRL_TYPE_CLASS | usb.util.CTRL_RECIPIENT_INTERFACE
IN = usb.util.CTRL_IN | usb.util.CTRL_TYPE_CLASS | usb.util.CTRL_RECIPIENT_INTERFACE
ERR_TARGET, DFU_IDLE, DFU_ERROR, DFU_DNBUSY = 0x01, 2, 10, 4


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def crc(dev, addr, length):
    """(status, state) once the command is over."""
    dev.ctrl_transfer(OUT, DFU_DNLOAD, 0, 0, struct.pack("<BII", 0xC3, addr, length))
    for _ in range(1000):
        s = dev.ctrl_transfer(IN, DFU_GETSTATUS, 0, 0, 6)
        if s[4] != DFU_DNBUSY:
            break
    if s[4] == DFU_ERROR:
        dev.ctrl_transfer(OUT, DFU_CLRSTATUS, 0, 0, None)
    else:
        dev.ctrl_transfer(OUT, DFU_ABORT, 0, 0, None)
    return s[0], s[4]


def main():
    devs = list(usb.core.find(find_all=True, idVendor=0x0483, idProduct=0xDF11))
    if len(devs) != 1:
        fail("%d DFU devices found" % len(devs))
    dev = devs[0]
    for addr, length, want in [
        (0x08020000, 4, ERR_TARGET),  # four bytes of the application
        (0x08000000, 64, ERR_TARGET),  # the bootloader's vector table
        (0x08020000, 0x20000 - 32, ERR_TARGET),  # a sector less one word
        (0x08020000, 0x20000, 0),  # a whole sector
        (0x08000000, 0x40000, 0),  # two whole sectors
        (0x081E0000, 64, 0),  # a record
    ]:
        st, state = crc(dev, addr, length)
        if st != want:
            fail("CRC of 0x%08x:%d: status %d state %d, want status %d" % (addr, length, st, state, want))
    print("locked CRC ranges OK")


main()
