/*
 * Several boards on one virtual bus (multi.h): the --board specs, one board,
 * flash, clock, context and bridge each, and the run.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* fopencookie */
#endif
#include "multi.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "board_ctx.h"
#include "board_install.h"
#include "dfu.h"
#include "image_header.h"
#include "rom.h"
#include "sim_clock.h"
#include "sim_usb_bridge.h"

typedef struct mboard {
    unsigned index; /* from 1: its root port */
    char *spec;     /* a copy of the SPEC; the strings below point into it */
    const char *flash_file, *install, *bootloader;
    board_config_t bc;
    char ob_file[4096];
    uint8_t ob[ROM_OB_SIZE];
    sim_clock_t clock;
    sim_clock_t *clockp; /* for the device's microsecond clock */
    unsigned time_div;
    unsigned host_poll_div;
    FILE *events;
    sim_flash_t *flash;
    board_t *board;
    board_ctx_t *ctx;
    sim_usb_bridge_t *br;
} mboard_t;

static bool parse_num(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end || v > max || s[0] == '-') {
        return false;
    }
    *out = v;
    return true;
}

static bool parse_cut(char *s, board_config_t *c)
{
    char *colon = strchr(s, ':');
    unsigned long long v;
    if (colon) {
        *colon = '\0';
    }
    if (!parse_num(s, UINT64_MAX, &v) || v == 0) {
        return false;
    }
    c->power_cut_op = v;
    c->power_cut_phase = SIM_FLASH_PHASE_DURING;
    if (!colon) {
        return true;
    }
    if (!strcmp(colon + 1, "before")) {
        c->power_cut_phase = SIM_FLASH_PHASE_BEFORE;
    } else if (!strcmp(colon + 1, "after")) {
        c->power_cut_phase = SIM_FLASH_PHASE_AFTER;
    } else if (strcmp(colon + 1, "during") != 0) {
        return false;
    }
    return true;
}

/* One key[=value] of a SPEC; false (with a message) when it is not one. */
static bool parse_key(mboard_t *m, char *kv)
{
    char *eq = strchr(kv, '=');
    const char *key = kv;
    char *val = NULL;
    unsigned long long v;
    if (eq) {
        *eq = '\0';
        val = eq + 1;
    }
    bool flag = val == NULL;
    if (!strcmp(key, "rom") && flag) {
        m->bc.rom = true;
    } else if (!strcmp(key, "boot0") && flag) {
        m->bc.boot0 = true;
    } else if (!strcmp(key, "rom-app-naive") && flag) {
        m->bc.rom_app_naive = true;
    } else if (flag || !*val) {
        goto bad;
    } else if (!strcmp(key, "serial")) {
        m->bc.serial = val;
    } else if (!strcmp(key, "flash")) {
        m->flash_file = val;
    } else if (!strcmp(key, "install")) {
        m->install = val;
    } else if (!strcmp(key, "bootloader")) {
        m->bootloader = val;
    } else if (!strcmp(key, "firmware")) {
        m->bc.firmware = val;
    } else if (!strcmp(key, "power-cut")) {
        if (!parse_cut(val, &m->bc)) {
            goto bad;
        }
    } else if (!strcmp(key, "unplug")) {
        if (!parse_num(val, 1000000000, &v) || v == 0) {
            goto bad;
        }
        m->bc.unplug_after_requests = (unsigned)v;
    } else if (!strcmp(key, "power-off-ms") || !strcmp(key, "unplug-ms")) {
        if (!parse_num(val, 600000, &v)) {
            goto bad;
        }
        unsigned ms = v ? (unsigned)v : 1u;
        if (key[0] == 'p') {
            m->bc.power_off_ms = ms;
        } else {
            m->bc.unplug_ms = ms;
        }
    } else {
        goto bad;
    }
    return true;
bad:
    fprintf(stderr, "h7dfu-sim: --board %u: bad key '%s%s%s'\n", m->index, key, val ? "=" : "",
            val ? val : "");
    return false;
}

