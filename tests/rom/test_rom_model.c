/*
 * The ROM model (sim/board/rom.c) on its own: option-byte store, serial
 * format, vector-table check, and the DfuSe responder driven through the
 * simulated controller (dcd_sim host side) as a host would: commands, data
 * blocks, upload, the injected failure, option-byte write, leave.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dcd_sim.h"
#include "dfu_defs.h"
#include "rom.h"
#include "sim_clock.h"
#include "sim_flash.h"
#include "usbd.h"

static sim_clock_t s_clock;
static sim_flash_t *s_flash;
static flash_dev_t s_dev;
static uint8_t s_ob[ROM_OB_SIZE];
static rom_fault_t s_fault;
static rom_event_t s_last_ev;

static int setup(void **state)
{
    (void)state;
    sim_clock_init(&s_clock);
    s_flash = sim_flash_new(&s_clock);
    s_dev = sim_flash_dev(s_flash);
    rom_ob_factory(s_ob);
    memset(&s_fault, 0, sizeof s_fault);
    s_last_ev = ROM_EV_NONE;
    dcd_sim_host_power_off();
    rom_config_t c = {.flash = &s_dev, .ob = s_ob, .fault = &s_fault, .serial = "0123456789AB"};
    assert_true(rom_usb_init(&c));
    usbd_connect();
    dcd_sim_host_bus_reset();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    usbd_disconnect();
    sim_flash_free(s_flash);
    return 0;
}

/* One control transfer; returns the result (0, -EPIPE for a stall). */
static int ctrl(uint8_t bm, uint8_t req, uint16_t value, uint16_t index, uint8_t *data,
                uint16_t len, uint16_t *actual)
{
    uint8_t setup[8] = {bm,
                        req,
                        (uint8_t)value,
                        (uint8_t)(value >> 8),
                        (uint8_t)index,
                        (uint8_t)(index >> 8),
                        (uint8_t)len,
                        (uint8_t)(len >> 8)};
    uint8_t dummy[1];
    assert_int_equal(dcd_sim_host_control_start(setup, data ? data : dummy), 0);
    uint16_t got = 0;
    int r;
    for (int i = 0; i < 100000; i++) {
        rom_event_t ev = rom_task();
        if (ev != ROM_EV_NONE) {
            s_last_ev = ev;
        }
        r = dcd_sim_host_control_result(&got);
        if (r != DCD_SIM_PENDING) {
            break;
        }
    }
    /* a few more steps: control_done work */
    for (int i = 0; i < 8; i++) {
        rom_event_t ev = rom_task();
        if (ev != ROM_EV_NONE) {
            s_last_ev = ev;
        }
    }
    if (actual) {
        *actual = got;
    }
    return r;
}

static void configure(uint8_t alt)
{
    assert_int_equal(ctrl(0x00, USB_REQ_SET_ADDRESS, 5, 0, NULL, 0, NULL), 0);
    assert_int_equal(ctrl(0x00, USB_REQ_SET_CONFIGURATION, 1, 0, NULL, 0, NULL), 0);
    assert_int_equal(ctrl(0x01, USB_REQ_SET_INTERFACE, alt, 0, NULL, 0, NULL), 0);
}

static void status(uint8_t *st, uint8_t *state)
{
    uint8_t r[6];
    uint16_t n;
    assert_int_equal(ctrl(0xA1, DFU_REQ_GETSTATUS, 0, 0, r, 6, &n), 0);
    assert_int_equal(n, 6);
    *st = r[0];
    *state = r[4];
}

/* DNLOAD, then GETSTATUS until not busy; returns the final state. */
static uint8_t dnload(uint16_t block, uint8_t *data, uint16_t len, uint8_t *st)
{
    uint8_t state;
    assert_int_equal(ctrl(0x21, DFU_REQ_DNLOAD, block, 0, data, len, NULL), 0);
    do {
        status(st, &state);
    } while (state == DFU_STATE_DNBUSY);
    return state;
}

static uint8_t command(uint8_t cmd, uint32_t addr, bool has_addr, uint8_t *st)
{
    uint8_t b[5] = {cmd, (uint8_t)addr, (uint8_t)(addr >> 8), (uint8_t)(addr >> 16),
                    (uint8_t)(addr >> 24)};
    return dnload(0, b, has_addr ? 5 : 1, st);
}

static void test_option_bytes_factory(void **state)
{
    (void)state;
    assert_int_equal(rom_ob_rdp(s_ob), 0xAA);
    assert_int_equal(rom_ob_boot_addr(s_ob, false), 0x08000000u);
    assert_int_equal(rom_ob_boot_addr(s_ob, true), 0x1FF00000u);
    assert_int_equal(rom_ob_wrp_bank1(s_ob), 0);
}

