"""An independent libusb client (pyusb, Debian's python3-usb) against the
virtual board: descriptors, the DfuSe layout string, DFU GETSTATUS, and a
DfuSe set-address + UPLOAD of the bootloader's first 64 bytes, whose vector
table must hold a stack pointer in DTCM and a Thumb reset vector in sector 0.

    pyusb_probe.py SERIAL
"""
import struct
import sys

import usb.core
import usb.util

DFU_DNLOAD, DFU_UPLOAD, DFU_GETSTATUS, DFU_CLRSTATUS, DFU_ABORT = 1, 2, 3, 4, 6
OUT = usb.util.CTRL_OUT | usb.util.CTRL_TYPE_CLASS | usb.util.CTRL_RECIPIENT_INTERFACE
IN = usb.util.CTRL_IN | usb.util.CTRL_TYPE_CLASS | usb.util.CTRL_RECIPIENT_INTERFACE


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def status(dev):
    s = dev.ctrl_transfer(IN, DFU_GETSTATUS, 0, 0, 6)
    if len(s) != 6:
        fail("GETSTATUS returned %d bytes" % len(s))
    return s[0], s[1] | s[2] << 8 | s[3] << 16, s[4]


def wait_idle(dev, want_state):
    for _ in range(100):
        st, _poll, state = status(dev)
        if state != 4:  # dfuDNBUSY
            break
    if st != 0 or state != want_state:
        fail("status %d state %d, want state %d" % (st, state, want_state))


def main():
    serial = sys.argv[1]
    devs = [d for d in usb.core.find(find_all=True, idVendor=0x0483, idProduct=0xDF11)]
    if len(devs) != 1:
        fail("%d DFU devices found" % len(devs))
    dev = devs[0]
    # 2.01: the BOS with the Microsoft OS 2.0 descriptors (docs/windows.md)
    if dev.bcdUSB != 0x0201 or dev.bMaxPacketSize0 != 64:
        fail("device descriptor: bcdUSB %04x, bMaxPacketSize0 %d" % (dev.bcdUSB, dev.bMaxPacketSize0))
    if usb.util.get_string(dev, dev.iSerialNumber) != serial:
        fail("serial %r" % usb.util.get_string(dev, dev.iSerialNumber))
    cfg = dev.get_active_configuration()
    intf = cfg[(0, 0)]
    if intf.bInterfaceClass != 0xFE or intf.bInterfaceSubClass != 1 or intf.bInterfaceProtocol != 2:
        fail("not a DFU-mode interface")
    layout = usb.util.get_string(dev, intf.iInterface)
    if not layout.startswith("@Internal Flash  /0x081E0000/"):
        fail("layout %r" % layout)
    # the DFU functional descriptor (0x21) follows the interface descriptor
    func = intf.extra_descriptors
    if len(func) < 9 or func[1] != 0x21:
        fail("no DFU functional descriptor")
    transfer = func[5] | func[6] << 8
    if transfer < 64:
        fail("wTransferSize %d" % transfer)
    dev.ctrl_transfer(OUT, DFU_ABORT, 0, 0, None)
    wait_idle(dev, 2)  # dfuIDLE
    # DfuSe set address pointer (0x21) to 0x08000000, then UPLOAD block 2
    dev.ctrl_transfer(OUT, DFU_DNLOAD, 0, 0, struct.pack("<BI", 0x21, 0x08000000))
    wait_idle(dev, 5)  # dfuDNLOAD-IDLE
    dev.ctrl_transfer(OUT, DFU_ABORT, 0, 0, None)
    data = bytes(dev.ctrl_transfer(IN, DFU_UPLOAD, 2, 0, 64))
    if len(data) != 64:
        fail("UPLOAD returned %d bytes" % len(data))
    sp, reset = struct.unpack_from("<II", data)
    if not (0x20000000 < sp <= 0x20020000) or not (reset & 1) or not (0x08000000 <= reset < 0x08020000):
        fail("vector table at 0x08000000: SP %#x, reset %#x" % (sp, reset))
    dev.ctrl_transfer(OUT, DFU_ABORT, 0, 0, None)
    wait_idle(dev, 2)
    print("pyusb: %s, serial %s, wTransferSize %d, SP %#x, reset %#x" % (layout, serial, transfer, sp, reset))


main()