static bool parse_spec(mboard_t *m, const char *spec)
{
    m->spec = strdup(spec);
    if (!m->spec) {
        return false;
    }
    for (char *save = NULL, *kv = strtok_r(m->spec, ",", &save); kv;
         kv = strtok_r(NULL, ",", &save)) {
        if (!parse_key(m, kv)) {
            return false;
        }
    }
    if (!m->bc.serial) {
        fprintf(stderr, "h7dfu-sim: --board %u: serial=S is required\n", m->index);
        return false;
    }
    if (m->bc.firmware && (m->bc.rom || m->bootloader)) {
        fprintf(stderr,
                "h7dfu-sim: --board %u: firmware= cannot be combined with rom or "
                "bootloader=\n",
                m->index);
        return false;
    }
    return true;
}

/* ---- events: each line of a board starts with its serial ---- */

typedef struct event_sink {
    const char *serial;
    bool at_line_start;
} event_sink_t;

static ssize_t events_write(void *cookie, const char *buf, size_t size)
{
    event_sink_t *e = cookie;
    for (size_t i = 0; i < size; i++) {
        if (e->at_line_start) {
            fprintf(stderr, "[%s] ", e->serial);
        }
        fputc(buf[i], stderr);
        e->at_line_start = buf[i] == '\n';
    }
    return (ssize_t)size;
}

static int events_close(void *cookie)
{
    free(cookie);
    return 0;
}

static FILE *events_open(const char *serial)
{
    event_sink_t *e = calloc(1, sizeof(*e));
    if (!e) {
        return NULL;
    }
    e->serial = serial;
    e->at_line_start = true;
    cookie_io_functions_t io = {.write = events_write, .close = events_close};
    FILE *f = fopencookie(e, "w", io);
    if (!f) {
        free(e);
    }
    return f;
}

/* ---- one board ---- */

static unsigned requests_served(void *user)
{
    sim_usb_bridge_stats_t st;
    sim_usb_bridge_get_stats(user, &st);
    return st.urbs;
}

static uint32_t dev_clock_us(void *user)
{
    const mboard_t *m = user;
    return (uint32_t)(sim_clock_now_ns(m->clockp) / SIM_NS_PER_US / m->time_div);
}

static void mb_step(void *user)
{
    board_step(((mboard_t *)user)->board);
}

static uint64_t mb_next_event_ns(void *user)
{
    return board_next_event_ns(((mboard_t *)user)->board);
}

static void mb_enter(void *user)
{
    board_ctx_enter(((mboard_t *)user)->ctx);
}

/* Flash, factory programming, option bytes, the board powered on in its
 * own context. Returns 0 or an exit status. */
static int board_up(mboard_t *m, const multi_opts_t *o)
{
    m->clockp = &m->clock;
    sim_clock_init(&m->clock);
    sim_clock_set_flash_lane(&m->clock, true);
    m->flash = sim_flash_new(&m->clock);
    if (!m->flash) {
        return 70;
    }
    sim_flash_set_times(m->flash, o->times);
    if (m->flash_file && sim_flash_load(m->flash, m->flash_file) != 0) {
        fprintf(stderr, "h7dfu-sim: %s: %s\n", m->flash_file, strerror(errno));
        return 66;
    }
    if (m->bc.rom && m->flash_file) {
        snprintf(m->ob_file, sizeof(m->ob_file), "%s.ob", m->flash_file);
        FILE *obf = fopen(m->ob_file, "rb");
        if (obf) {
            if (fread(m->ob, 1, sizeof(m->ob), obf) == sizeof(m->ob)) {
                m->bc.option_bytes = m->ob;
            }
            fclose(obf);
        }
    }
    const char *bootloader = m->bootloader;
    if (m->bc.firmware) {
        bootloader = m->bc.firmware;
        size_t n = m->install ? strlen(m->install) : 0;
        if (n > 4 && !strcmp(m->install + n - 4, ".elf")) {
            m->bc.app_elf = m->install;
        }
        m->bc.clock = &m->clock;
    }
    char err[600];
    uint32_t bin_base = m->bc.rom ? H7_TARGET_FLASH_BASE : BOOT_APP_SLOT_ADDR;
    if ((bootloader &&
         board_install(m->flash, bootloader, H7_TARGET_BL_ADDR, err, sizeof(err)) != 0) ||
        (m->install && board_install(m->flash, m->install, bin_base, err, sizeof(err)) != 0)) {
        fprintf(stderr, "h7dfu-sim: board %s: %s\n", m->bc.serial, err);
        return 66;
    }
    /* factory programming is not part of the run (as with one board) */
    sim_clock_init(&m->clock);
    sim_clock_set_flash_lane(&m->clock, true);
    m->bc.fast = o->fast;
    if (!m->bc.power_off_ms) {
        m->bc.power_off_ms = o->power_off_ms;
    }
    if (!m->bc.unplug_ms) {
        m->bc.unplug_ms = o->unplug_ms;
    }
    m->time_div = o->fast ? 1000u : 1u;
    if (m->bc.firmware) {
        m->host_poll_div = o->fast ? 1000u : 0u;
        m->time_div = 1u;
    }
    if (o->events) {
        m->events = events_open(m->bc.serial);
        m->bc.events = m->events;
    }
    m->ctx = board_ctx_new();
    if (!m->ctx) {
        return 70;
    }
    board_ctx_enter(m->ctx);
    if (!o->fast && !m->bc.firmware) {
        dfu_set_default_clock(dev_clock_us, m);
    }
    m->board = board_new(&m->bc, m->flash);
    if (!m->board || !board_power_on(m->board)) {
        fprintf(stderr, "h7dfu-sim: board %s does not boot\n", m->bc.serial);
        return 70;
    }
    return 0;
}

