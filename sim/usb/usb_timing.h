/*
 * Timing model of USB 2.0 full-speed control transfers on EP0 (64-byte
 * packets), charged by the bridge on the virtual clock.
 *
 * Derivation (USB 2.0 specification):
 *  - Bit time: 12 Mb/s, 83.33 ns (7.1.11); the frame is 1 ms, started by a
 *    SOF token (8.4.3.1) and 12000 bit times long.
 *  - One non-isochronous full-speed transaction, token + data + handshake,
 *    bit stuffing and inter-packet / turnaround delays included, is the
 *    5.11.3 bus-time formula:
 *        9107 + 83.54 * floor(3.167 + BitStuffTime(bytes)) + Host_Delay  ns
 *    with BitStuffTime(x) = 7/6 * 8 * x (worst-case stuffing). That gives
 *    15.5 us for the 8-byte SETUP stage, 59.2 us for a 64-byte data packet
 *    and 9.4 us for the zero-length status stage.
 *  - Host_Delay is implementation specific (5.11.3): the model charges
 *    USB_FS_STAGE_DELAY_NS once per stage (the host controller fetches one
 *    transfer descriptor per stage).
 *  - Transactions are scheduled inside frames (5.3.3, 8.4.3.1): a transaction
 *    that would not end before the frame's EOF1 point (32 bit times before
 *    the next SOF, 11.2.5.1 / 8.4.3.1 "End of Frame") waits for the next
 *    frame, after its SOF.
 *  - A transfer starts at a frame start: the host controller walks its
 *    schedule once per frame, and the completion of the previous transfer is
 *    handed to software at the end of the frame it finished in (the driver
 *    resubmits for the next frame). So every control transfer costs at least
 *    one frame, as on real full-speed hosts.
 */
#ifndef H7_USB_TIMING_H
#define H7_USB_TIMING_H

#include <stdbool.h>
#include <stdint.h>

#define USB_FS_FRAME_NS       1000000ull
#define USB_FS_EP0_MPS        64u
#define USB_FS_STAGE_DELAY_NS 2000ull
/* SOF token: SYNC 8 + PID 8 + frame number 11 + CRC5 5 + EOP 3 = 35 bits,
 * stuffed (x7/6) plus an inter-packet gap of 7.5 bit times: 48 bit times. */
#define USB_FS_SOF_NS 4000ull
/* EOF1: no transaction may run into the last 32 bit times of a frame. */
#define USB_FS_EOF_NS 2667ull

/* Bus time of one transaction with data_bytes of payload (5.11.3). */
uint64_t usb_fs_transaction_ns(unsigned data_bytes);
/* The first frame start at or after t. */
uint64_t usb_fs_frame_start_ns(uint64_t t_ns);
/*
 * A control transfer with wlength data bytes (direction does not change the
 * bus time: the same packets flow, only the data PID owner changes),
 * submitted at t_ns: returns the time its status stage ends.
 */
uint64_t usb_fs_control_end_ns(uint64_t t_ns, unsigned wlength);
/* Bus time of the stages alone, without frame scheduling (for the bound). */
uint64_t usb_fs_control_bus_ns(unsigned wlength);

#endif
