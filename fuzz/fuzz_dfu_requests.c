/*
 * Fuzz target: sequences of DFU / DfuSe class requests against the DFU class
 * driver (core/dfu) on the virtual H743 flash (sim/flash), driven the way the
 * USB device core drives it: control(), then control_done() once the status
 * stage is over, and poll() from the main loop.
 *
 * Input:
 *   header  4 bytes: config flags, write-protect mask, power-cut op, cut phase
 *   records until the input ends, each:
 *     ctl (1)  bits 0-1: 0 request, 1 request whose status stage never
 *              completes (no control_done), 2 bus reset, 3 reboot (power on,
 *              dfu_init again); bit 2: no main-loop poll after the record
 *     setup (8)  bmRequestType, bRequest, wValue, wIndex, wLength (LE)
 *     data       OUT requests: wLength bytes (zeros past the input's end)
 *
 * Invariants (abort on violation):
 *   - the bootloader's sector 0 (0x08000000..0x0801FFFF) is never erased or
 *     programmed (checked at every flash call and by content at the end);
 *   - the DFU state is one of the DFU-mode states, the status one of the 16;
 *   - an accepted GETSTATUS replies exactly 6 bytes that match the state;
 *   - an IN reply never exceeds the room it was given;
 *   - UPLOAD returns the flash content at the requested address;
 *   - no ASan / UBSan finding (the buffers handed over are exactly sized).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dfu.h"
#include "fuzz_common.h"
#include "fuzz_flash.h"

#define CTRL_BUF_SIZE H7_DFU_XFER_MAX /* the bootloader's control buffer */
#define MAX_RECORDS   256u

static dfu_t g_dfu;
static dfu_config_t g_cfg;

static void on_manifest(void *user, uint32_t addr)
{
    (void)user;
    (void)addr;
}

static void check_state(void)
{
    dfu_state_t st = dfu_get_state(&g_dfu);
    FUZZ_CHECK(st >= DFU_STATE_IDLE && st <= DFU_STATE_ERROR);
    FUZZ_CHECK(dfu_get_status(&g_dfu) <= DFU_STATUS_ERR_STALLEDPKT);
}

/* UPLOAD of a data block: what came back must be the flash content. */
static void check_upload(uint32_t addr, const uint8_t *data, int n)
{
    const flash_map_t *m = fuzz_flash_dev()->map;
    uint32_t base = m->base, size = flash_map_size(m);
    FUZZ_CHECK(addr >= base && (uint64_t)addr + (uint64_t)n <= (uint64_t)base + size);
    FUZZ_CHECK(memcmp(data, sim_flash_raw(fuzz_flash_sim()) + (addr - base), (size_t)n) == 0);
}

static void do_request(fuzz_reader_t *r, bool status_done)
{
    usb_setup_t s;
    s.bmRequestType = fuzz_u8(r);
    s.bRequest = fuzz_u8(r);
    s.wValue = fuzz_u16(r);
    s.wIndex = fuzz_u16(r);
    s.wLength = fuzz_u16(r);
    const bool in = (s.bmRequestType & USB_DIR_IN) != 0;

    if (!in && s.wLength > CTRL_BUF_SIZE) {
        /* The device core stalls it before the driver sees it; the host
         * still sent (part of) the data stage. */
        size_t skip = r->left < s.wLength ? r->left : s.wLength;
        r->p += skip;
        r->left -= skip;
        return;
    }
    uint16_t cap =
        in ? (s.wLength < CTRL_BUF_SIZE ? s.wLength : (uint16_t)CTRL_BUF_SIZE) : s.wLength;
    /* Exactly sized, so ASan sees any access past what the core provides. */
    uint8_t *buf = malloc(cap ? cap : 1u);
    FUZZ_CHECK(buf != NULL);
    if (!in) {
        fuzz_bytes(r, buf, cap);
    }

    const dfu_state_t before = dfu_get_state(&g_dfu);
    const uint32_t upload_addr =
        (uint32_t)(g_dfu.address + (uint32_t)(s.wValue - 2u) * dfu_transfer_size(&g_dfu));
    int n = dfu_control(&g_dfu, &s, buf, cap);
    check_state();
    FUZZ_CHECK(n == USBD_STALL || n >= 0);
    if (!in) {
        FUZZ_CHECK(n == USBD_STALL || n == 0);
    } else {
        FUZZ_CHECK(n <= (int)cap);
    }

    if (n != USBD_STALL && in && s.bRequest == DFU_REQ_GETSTATUS) {
        FUZZ_CHECK(n == DFU_STATUS_LEN);
        FUZZ_CHECK(buf[0] == (uint8_t)dfu_get_status(&g_dfu));
        FUZZ_CHECK(buf[4] == (uint8_t)dfu_get_state(&g_dfu));
        FUZZ_CHECK(buf[5] == 0);
    }
    if (n > 0 && in && s.bRequest == DFU_REQ_UPLOAD && s.wValue >= 2 &&
        (before == DFU_STATE_IDLE || before == DFU_STATE_UPLOAD_IDLE)) {
        check_upload(upload_addr, buf, n);
    }
    if (n != USBD_STALL && status_done) {
        dfu_control_done(&g_dfu, &s);
        check_state();
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint16_t xfer_sizes[4] = {2048u, 1024u, 256u, 64u};
    fuzz_flash_reset();
    sim_flash_t *flash = fuzz_flash_sim();

    fuzz_reader_t r = fuzz_reader(data, size);
    uint8_t flags = fuzz_u8(&r);
    uint8_t wp = fuzz_u8(&r);
    uint8_t cut = fuzz_u8(&r);
    uint8_t phase = fuzz_u8(&r);

    static uint8_t bufs[3 * H7_DFU_XFER_MAX];
    g_cfg = (dfu_config_t){
        .flash = fuzz_flash_dev(),
        .bufs = bufs,
        .buf_count = (flags & 16u) ? 3u : 1u, /* one buffer, or three */
        .transfer_size = xfer_sizes[flags & 3u],
        .itf_num = 0,
        .attributes =
            (uint8_t)(DFU_ATTR_CAN_DNLOAD | DFU_ATTR_CAN_UPLOAD |
                      ((flags & 4u) ? DFU_ATTR_MANIFESTATION_TOLERANT : 0u) | DFU_ATTR_WILL_DETACH),
        .ops_in_poll = (flags & 8u) != 0,
        .manifest = on_manifest,
    };
    /* Write protection on some application sectors (bit n: sector n + 1),
     * and a power cut at the cut-th flash operation. */
    for (unsigned i = 0; i < 8; i++) {
        if (wp & (1u << i)) {
            sim_flash_set_write_protect(flash, 1u + i * 2u, true);
        }
    }
    if (cut != 0) {
        sim_flash_cut_at(flash, cut, (sim_flash_phase_t)(phase % 3u));
    }
    FUZZ_CHECK(dfu_init(&g_dfu, &g_cfg));

    for (unsigned rec = 0; rec < MAX_RECORDS && !fuzz_empty(&r); rec++) {
        uint8_t ctl = fuzz_u8(&r);
        switch (ctl & 3u) {
        case 0:
        case 1:
            do_request(&r, (ctl & 3u) == 0);
            break;
        case 2:
            dfu_reset(&g_dfu);
            break;
        default:
            sim_flash_power_on(flash);
            FUZZ_CHECK(dfu_init(&g_dfu, &g_cfg));
            break;
        }
        check_state();
        if ((ctl & 4u) == 0) {
            dfu_poll(&g_dfu);
            check_state();
        }
    }
    fuzz_flash_check_boot();
    return 0;
}
