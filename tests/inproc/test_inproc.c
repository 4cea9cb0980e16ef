/*
 * End to end in one process: host client (host/proto) -> in-process transport
 * (sim/inproc) -> core/dfu -> the virtual H743 flash (sim/flash).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "h7_dfu.h"
#include "h7_image.h"
#include "h7_inproc.h"
#include "h7_ops.h"

#define APP    0x08020000u
#define SECTOR 0x20000u

typedef struct fx {
    sim_clock_t clock;
    sim_flash_t *flash;
    h7_inproc_t ip;
    h7_dfu_client_t dfu;
    char layout[128];
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    sim_clock_init(&f->clock);
    f->flash = sim_flash_new(&f->clock);
    assert_non_null(f->flash);
    assert_true(h7_inproc_init(&f->ip, f->flash, &f->clock, NULL));
    h7_dfu_init(&f->dfu, h7_inproc_transport(&f->ip), 0, dfu_transfer_size(&f->ip.dfu));
    assert_true(h7_inproc_layout(&f->ip, 0, f->layout, sizeof(f->layout)) > 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    sim_flash_free(f->flash);
    free(f);
    return 0;
}

static void payload(uint8_t *b, size_t n, unsigned seed)
{
    uint32_t x = 0x12345678u ^ seed;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        b[i] = (uint8_t)(x >> 16);
    }
}

static const char *message(const fx_t *f)
{
    static char m[1024];
    h7_error_format(&f->dfu.err, m, sizeof(m));
    return m;
}

static void write_ok(fx_t *f, const h7_image_t *img, h7_write_report_t *rep)
{
    int rc = h7_ops_write_image(&f->dfu, img, f->layout, NULL, rep);
    if (rc != 0) {
        print_error("write failed: %s\n", message(f));
    }
    assert_int_equal(rc, 0);
}

/* The flash holds img exactly, the rest of the last word is 0xFF, and a read
 * through the protocol gives the same bytes. */
static void check_on_flash(fx_t *f, const h7_image_t *img)
{
    const uint8_t *raw = sim_flash_raw(f->flash);
    for (size_t i = 0; i < img->count; i++) {
        const h7_segment_t *s = &img->seg[i];
        assert_memory_equal(raw + (s->addr - 0x08000000u), s->data, s->len);
        uint32_t end = s->addr + s->len;
        for (uint32_t a = end; a % 32u; a++) {
            assert_int_equal(raw[a - 0x08000000u], 0xff);
        }
        uint8_t *back = malloc(s->len);
        assert_int_equal(h7_ops_read(&f->dfu, s->addr, back, s->len, NULL, NULL), 0);
        assert_memory_equal(back, s->data, s->len);
        free(back);
    }
}

/* Two segments: 150001 bytes over sectors 1-2, and 4000 bytes in sector 5. */
static void build_image(h7_image_t *img)
{
    static uint8_t a[150001], b[4000];
    payload(a, sizeof(a), 1);
    payload(b, sizeof(b), 2);
    h7_image_init(img);
    assert_int_equal(h7_image_add(img, 0, APP, a, sizeof(a), NULL), 0);
    assert_int_equal(h7_image_add(img, 0, APP + 4 * SECTOR + 0x100, b, sizeof(b), NULL), 0);
}

static void roundtrip(fx_t *f, const h7_image_t *img)
{
    sim_flash_stats_t before, st;
    h7_write_report_t rep;
    sim_flash_get_stats(f->flash, &before);
    write_ok(f, img, &rep);
    assert_true(rep.bytes_written > 0);
    assert_int_equal(rep.bytes_written, rep.bytes_verified);
    sim_flash_get_stats(f->flash, &st);
    assert_int_equal(st.sector_erases - before.sector_erases, rep.sectors_erased);
    check_on_flash(f, img);
}

static void load_mem(h7_image_t *img, const uint8_t *buf, size_t len, const char *name,
                     const h7_load_opts_t *o)
{
    h7_image_error_t err;
    h7_image_init(img);
    if (h7_image_load_mem(img, buf, len, name, o, &err) != 0) {
        print_error("load %s: %s\n", name, err.message);
    }
    assert_int_equal(img->count > 0, 1);
}

/* ---- the five formats ---- */