static void test_serial_and_status_names(void **state)
{
    (void)state;
    char s[13];
    const uint32_t uid[3] = {0x00200036u, 0x50000000u, 0x20000000u};
    rom_serial_from_uid(uid, s);
    assert_string_equal(s, "202000365000");
    uint8_t st = 0;
    assert_true(rom_parse_status("errTARGET", &st));
    assert_int_equal(st, DFU_STATUS_ERR_TARGET);
    assert_true(rom_parse_status("3", &st));
    assert_int_equal(st, DFU_STATUS_ERR_WRITE);
    assert_false(rom_parse_status("errBOGUS", &st));
    assert_false(rom_parse_status("16", &st));
}

static void test_vector_plausible(void **state)
{
    (void)state;
    assert_false(rom_vector_plausible(&s_dev, 0x08000000u)); /* erased */
    uint8_t w[32];
    memset(w, 0xFF, sizeof w);
    const uint8_t vt[8] = {0x00, 0x00, 0x02, 0x20, 0x99, 0x01, 0x00, 0x08};
    memcpy(w, vt, sizeof vt);
    assert_int_equal(s_dev.ops->program_word(s_dev.ctx, 0x08000000u, w), FLASH_OK);
    assert_true(rom_vector_plausible(&s_dev, 0x08000000u));
    assert_false(rom_vector_plausible(&s_dev, 0x1FF00000u)); /* not flash */
}

static void test_get_commands_and_write_upload(void **state)
{
    (void)state;
    configure(0);
    uint8_t cmds[16];
    uint16_t n;
    assert_int_equal(ctrl(0xA1, DFU_REQ_UPLOAD, 0, 0, cmds, sizeof cmds, &n), 0);
    assert_int_equal(n, 4);
    const uint8_t want[4] = {0x00, 0x21, 0x41, 0x92};
    assert_memory_equal(cmds, want, 4);

    uint8_t st;
    assert_int_equal(command(DFUSE_CMD_ERASE, 0x08000000u, true, &st), DFU_STATE_DNLOAD_IDLE);
    assert_int_equal(command(DFUSE_CMD_SET_ADDRESS, 0x08000000u, true, &st), DFU_STATE_DNLOAD_IDLE);
    uint8_t blk[ROM_XFER_SIZE];
    for (unsigned i = 0; i < sizeof blk; i++) {
        blk[i] = (uint8_t)(i * 7u + 1u);
    }
    assert_int_equal(dnload(2, blk, sizeof blk, &st), DFU_STATE_DNLOAD_IDLE);
    assert_int_equal(dnload(3, blk, 100, &st), DFU_STATE_DNLOAD_IDLE);
    uint8_t back[ROM_XFER_SIZE];
    assert_int_equal(s_dev.ops->read(s_dev.ctx, 0x08000000u + ROM_XFER_SIZE, back, 100), FLASH_OK);
    assert_memory_equal(back, blk, 100);
    /* block 3 ended inside a flash word: the rest is erased value */
    assert_int_equal(s_dev.ops->read(s_dev.ctx, 0x08000000u + ROM_XFER_SIZE + 100, back, 28),
                     FLASH_OK);
    for (unsigned i = 0; i < 28; i++) {
        assert_int_equal(back[i], 0xFF);
    }

    /* upload from dfuIDLE: block 2 at the pointer */
    assert_int_equal(ctrl(0x21, DFU_REQ_ABORT, 0, 0, NULL, 0, NULL), 0);
    assert_int_equal(ctrl(0xA1, DFU_REQ_UPLOAD, 2, 0, back, sizeof back, &n), 0);
    assert_int_equal(n, sizeof back);
    assert_memory_equal(back, blk, sizeof blk);
}

static void test_injected_failure_then_clear(void **state)
{
    (void)state;
    s_fault.fail_block = 1;
    s_fault.status = DFU_STATUS_ERR_TARGET;
    configure(0);
    uint8_t st;
    assert_int_equal(command(DFUSE_CMD_ERASE, 0x08000000u, true, &st), DFU_STATE_DNLOAD_IDLE);
    command(DFUSE_CMD_SET_ADDRESS, 0x08000000u, true, &st);
    uint8_t blk[64];
    memset(blk, 0x5A, sizeof blk);
    assert_int_equal(dnload(2, blk, sizeof blk, &st), DFU_STATE_ERROR);
    assert_int_equal(st, DFU_STATUS_ERR_TARGET);
    assert_non_null(strstr(rom_last_note(), "INJECTED errTARGET"));
    /* the block was not written */
    uint8_t back[4];
    s_dev.ops->read(s_dev.ctx, 0x08000000u, back, 4);
    assert_int_equal(back[0], 0xFF);
    /* ABORT is not allowed in dfuERROR; CLRSTATUS is, and a retry works */
    assert_int_equal(ctrl(0x21, DFU_REQ_CLRSTATUS, 0, 0, NULL, 0, NULL), 0);
    command(DFUSE_CMD_SET_ADDRESS, 0x08000000u, true, &st);
    assert_int_equal(dnload(2, blk, sizeof blk, &st), DFU_STATE_DNLOAD_IDLE);
    s_dev.ops->read(s_dev.ctx, 0x08000000u, back, 4);
    assert_int_equal(back[0], 0x5A);
}

