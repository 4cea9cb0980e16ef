/* USB 2.0 full-speed control transfer timing (see usb_timing.h). */
#include "usb_timing.h"

uint64_t usb_fs_transaction_ns(unsigned data_bytes)
{
    /* 5.11.3: 9107 + 83.54 * floor(3.167 + 7/6 * 8 * bytes) ns, in integer
     * arithmetic: floor((3167 + 9333.33 * bytes) / 1000) with 7/6*8 = 28/3. */
    uint64_t bits = (3167ull * 3ull + 28000ull * data_bytes) / 3000ull;
    return 9107ull + (8354ull * bits) / 100ull;
}

uint64_t usb_fs_frame_start_ns(uint64_t t_ns)
{
    return (t_ns + USB_FS_FRAME_NS - 1u) / USB_FS_FRAME_NS * USB_FS_FRAME_NS;
}

/* Place one transaction of d ns at t: in this frame if it ends before EOF1,
 * else right after the next SOF. Returns its end. */
static uint64_t place(uint64_t t, uint64_t d)
{
    uint64_t frame = t / USB_FS_FRAME_NS * USB_FS_FRAME_NS;
    if (t - frame < USB_FS_SOF_NS) {
        t = frame + USB_FS_SOF_NS;
    }
    if (t + d > frame + USB_FS_FRAME_NS - USB_FS_EOF_NS) {
        t = frame + USB_FS_FRAME_NS + USB_FS_SOF_NS;
    }
    return t + d;
}

uint64_t usb_fs_control_end_ns(uint64_t t_ns, unsigned wlength)
{
    uint64_t t = usb_fs_frame_start_ns(t_ns);
    /* setup stage */
    t = place(t, USB_FS_STAGE_DELAY_NS + usb_fs_transaction_ns(8));
    /* data stage: full packets, then the remainder */
    unsigned left = wlength;
    bool first = true;
    while (left > 0) {
        unsigned n = left < USB_FS_EP0_MPS ? left : USB_FS_EP0_MPS;
        t = place(t, (first ? USB_FS_STAGE_DELAY_NS : 0u) + usb_fs_transaction_ns(n));
        first = false;
        left -= n;
    }
    /* status stage: zero-length packet the other way */
    return place(t, USB_FS_STAGE_DELAY_NS + usb_fs_transaction_ns(0));
}

uint64_t usb_fs_control_bus_ns(unsigned wlength)
{
    uint64_t t = 2u * USB_FS_STAGE_DELAY_NS + usb_fs_transaction_ns(8) + usb_fs_transaction_ns(0);
    if (wlength > 0) {
        t += USB_FS_STAGE_DELAY_NS;
    }
    for (unsigned left = wlength; left > 0;) {
        unsigned n = left < USB_FS_EP0_MPS ? left : USB_FS_EP0_MPS;
        t += usb_fs_transaction_ns(n);
        left -= n;
    }
    return t;
}