static void test_format_raw(void **state)
{
    fx_t *f = *state;
    static uint8_t bin[70001];
    payload(bin, sizeof(bin), 7);
    h7_load_opts_t o = {.format = H7_FMT_BIN, .has_base = true, .base = APP + SECTOR};
    h7_image_t img;
    load_mem(&img, bin, sizeof(bin), "app.bin", &o);
    assert_int_equal(img.seg[0].addr, APP + SECTOR);
    roundtrip(f, &img);
    h7_image_free(&img);
}

static void encoded(fx_t *f, h7_image_format_t fmt, const char *name)
{
    h7_image_t src, img;
    build_image(&src);
    uint8_t *buf;
    size_t len;
    h7_write_opts_t wo = {.id_vendor = 0x0483, .id_product = 0xdf11, .bcd_device = 0xffff};
    assert_int_equal(h7_image_encode(&src, fmt, &wo, &buf, &len, NULL), 0);
    load_mem(&img, buf, len, name, NULL);
    assert_int_equal(img.format, fmt);
    assert_int_equal(img.count, src.count);
    roundtrip(f, &img);
    check_on_flash(f, &src); /* what the device holds is the original */
    free(buf);
    h7_image_free(&img);
    h7_image_free(&src);
}

static void test_format_ihex(void **state)
{
    encoded(*state, H7_FMT_IHEX, "app.hex");
}

static void test_format_dfuse(void **state)
{
    encoded(*state, H7_FMT_DFUSE, "app.dfu");
}

/* S-record and ELF come from binutils, not from our own writers. */
static int objcopy_image(const char *kind, const uint8_t *bin, size_t len, uint32_t addr,
                         h7_image_t *img)
{
    char dir[] = "/tmp/h7inprocXXXXXX";
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    char in[300], mid[300], out[300], cmd[1400];
    snprintf(in, sizeof(in), "%s/app.bin", dir);
    snprintf(mid, sizeof(mid), "%s/app.o", dir);
    snprintf(out, sizeof(out), "%s/app.%s", dir, kind);
    FILE *fp = fopen(in, "wb");
    if (fp == NULL) {
        return -1;
    }
    fwrite(bin, 1, len, fp);
    fclose(fp);
    if (strcmp(kind, "srec") == 0) {
        snprintf(cmd, sizeof(cmd),
                 "arm-none-eabi-objcopy -I binary -O srec --change-addresses 0x%08x %s %s", addr,
                 in, out);
    } else {
        snprintf(cmd, sizeof(cmd),
                 "arm-none-eabi-objcopy -I binary -O elf32-littlearm -B arm "
                 "--rename-section .data=.text,alloc,load,readonly,code %s %s && "
                 "arm-none-eabi-ld -Ttext=0x%08x -e 0x%08x -o %s %s",
                 in, mid, addr, addr, out, mid);
    }
    int rc = system(cmd);
    h7_image_error_t err;
    h7_image_init(img);
    if (rc == 0 && h7_image_load_file(img, out, NULL, &err) != 0) {
        print_error("load %s: %s\n", out, err.message);
        rc = -1;
    }
    unlink(in);
    unlink(mid);
    unlink(out);
    rmdir(dir);
    return rc;
}

static void from_binutils(fx_t *f, const char *kind, h7_image_format_t fmt)
{
    if (system("command -v arm-none-eabi-objcopy >/dev/null 2>&1") != 0) {
        skip();
    }
    static uint8_t bin[99999];
    payload(bin, sizeof(bin), 11);
    h7_image_t img;
    assert_int_equal(objcopy_image(kind, bin, sizeof(bin), APP + 2 * SECTOR - 0x1000, &img), 0);
    assert_int_equal(img.format, fmt);
    assert_int_equal(h7_image_total_size(&img), sizeof(bin));
    assert_int_equal(h7_image_min_addr(&img), APP + 2 * SECTOR - 0x1000);
    roundtrip(f, &img);
    h7_image_free(&img);
}

static void test_format_srec(void **state)
{
    from_binutils(*state, "srec", H7_FMT_SREC);
}

static void test_format_elf(void **state)
{
    from_binutils(*state, "elf", H7_FMT_ELF);
}

/* ---- refusals before anything is erased ---- */