static void test_leave_jumps_without_reset(void **state)
{
    (void)state;
    configure(0);
    uint8_t st, stt;
    command(DFUSE_CMD_SET_ADDRESS, 0x08000000u, true, &st);
    assert_int_equal(ctrl(0x21, DFU_REQ_DNLOAD, 0, 0, NULL, 0, NULL), 0);
    s_last_ev = ROM_EV_NONE;
    status(&st, &stt);
    assert_int_equal(stt, DFU_STATE_MANIFEST);
    assert_int_equal(s_last_ev, ROM_EV_JUMP);
    assert_int_equal(rom_jump_address(), 0x08000000u);
}

static void test_leave_from_idle(void **state)
{
    (void)state;
    configure(0);
    /* a zero-length DNLOAD in dfuIDLE ends the download, as in the DFU
     * class of ST's USB device library (dfu-util -s :leave sends it after
     * ABORT) */
    assert_int_equal(ctrl(0x21, DFU_REQ_DNLOAD, 0, 0, NULL, 0, NULL), 0);
    uint8_t st, stt;
    status(&st, &stt);
    assert_int_equal(st, DFU_STATUS_OK);
    assert_int_not_equal(stt, DFU_STATE_ERROR);
}

static void test_option_byte_write_applies_and_resets(void **state)
{
    (void)state;
    configure(1);
    uint8_t ob[ROM_OB_SIZE];
    uint16_t n;
    assert_int_equal(ctrl(0xA1, DFU_REQ_UPLOAD, 2, 0, ob, sizeof ob, &n), 0);
    assert_int_equal(n, ROM_OB_SIZE);
    assert_memory_equal(ob, s_ob, ROM_OB_SIZE);
    assert_int_equal(ctrl(0x21, DFU_REQ_ABORT, 0, 0, NULL, 0, NULL), 0);
    /* BOOT_ADD0 = 0x0802 in the programming copy (FLASH_BOOT_PRGR) */
    ob[ROM_OB_BOOT_PRG] = 0x02;
    ob[ROM_OB_BOOT_PRG + 1] = 0x08;
    uint8_t st;
    command(DFUSE_CMD_SET_ADDRESS, ROM_OB_BASE, true, &st);
    s_last_ev = ROM_EV_NONE;
    assert_int_equal(dnload(2, ob, sizeof ob, &st), DFU_STATE_DNLOAD_IDLE);
    assert_int_equal(s_last_ev, ROM_EV_RESET);
    assert_int_equal(rom_ob_boot_addr(s_ob, false), 0x08020000u);
}

static void test_rdp_level1_refuses_reads(void **state)
{
    (void)state;
    s_ob[ROM_OB_OPTSR_CUR + 1] = 0xBB; /* RDP level 1 */
    configure(0);
    uint8_t buf[64];
    uint16_t n;
    assert_int_not_equal(ctrl(0xA1, DFU_REQ_UPLOAD, 2, 0, buf, sizeof buf, &n), 0);
    uint8_t st, stt;
    status(&st, &stt);
    assert_int_equal(stt, DFU_STATE_ERROR);
    assert_int_equal(st, DFU_STATUS_ERR_VENDOR);
    assert_int_equal(ctrl(0x21, DFU_REQ_CLRSTATUS, 0, 0, NULL, 0, NULL), 0);
    /* read unprotect: level 0 again (after a mass erase), then a reset */
    s_last_ev = ROM_EV_NONE;
    assert_int_equal(command(DFUSE_CMD_READ_UNPROTECT, 0, false, &st), DFU_STATE_DNLOAD_IDLE);
    assert_int_equal(rom_ob_rdp(s_ob), 0xAA);
    assert_int_equal(s_last_ev, ROM_EV_RESET);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_option_bytes_factory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_serial_and_status_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vector_plausible, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_commands_and_write_upload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_injected_failure_then_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leave_jumps_without_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leave_from_idle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_option_byte_write_applies_and_resets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rdp_level1_refuses_reads, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