static bool bridge_up(mboard_t *m, const multi_opts_t *o, sim_usb_bridge_t *first)
{
    void *dev = NULL;
    board_ctx_enter(m->ctx);
    const sim_usb_device_ops_t *dev_ops = board_usb_ops(m->board, &dev);
    sim_usb_bridge_config_t cfg = {.step = mb_step,
                                   .user = m,
                                   .enter = mb_enter,
                                   .dev_ops = dev_ops,
                                   .dev = dev,
                                   .busnum = 1,
                                   .port = (uint8_t)m->index,
                                   .verbose = o->verbose,
                                   .clock = &m->clock,
                                   .time_div = m->time_div,
                                   .host_poll_div = m->host_poll_div,
                                   .device_runs_on_clock = m->bc.firmware != NULL,
                                   .next_event_ns = mb_next_event_ns,
                                   .beside = first};
    m->br = sim_usb_bridge_new(&cfg);
    if (!m->br) {
        return false;
    }
    board_set_request_counter(m->board, requests_served, m->br);
    return true;
}

/* ---- the run's results ---- */

static void json_str(FILE *o, const char *s)
{
    fputc('"', o);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') {
            fprintf(o, "\\%c", *s);
        } else if ((unsigned char)*s < 0x20) {
            fprintf(o, "\\u%04x", (unsigned char)*s);
        } else {
            fputc(*s, o);
        }
    }
    fputc('"', o);
}

static const char *personality(const mboard_t *m)
{
    return m->bc.firmware ? "firmware" : m->bc.rom ? "rom" : "h7dfu";
}

static void board_report(FILE *o, const mboard_t *m)
{
    board_stats_t bs;
    sim_flash_stats_t fs;
    sim_usb_bridge_stats_t us = {0};
    board_get_stats(m->board, &bs);
    sim_flash_get_stats(m->flash, &fs);
    if (m->br) {
        sim_usb_bridge_get_stats(m->br, &us);
    }
    fputs("{\"serial\":", o);
    json_str(o, m->bc.serial);
    fprintf(o, ",\"path\":\"1-%u\",\"personality\":\"%s\"", m->index, personality(m));
    fprintf(o,
            ",\"modeled_s\":%.6f,\"usb_s\":%.6f,\"host_wait_s\":%.6f,\"flash_busy_s\":%.6f"
            ",\"sector_erases\":%llu,\"words_programmed\":%llu,\"requests\":%u"
            ",\"enumerations\":%u,\"power_ons\":%u,\"power_cuts\":%u,\"unplugs\":%u"
            ",\"mode\":",
            (double)sim_clock_total_ns(&m->clock) / 1e9, (double)us.usb_ns / 1e9,
            (double)us.host_wait_ns / 1e9, (double)fs.busy_ns / 1e9,
            (unsigned long long)fs.sector_erases, (unsigned long long)fs.words_programmed, us.urbs,
            us.enumerations, bs.power_ons, bs.power_cuts, bs.unplugs);
    json_str(o, board_mode_name(board_mode(m->board)));
    fputs("}\n", o);
}