static void refused(fx_t *f, uint32_t addr, size_t len, const char *want_words)
{
    uint8_t *b = malloc(len);
    payload(b, len, 3);
    h7_image_t img;
    h7_image_init(&img);
    assert_int_equal(h7_image_add(&img, 0, addr, b, len, NULL), 0);
    h7_write_report_t rep;
    assert_int_equal(h7_ops_write_image(&f->dfu, &img, f->layout, NULL, &rep), H7_E_PLAN);
    sim_flash_stats_t st;
    sim_flash_get_stats(f->flash, &st);
    assert_int_equal(st.sector_erases, 0);
    assert_int_equal(st.ops, 0);
    assert_int_equal(f->ip.requests, 0); /* not one request reached the device */
    const char *m = message(f);
    if (strstr(m, want_words) == NULL) {
        print_error("message: %s\n", m);
    }
    assert_non_null(strstr(m, want_words));
    h7_image_free(&img);
    free(b);
}

static void test_refuse_bootloader_sector(void **state)
{
    refused(*state, 0x08000000u, 1024, "0x08000000");
}

static void test_refuse_past_end(void **state)
{
    /* the last 100 bytes of flash are fine, the rest is not */
    refused(*state, 0x08200000u - 100u, 1000, "0x08200000");
}

static void test_refuse_too_big(void **state)
{
    refused(*state, APP, 15u * SECTOR + 1u, "plan");
}

/* ---- DFU error paths: status and a human message ---- */

static void expect_device_error(fx_t *f, int rc, uint8_t status, const char *words)
{
    assert_int_equal(rc, H7_E_DEVICE);
    assert_true(f->dfu.err.has_dfu);
    assert_int_equal(f->dfu.err.state, H7_ST_ERROR);
    assert_int_equal(f->dfu.err.status, status);
    const char *m = message(f);
    if (strstr(m, h7_dfu_status_name(status)) == NULL || strstr(m, words) == NULL) {
        print_error("message: %s\n", m);
    }
    assert_non_null(strstr(m, h7_dfu_status_name(status)));
    assert_non_null(strstr(m, words));
    assert_non_null(strstr(m, "What to do:"));
    /* and the device is usable again after the recovery sequence */
    assert_int_equal(h7_dfu_recover(&f->dfu), 0);
    uint8_t st;
    assert_int_equal(h7_dfu_get_state(&f->dfu, &st), 0);
    assert_int_equal(st, H7_ST_IDLE);
}

static void test_err_target_set_address(void **state)
{
    fx_t *f = *state;
    expect_device_error(f, h7_dfuse_set_address(&f->dfu, 0x20000000u), H7_STATUS_ERR_TARGET,
                        "set address at 0x20000000");
}

static void test_err_target_erase_bootloader(void **state)
{
    fx_t *f = *state;
    expect_device_error(f, h7_dfuse_erase_sector(&f->dfu, 0x08000000u), H7_STATUS_ERR_TARGET,
                        "erase sector at 0x08000000");
    sim_flash_stats_t st;
    sim_flash_get_stats(f->flash, &st);
    assert_int_equal(st.sector_erases, 0);
}

static void test_err_write_protected(void **state)
{
    fx_t *f = *state;
    sim_flash_set_write_protect(f->flash, 3, true);
    h7_image_t img;
    uint8_t b[64];
    payload(b, sizeof(b), 5);
    h7_image_init(&img);
    h7_image_add(&img, 0, 0x08000000u + 3 * SECTOR, b, sizeof(b), NULL);
    expect_device_error(f, h7_ops_write_image(&f->dfu, &img, f->layout, NULL, NULL),
                        H7_STATUS_ERR_WRITE, "0x08060000");
    h7_image_free(&img);
}

static void test_err_address_unaligned(void **state)
{
    fx_t *f = *state;
    uint8_t b[64] = {0};
    assert_int_equal(h7_dfuse_erase_sector(&f->dfu, APP), 0);
    expect_device_error(f, h7_dfuse_write(&f->dfu, APP + 4, b, sizeof(b), NULL, NULL),
                        H7_STATUS_ERR_ADDRESS, "write block 2");
    assert_int_equal(sim_flash_word_state(f->flash, APP), SIM_WORD_ERASED);
}

static void test_err_check_erased(void **state)
{
    fx_t *f = *state;
    uint8_t b[64];
    payload(b, sizeof(b), 9);
    /* known to program in the background: a write waits for it (settle) */
    assert_true(h7_dfuse_has_command(&f->dfu, H7_DFUSE_CRC32));
    assert_int_equal(h7_dfuse_erase_sector(&f->dfu, APP), 0);
    assert_int_equal(h7_dfuse_write(&f->dfu, APP, b, sizeof(b), NULL, NULL), 0);
    expect_device_error(f, h7_dfuse_write(&f->dfu, APP, b, sizeof(b), NULL, NULL),
                        H7_STATUS_ERR_CHECK_ERASED, "not erased");
}

