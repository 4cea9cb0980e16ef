/* core/app (h7_app): hand-over requests, the ROM jump check, the DFU run-time
 * wrapper for foreign USB stacks, the "enter update" report. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dfu.h"
#include "h7_app.h"
#include "hid.h"

static unsigned g_resets;
static boot_request_t g_req_at_reset;
static volatile boot_request_block_t *g_blk;
static unsigned g_jumps;
static uint32_t g_jump_addr;

static void fake_reset(void)
{
    g_resets++;
    g_req_at_reset = boot_request_get(g_blk);
}

static void fake_jump(uint32_t vt)
{
    g_jumps++;
    g_jump_addr = vt;
}

static int setup(void **state)
{
    (void)state;
    g_resets = g_jumps = 0;
    g_jump_addr = 0;
    g_req_at_reset = BOOT_REQ_NONE;
    return 0;
}

static void enter_bootloader_sets_request_then_resets(void **state)
{
    (void)state;
    volatile boot_request_block_t blk = {0x12345678u, 7u, 0u}; /* power-on garbage */
    g_blk = &blk;
    h7_app_enter_bootloader(&blk, fake_reset);
    assert_int_equal(g_resets, 1);
    assert_int_equal(g_req_at_reset, BOOT_REQ_STAY_IN_DFU); /* set BEFORE the reset */
    assert_int_equal(boot_request_get(&blk), BOOT_REQ_STAY_IN_DFU);
}

static void enter_rom_sets_request_then_resets(void **state)
{
    (void)state;
    volatile boot_request_block_t blk = {0};
    g_blk = &blk;
    h7_app_enter_rom_bootloader(&blk, fake_reset);
    assert_int_equal(g_resets, 1);
    assert_int_equal(g_req_at_reset, BOOT_REQ_ENTER_ROM_BOOTLOADER);
    /* The h7dfu bootloader's decision for it: ROM first, whatever the image. */
    boot_decision_t d = boot_decide(boot_request_get(&blk), BOOT_VALID);
    assert_int_equal(d.action, BOOT_ENTER_ROM_BOOTLOADER);
}

static void early_check_jumps_to_rom_once(void **state)
{
    (void)state;
    volatile boot_request_block_t blk = {0};
    g_blk = &blk;
    h7_app_enter_rom_bootloader(&blk, fake_reset);
    assert_true(h7_app_early_init_check(&blk, fake_jump));
    assert_int_equal(g_jumps, 1);
    assert_int_equal(g_jump_addr, H7_APP_ROM_BOOTLOADER_ADDR);
    assert_int_equal(g_jump_addr, 0x1FF09800u);
    /* Cleared: the ROM's leave starts the app without a reset, and the app's
     * own check must then let it run. */
    assert_int_equal(boot_request_get(&blk), BOOT_REQ_NONE);
    assert_false(h7_app_early_init_check(&blk, fake_jump));
    assert_int_equal(g_jumps, 1);
}

static void early_check_ignores_other_requests(void **state)
{
    (void)state;
    volatile boot_request_block_t garbage = {0xdeadbeefu, 3u, ~3u};
    assert_false(h7_app_early_init_check(&garbage, fake_jump));
    volatile boot_request_block_t bad_check = {BOOT_REQ_MAGIC, 3u, 3u};
    assert_false(h7_app_early_init_check(&bad_check, fake_jump));
    volatile boot_request_block_t dfu = {0};
    boot_request_set(&dfu, BOOT_REQ_STAY_IN_DFU);
    assert_false(h7_app_early_init_check(&dfu, fake_jump));
    /* not ours to consume: the h7dfu bootloader (if any) reads it */
    assert_int_equal(boot_request_get(&dfu), BOOT_REQ_STAY_IN_DFU);
    assert_int_equal(g_jumps, 0);
}

static void dirty_start_resets_clean_start_runs(void **state)
{
    (void)state;
    assert_false(h7_app_ensure_clean_start(false, fake_reset));
    assert_int_equal(g_resets, 0);
    assert_true(h7_app_ensure_clean_start(true, fake_reset));
    assert_int_equal(g_resets, 1);
}

/* ---- DFU run-time over raw setup packets (how a Cube user calls it) ---- */

static void setup_bytes(uint8_t s[8], uint8_t bm, uint8_t req, uint16_t value, uint16_t index,
                        uint16_t length)
{
    s[0] = bm;
    s[1] = req;
    s[2] = (uint8_t)value;
    s[3] = (uint8_t)(value >> 8);
    s[4] = (uint8_t)index;
    s[5] = (uint8_t)(index >> 8);
    s[6] = (uint8_t)length;
    s[7] = (uint8_t)(length >> 8);
}