static int write_stats(const char *path, mboard_t *mb, size_t n)
{
    FILE *o = fopen(path, "w");
    if (!o) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        board_report(o, &mb[i]);
    }
    return fclose(o) == 0 ? 0 : -1;
}

/* Option bytes and flash to their files. Returns 0 or 74. */
static int board_save(mboard_t *m)
{
    int status = 0;
    if (m->board && m->ob_file[0]) {
        FILE *obf = fopen(m->ob_file, "wb");
        if (!obf || fwrite(board_option_bytes(m->board), 1, ROM_OB_SIZE, obf) != ROM_OB_SIZE) {
            fprintf(stderr, "h7dfu-sim: saving %s: %s\n", m->ob_file, strerror(errno));
            status = 74;
        }
        if (obf && fclose(obf) != 0) {
            status = 74;
        }
    }
    if (m->board && m->flash_file && sim_flash_save(m->flash, m->flash_file) != 0) {
        fprintf(stderr, "h7dfu-sim: saving %s: %s\n", m->flash_file, strerror(errno));
        status = 74;
    }
    return status;
}

static bool specs_distinct(const mboard_t *mb, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(mb[i].bc.serial, mb[j].bc.serial)) {
                fprintf(stderr, "h7dfu-sim: --board %zu and %zu have the same serial %s\n", j + 1,
                        i + 1, mb[i].bc.serial);
                return false;
            }
            if (mb[i].flash_file && mb[j].flash_file &&
                !strcmp(mb[i].flash_file, mb[j].flash_file)) {
                fprintf(stderr, "h7dfu-sim: --board %zu and %zu have the same flash file %s\n",
                        j + 1, i + 1, mb[i].flash_file);
                return false;
            }
        }
    }
    return true;
}

int multi_run(const char *const *specs, size_t n, const multi_opts_t *o, char *const argv[])
{
    if (n == 0 || n > MULTI_MAX_BOARDS) {
        fprintf(stderr, "h7dfu-sim: 1 to %d --board options\n", MULTI_MAX_BOARDS);
        return 2;
    }
    mboard_t *mb = calloc(n, sizeof(*mb));
    if (!mb) {
        return 70;
    }
    int status = 0;
    for (size_t i = 0; i < n && !status; i++) {
        mb[i].index = (unsigned)i + 1u;
        if (!parse_spec(&mb[i], specs[i])) {
            status = 2;
        }
    }
    if (!status && !specs_distinct(mb, n)) {
        status = 2;
    }
    for (size_t i = 0; i < n && !status; i++) {
        status = board_up(&mb[i], o);
    }
    for (size_t i = 0; i < n && !status; i++) {
        if (!bridge_up(&mb[i], o, i ? mb[0].br : NULL)) {
            fprintf(stderr, "h7dfu-sim: cannot put board %s on the bus\n", mb[i].bc.serial);
            status = 70;
        }
    }
    if (!status) {
        status = sim_usb_bridge_run(mb[0].br, argv);
        if (status < 0) {
            status = 127;
        }
        for (size_t i = 0; i < n; i++) {
            board_ctx_enter(mb[i].ctx);
            if (board_sim_failed(mb[i].board)) {
                fprintf(stderr,
                        "h7dfu-sim: board %s: the emulated chip met something it does not "
                        "model (above); the run does not count\n",
                        mb[i].bc.serial);
                status = 70;
            }
            if (o->verbose) {
                fprintf(stderr, "h7dfu-sim: board %u: ", mb[i].index);
                board_report(stderr, &mb[i]);
            }
        }
        if (o->stats_file && write_stats(o->stats_file, mb, n) != 0) {
            fprintf(stderr, "h7dfu-sim: %s: %s\n", o->stats_file, strerror(errno));
            if (status == 0) {
                status = 74;
            }
        }
        for (size_t i = 0; i < n; i++) {
            int s = board_save(&mb[i]);
            if (s && status == 0) {
                status = s;
            }
        }
    }
    /* the bridges beside the first go before it */
    for (size_t i = n; i-- > 0;) {
        board_ctx_enter(mb[i].ctx);
        sim_usb_bridge_free(mb[i].br);
        board_free(mb[i].board);
        sim_flash_free(mb[i].flash);
        if (mb[i].events) {
            fclose(mb[i].events);
        }
        board_ctx_free(mb[i].ctx);
        free(mb[i].spec);
    }
    free(mb);
    return status;
}