static void test_err_vendor_read_unprotect(void **state)
{
    fx_t *f = *state;
    expect_device_error(f, h7_dfuse_read_unprotect(&f->dfu), H7_STATUS_ERR_VENDOR,
                        "read unprotect");
}

static void test_err_verify_corrupt_word(void **state)
{
    fx_t *f = *state;
    uint8_t b[256];
    payload(b, sizeof(b), 4);
    h7_image_t img;
    h7_image_init(&img);
    h7_image_add(&img, 0, APP, b, sizeof(b), NULL);
    write_ok(f, &img, NULL);
    /* A second write into a programmed word breaks its ECC (RM0433 4.3.9). */
    uint8_t x = 0;
    sim_flash_force_write(f->flash, APP + 64, &x, 1);
    uint8_t back[256];
    int rc = h7_ops_read(&f->dfu, APP, back, sizeof(back), NULL, NULL);
    assert_int_equal(rc, H7_E_TRANSPORT);
    assert_true(f->dfu.err.has_dfu);
    assert_int_equal(f->dfu.err.status, H7_STATUS_ERR_VERIFY);
    assert_non_null(strstr(message(f), "errVERIFY"));
    assert_int_equal(h7_dfu_recover(&f->dfu), 0);
    h7_image_free(&img);
}

static void test_err_stalled_out_of_state(void **state)
{
    fx_t *f = *state;
    /* CLRSTATUS in dfuIDLE is not allowed (DFU 1.1 A.2.3) */
    assert_int_equal(h7_dfu_clr_status(&f->dfu), H7_E_TRANSPORT);
    assert_int_equal(f->dfu.err.xfer, H7_XFER_STALL);
    assert_true(f->dfu.err.has_dfu);
    assert_int_equal(f->dfu.err.state, H7_ST_ERROR);
    assert_int_equal(f->dfu.err.status, H7_STATUS_ERR_STALLEDPKT);
    const char *m = message(f);
    assert_non_null(strstr(m, "CLRSTATUS"));
    assert_non_null(strstr(m, "stalled"));
    assert_non_null(strstr(m, "errSTALLEDPKT"));
    assert_int_equal(h7_dfu_recover(&f->dfu), 0);
}

static void test_err_upload_outside(void **state)
{
    fx_t *f = *state;
    uint8_t b[4096];
    assert_int_equal(h7_dfuse_read(&f->dfu, 0x08200000u - 2048u, b, 4096), H7_E_TRANSPORT);
    assert_int_equal(f->dfu.err.status, H7_STATUS_ERR_ADDRESS);
    assert_non_null(strstr(message(f), "read block 3 at 0x08200000"));
    assert_int_equal(h7_dfu_recover(&f->dfu), 0);
}

static void test_usb_stall_fault_and_retry(void **state)
{
    fx_t *f = *state;
    h7_image_t img;
    build_image(&img);
    h7_inproc_stall_at(&f->ip, 40); /* in the middle of the writes */
    int rc = h7_ops_write_image(&f->dfu, &img, f->layout, NULL, NULL);
    assert_int_equal(rc, H7_E_TRANSPORT);
    assert_int_equal(f->dfu.err.xfer, H7_XFER_STALL);
    assert_non_null(strstr(message(f), "stalled"));
    roundtrip(f, &img);
    h7_image_free(&img);
}

static void test_power_cut_mid_write_then_retry(void **state)
{
    fx_t *f = *state;
    h7_image_t img;
    build_image(&img);
    /* erase x3, then somewhere in the program words */
    h7_inproc_cut_power_at(&f->ip, 3 + 500, SIM_FLASH_PHASE_DURING);
    int rc = h7_ops_write_image(&f->dfu, &img, f->layout, NULL, NULL);
    assert_int_equal(rc, H7_E_TRANSPORT);
    assert_int_equal(f->dfu.err.xfer, H7_XFER_NO_DEVICE);
    assert_non_null(strstr(message(f), "gone"));
    h7_inproc_power_on(&f->ip);
    roundtrip(f, &img); /* the same command, again, finishes the job */
    h7_image_free(&img);
}

/* ---- commit span: a header written only after everything else ---- */

typedef struct prog_log {
    uint32_t addr[16384];
    size_t n;
} prog_log_t;