static void dfu_runtime_raw_requests(void **state)
{
    (void)state;
    h7_app_dfu_t d;
    h7_app_dfu_init(&d, 2, 0);
    uint8_t s[8], data[16];

    setup_bytes(s, 0xA1, DFU_REQ_GETSTATUS, 0, 2, 6);
    memset(data, 0xAA, sizeof data);
    assert_int_equal(h7_app_dfu_request(&d, s, data, sizeof data), 6);
    assert_int_equal(data[0], DFU_STATUS_OK);
    assert_int_equal(data[4], DFU_STATE_APP_IDLE);

    /* Not our interface, a standard request, a vendor request: stalled, and
     * the run-time state untouched. */
    setup_bytes(s, 0x21, DFU_REQ_DETACH, 1000, 0, 0);
    assert_int_equal(h7_app_dfu_request(&d, s, NULL, 0), USBD_STALL);
    setup_bytes(s, 0x81, USB_REQ_GET_DESCRIPTOR, 0x2200, 2, 64);
    assert_int_equal(h7_app_dfu_request(&d, s, data, sizeof data), USBD_STALL);
    setup_bytes(s, 0x41, DFU_REQ_DETACH, 1000, 2, 0);
    assert_int_equal(h7_app_dfu_request(&d, s, NULL, 0), USBD_STALL);
    assert_false(h7_app_dfu_detach_requested(&d));

    setup_bytes(s, 0x21, DFU_REQ_DETACH, 500, 2, 0);
    assert_int_equal(h7_app_dfu_request(&d, s, NULL, 0), 0);
    assert_true(h7_app_dfu_detach_requested(&d));
    assert_int_equal(d.rt.detach_ms, 500);

    setup_bytes(s, 0xA1, DFU_REQ_GETSTATE, 0, 2, 1);
    assert_int_equal(h7_app_dfu_request(&d, s, data, sizeof data), 1);
    assert_int_equal(data[0], DFU_STATE_APP_DETACH);
}

static void dfu_runtime_fields_clamp_to_wlength(void **state)
{
    (void)state;
    h7_app_dfu_t d;
    h7_app_dfu_init(&d, 0, 0);
    uint8_t data[16];
    /* GETSTATUS with wLength 2 cannot carry the 6-byte answer: stalled. */
    assert_int_equal(
        h7_app_dfu_request_fields(&d, 0xA1, DFU_REQ_GETSTATUS, 0, 0, 2, data, sizeof data),
        USBD_STALL);
    assert_int_equal(
        h7_app_dfu_request_fields(&d, 0xA1, DFU_REQ_GETSTATUS, 0, 0, 6, data, sizeof data), 6);
}

static void dfu_bus_reset_only_counts_in_detach(void **state)
{
    (void)state;
    h7_app_dfu_t d;
    h7_app_dfu_init(&d, 0, 0);
    h7_app_dfu_bus_reset(&d); /* appIDLE: an ordinary reset */
    assert_false(h7_app_dfu_detach_requested(&d));
    /* DETACH, then the host's bus reset (a device without willDetach would
     * wait for it): still one hand-over request. */
    assert_int_equal(h7_app_dfu_request_fields(&d, 0x21, DFU_REQ_DETACH, 100, 0, 0, NULL, 0), 0);
    d.detach_requested = false; /* isolate the bus reset path */
    h7_app_dfu_bus_reset(&d);
    assert_true(h7_app_dfu_detach_requested(&d));
    assert_int_equal(d.rt.state, DFU_STATE_APP_IDLE);
}

static void dfu_interface_descriptor_bytes(void **state)
{
    (void)state;
    h7_app_dfu_t d;
    h7_app_dfu_init(&d, 3, 250);
    uint8_t buf[32];
    assert_int_equal(h7_app_dfu_interface_descriptor(&d, buf, 17, 5), 0);
    assert_int_equal(h7_app_dfu_interface_descriptor(&d, buf, sizeof buf, 5), 18);
    const uint8_t itf[9] = {9, 4, 3, 0, 0, 0xFE, 0x01, 0x01, 5};
    assert_memory_equal(buf, itf, 9);
    /* DFU 1.1 4.1.3 functional descriptor */
    assert_int_equal(buf[9], 9);
    assert_int_equal(buf[10], 0x21);
    assert_int_equal(buf[11], DFU_ATTR_CAN_DNLOAD | DFU_ATTR_WILL_DETACH);
    assert_int_equal(buf[12] | buf[13] << 8, 250);
    assert_int_equal(buf[14] | buf[15] << 8, H7_DFU_XFER_DEFAULT);
    assert_int_equal(buf[16] | buf[17] << 8, 0x011A);
    assert_memory_equal(buf + 9, h7_app_dfu_functional_descriptor(&d), 9);
    /* default detach timeout */
    h7_app_dfu_init(&d, 0, 0);
    assert_int_equal(d.func_desc[3] | d.func_desc[4] << 8, H7_APP_DFU_DETACH_MS_DEFAULT);
}

