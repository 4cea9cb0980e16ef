#!/bin/sh
# h7dfu-sim with the emulated chip running the firmware binaries: stands in
# for h7dfu-sim in the tests that drive the board through libusb, so each of
# them runs against the exact bootloader as well as the native board.
#   H7_SIM   the real h7dfu-sim      H7_FW_ELF  the bootloader ELF
# `flash ...` (the flash file helper, no board) goes to h7dfu-sim as it is.
[ "${1:-}" = flash ] && exec "$H7_SIM" "$@"
exec "$H7_SIM" --firmware "$H7_FW_ELF" "$@"