static bool log_programs(void *user, const sim_flash_event_t *ev)
{
    prog_log_t *log = user;
    if (ev->op == SIM_FLASH_OP_PROGRAM && ev->phase == SIM_FLASH_PHASE_AFTER &&
        log->n < sizeof(log->addr) / sizeof(log->addr[0])) {
        log->addr[log->n++] = ev->addr;
    }
    return false;
}

static void test_commit_span_written_last(void **state)
{
    fx_t *f = *state;
    h7_image_t img;
    build_image(&img);
    prog_log_t *log = calloc(1, sizeof(*log));
    sim_flash_set_power_hook(f->flash, log_programs, log);
    /* The two words at the slot start are the "header". */
    h7_write_cfg_t cfg = {.verify = true, .commit_addr = APP, .commit_len = 64};
    h7_write_report_t rep;
    assert_int_equal(h7_ops_write_image(&f->dfu, &img, f->layout, &cfg, &rep), 0);
    sim_flash_set_power_hook(f->flash, NULL, NULL);
    assert_int_equal(rep.bytes_verified, rep.bytes_written);
    assert_true(log->n > 2);
    assert_int_equal(log->addr[log->n - 2], APP);
    assert_int_equal(log->addr[log->n - 1], APP + 32);
    for (size_t i = 0; i + 2 < log->n; i++) {
        assert_true(log->addr[i] >= APP + 64);
    }
    check_on_flash(f, &img);
    free(log);
    h7_image_free(&img);
}

static void test_commit_span_must_be_whole_words(void **state)
{
    fx_t *f = *state;
    h7_image_t img;
    build_image(&img);
    h7_write_cfg_t cfg = {.verify = true, .commit_addr = APP + 8, .commit_len = 64};
    assert_int_equal(h7_ops_write_image(&f->dfu, &img, f->layout, &cfg, NULL), H7_E_ARG);
    sim_flash_stats_t st;
    sim_flash_get_stats(f->flash, &st);
    assert_int_equal(st.ops, 0);
    h7_image_free(&img);
}

/* ---- busy waits, leave, erase ---- */

static void test_poll_timeout_honoured(void **state)
{
    fx_t *f = *state;
    /* An erase runs in the background: it answers dfuDNBUSY with 0, and
     * the host does not wait for it. */
    uint64_t before = f->ip.slept_ms;
    assert_int_equal(h7_dfuse_erase_sector(&f->dfu, APP), 0);
    assert_int_equal(f->ip.slept_ms - before, 0);
    h7_dfu_status_rec_t st;
    assert_int_equal(h7_dfu_get_status(&f->dfu, &st), 0);
    assert_int_equal(st.state, H7_ST_DNLOAD_IDLE);
    /* A CRC of 1 MiB: 20 ns a byte (core/dfu/dfu.h), 21 ms: the host
     * sleeps exactly the bwPollTimeout it was given. */
    uint32_t c;
    before = f->ip.slept_ms;
    assert_int_equal(h7_dfuse_crc32(&f->dfu, APP, 0x100000u, 0, &c), 0);
    assert_int_equal(f->ip.slept_ms - before, (0x100000u / 1000u + 1u) * 20u / 1000u + 1u);
}

static void test_leave_reaches_boot_layer(void **state)
{
    fx_t *f = *state;
    h7_image_t img;
    build_image(&img);
    write_ok(f, &img, NULL);
    assert_int_equal(h7_ops_leave(&f->dfu, true, APP), 0);
    assert_int_equal(f->ip.manifests, 1);
    assert_int_equal(f->ip.manifest_addr, APP);
    assert_int_equal(dfu_get_state(&f->ip.dfu), DFU_STATE_MANIFEST_WAIT_RESET);
    h7_image_free(&img);
}

static void test_leave_without_address_when_idle_refused(void **state)
{
    fx_t *f = *state;
    assert_int_equal(h7_ops_leave(&f->dfu, false, 0), H7_E_ARG);
    assert_int_equal(f->ip.manifests, 0);
}