static void enter_update_report(void **state)
{
    (void)state;
    uint8_t r[64] = {0xDF, 'h', '7', 'd', 'f', 'u'};
    assert_true(h7_app_is_enter_update_report(r, sizeof r));
    assert_true(h7_app_is_enter_update_report(r, 6));
    assert_false(h7_app_is_enter_update_report(r, 5));
    assert_false(h7_app_is_enter_update_report(NULL, 64));
    r[0] = 0xDE;
    assert_false(h7_app_is_enter_update_report(r, sizeof r));
    r[0] = 0xDF;
    r[5] = 'U';
    assert_false(h7_app_is_enter_update_report(r, sizeof r));
    /* Same verdict as the HID driver's own check, on a sweep of reports. */
    for (unsigned i = 0; i < 512; i++) {
        uint8_t t[8] = {0xDF, 'h', '7', 'd', 'f', 'u', 0, 0};
        t[i % 6] ^= (uint8_t)(i / 6);
        uint16_t len = (uint16_t)(4 + i % 5);
        assert_int_equal(h7_app_is_enter_update_report(t, len), hid_is_enter_update(t, len));
    }
}

/* Microsoft OS 2.0: WinUSB for the run-time interface's function (its
 * number patched in), the vendor code configurable, the set answered by the
 * raw request handler (cut to wLength and cap). */
static void dfu_ms_os20_descriptors(void **state)
{
    (void)state;
    h7_app_dfu_t d;
    h7_app_dfu_init(&d, 3, 0);
    const usbd_ms_os20_t *ms = h7_app_dfu_ms_os20(&d);
    uint16_t bos_len = 0;
    const uint8_t *bos = h7_app_dfu_bos_descriptor(&d, &bos_len);
    assert_ptr_equal(bos, ms->bos);
    assert_int_equal(bos_len, 33);
    assert_int_equal(bos[2] | bos[3] << 8, 33);
    assert_int_equal(ms->vendor_code, H7_APP_MS_OS20_VENDOR_CODE);
    assert_int_equal(bos[31], H7_APP_MS_OS20_VENDOR_CODE);
    assert_int_equal(ms->set_len, 178);
    assert_int_equal(bos[29] | bos[30] << 8, 178);
    const uint8_t *set = ms->set;
    assert_int_equal(set[18 + 4], 3); /* function subset bFirstInterface */
    assert_memory_equal(set + 26 + 4, "WINUSB\0\0", 8);

    h7_app_dfu_set_ms_os20_vendor_code(&d, 0x77);
    assert_int_equal(ms->vendor_code, 0x77);
    assert_int_equal(bos[31], 0x77);
    uint8_t buf[256];
    assert_int_equal(h7_app_dfu_request_fields(&d, 0xC0, 0x77, 0, 7, 255, buf, sizeof buf), 178);
    assert_memory_equal(buf, set, 178);
    assert_int_equal(h7_app_dfu_request_fields(&d, 0xC0, 0x77, 0, 7, 255, buf, 64), 64);
    assert_int_equal(h7_app_dfu_request_fields(&d, 0xC0, 0x77, 0, 7, 12, buf, sizeof buf), 12);
    assert_int_equal(h7_app_dfu_request_fields(&d, 0xC0, 0x77, 0, 7, 0, NULL, 0), 0);
    assert_int_equal(
        h7_app_dfu_request_fields(&d, 0xC0, H7_APP_MS_OS20_VENDOR_CODE, 0, 7, 255, buf, sizeof buf),
        USBD_STALL);
    assert_int_equal(h7_app_dfu_request_fields(&d, 0xC0, 0x77, 0, 6, 255, buf, sizeof buf),
                     USBD_STALL);
}

/* bcdDevice from the version: two BCD digits each for major and minor. */
static void bcd_device_from_version(void **state)
{
    (void)state;
    assert_int_equal(h7_app_bcd_device(1, 0), 0x0100);
    assert_int_equal(h7_app_bcd_device(2, 0), 0x0200);
    assert_int_equal(h7_app_bcd_device(12, 34), 0x1234);
    assert_int_equal(h7_app_bcd_device(1, 9), 0x0109);
    assert_int_equal(h7_app_bcd_device(100, 255), 0x9999); /* clamped */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(enter_bootloader_sets_request_then_resets, setup),
        cmocka_unit_test_setup(enter_rom_sets_request_then_resets, setup),
        cmocka_unit_test_setup(early_check_jumps_to_rom_once, setup),
        cmocka_unit_test_setup(early_check_ignores_other_requests, setup),
        cmocka_unit_test_setup(dirty_start_resets_clean_start_runs, setup),
        cmocka_unit_test_setup(dfu_runtime_raw_requests, setup),
        cmocka_unit_test_setup(dfu_runtime_fields_clamp_to_wlength, setup),
        cmocka_unit_test_setup(dfu_bus_reset_only_counts_in_detach, setup),
        cmocka_unit_test_setup(dfu_interface_descriptor_bytes, setup),
        cmocka_unit_test_setup(enter_update_report, setup),
        cmocka_unit_test_setup(dfu_ms_os20_descriptors, setup),
        cmocka_unit_test(bcd_device_from_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