static void test_erase_range_and_mass_erase(void **state)
{
    fx_t *f = *state;
    h7_image_t img;
    build_image(&img);
    write_ok(f, &img, NULL);
    sim_flash_reset_stats(f->flash);
    assert_int_equal(h7_ops_erase(&f->dfu, f->layout, APP + 10, SECTOR), 0);
    sim_flash_stats_t st;
    sim_flash_get_stats(f->flash, &st);
    assert_int_equal(st.sector_erases, 2); /* APP+10 .. APP+SECTOR+9 touches two */
    assert_int_equal(h7_ops_erase(&f->dfu, f->layout, 0x08000000u, 16), H7_E_PLAN);
    assert_int_equal(h7_ops_mass_erase(&f->dfu), 0);
    sim_flash_get_stats(f->flash, &st);
    assert_int_equal(st.sector_erases, 2 + 15);
    assert_int_equal(sim_flash_word_state(f->flash, APP + 4 * SECTOR + 0x100), SIM_WORD_ERASED);
    h7_image_free(&img);
}

static void test_get_commands(void **state)
{
    fx_t *f = *state;
    uint8_t c[16];
    int n = h7_dfuse_get_commands(&f->dfu, c, sizeof(c));
    assert_int_equal(n, 7);
    assert_int_equal(c[1], H7_DFUSE_SET_ADDRESS);
    assert_int_equal(c[2], H7_DFUSE_ERASE);
    assert_int_equal(c[4], H7_DFUSE_CRC32);
    assert_int_equal(c[5], H7_DFUSE_BOOT_STATUS);
    assert_int_equal(c[6], H7_DFUSE_ENTER_ROM);
}

/* ---- names and messages ---- */

static void test_names_complete(void **state)
{
    (void)state;
    for (uint8_t s = 0; s <= 10; s++) {
        assert_true(strlen(h7_dfu_state_text(s)) > 20);
        assert_null(strstr(h7_dfu_state_name(s), "unknown"));
    }
    for (uint8_t s = 0; s <= 15; s++) {
        assert_true(strlen(h7_dfu_status_text(s)) > 8);
        assert_true(strlen(h7_dfu_status_hint(s)) > 8);
        assert_null(strstr(h7_dfu_status_name(s), "unknown"));
    }
    assert_string_equal(h7_dfu_state_name(4), "dfuDNBUSY");
    assert_string_equal(h7_dfu_status_name(8), "errADDRESS");
    assert_non_null(strstr(h7_dfu_status_text(8), "outside its memory"));
    assert_non_null(strstr(h7_dfu_state_name(11), "unknown"));
    assert_non_null(strstr(h7_dfu_status_name(16), "unknown"));
    assert_non_null(strstr(h7_xfer_error_name(H7_XFER_NO_DEVICE), "gone"));
}

static void test_error_format_truncates(void **state)
{
    (void)state;
    h7_error_t e;
    h7_error_clear(&e);
    e.code = H7_E_DEVICE;
    snprintf(e.op, sizeof(e.op), "write");
    e.block = 7;
    e.has_addr = true;
    e.addr = 0x08021000u;
    e.has_dfu = true;
    e.state = H7_ST_ERROR;
    e.status = H7_STATUS_ERR_PROG;
    char big[1024], small[16];
    size_t n = h7_error_format(&e, big, sizeof(big));
    assert_int_equal(n, strlen(big));
    assert_non_null(strstr(big, "write block 7 at 0x08021000 failed"));
    assert_non_null(strstr(big, "dfuERROR"));
    assert_non_null(strstr(big, "errPROG"));
    assert_int_equal(h7_error_format(&e, small, sizeof(small)), 15);
    assert_int_equal(strlen(small), 15);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_format_raw),
        T(test_format_ihex),
        T(test_format_srec),
        T(test_format_dfuse),
        T(test_format_elf),
        T(test_refuse_bootloader_sector),
        T(test_refuse_past_end),
        T(test_refuse_too_big),
        T(test_err_target_set_address),
        T(test_err_target_erase_bootloader),
        T(test_err_write_protected),
        T(test_err_address_unaligned),
        T(test_err_check_erased),
        T(test_err_vendor_read_unprotect),
        T(test_err_verify_corrupt_word),
        T(test_err_stalled_out_of_state),
        T(test_err_upload_outside),
        T(test_usb_stall_fault_and_retry),
        T(test_power_cut_mid_write_then_retry),
        T(test_poll_timeout_honoured),
        T(test_leave_reaches_boot_layer),
        T(test_leave_without_address_when_idle_refused),
        T(test_erase_range_and_mass_erase),
        T(test_get_commands),
        T(test_commit_span_written_last),
        T(test_commit_span_must_be_whole_words),
        cmocka_unit_test(test_names_complete),
        cmocka_unit_test(test_error_format_truncates),
    };
    return cmocka_run_group_tests_name("inproc", tests, NULL, NULL);
}
