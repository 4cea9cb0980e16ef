/*
 * The virtual board's life cycle (see board.h): power, resets, the boot
 * decision and the personality it selects, and the injected faults.
 */
#include "board.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bootloader.h"
#include "dcd_sim.h"
#include "demo_app.h"
#include "dfu.h"
#include "usbd.h"

/* Time between a firmware reset request and the new personality on the bus:
 * the reset itself is microseconds (RM0433 8.4.2 "System reset"), the rest is
 * the host noticing the disconnect; enough for the bridge to see it. */
#define RESET_OFF_MS      10u
#define RESET_OFF_MS_FAST 2u
#define POWER_OFF_MS      200u
#define UNPLUG_MS         500u
/* --fast: bwPollTimeout divided by this (the flash model still charges the
 * DS12110 times on the virtual clock). */
#define FAST_POLL_DIV 1000u

struct board {
    board_config_t cfg;
    sim_flash_t *flash;
    flash_dev_t fdev;
    board_mode_t mode;
    /* RAM that the start-up code never initialises (.noinit in the real
     * images): survives a system reset, garbage after power loss. */
    volatile boot_request_block_t ram_req;
    uint64_t on_at_ms; /* when an OFF board comes up again */
    bool cold;         /* the next boot is a power-on (RAM garbage) */
    bool unplugged;    /* the unplug fault happened (one-shot) */
    unsigned (*count)(void *user);
    void *count_user;
    board_stats_t st;
    uint8_t xfer_buf[H7_DFU_XFER_MAX];
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

#define EVENT(b, ...)                                                                              \
    do {                                                                                           \
        if ((b)->cfg.events) {                                                                     \
            fprintf((b)->cfg.events, "[virtual H743] " __VA_ARGS__);                               \
            fflush((b)->cfg.events);                                                               \
        }                                                                                          \
    } while (0)

const char *board_mode_name(board_mode_t m)
{
    switch (m) {
    case BOARD_MODE_OFF:
        return "off";
    case BOARD_MODE_BOOTLOADER:
        return "bootloader (DFU mode)";
    case BOARD_MODE_APP:
        return "demo application";
    }
    return "?";
}

board_t *board_new(const board_config_t *cfg, sim_flash_t *flash)
{
    if (!cfg || !flash || !cfg->serial)
        return NULL;
    board_t *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->cfg = *cfg;
    if (!b->cfg.power_off_ms)
        b->cfg.power_off_ms = POWER_OFF_MS;
    if (!b->cfg.unplug_ms)
        b->cfg.unplug_ms = UNPLUG_MS;
    b->flash = flash;
    b->fdev = sim_flash_dev(flash);
    b->mode = BOARD_MODE_OFF;
    b->cold = true;
    /* Count flash operations from here: --install is not part of the run. */
    sim_flash_reset_stats(flash);
    if (cfg->power_cut_op)
        sim_flash_cut_at(flash, cfg->power_cut_op, cfg->power_cut_phase);
    return b;
}

void board_free(board_t *b)
{
    free(b);
}

/* SRAM content after power-up is undefined: make the request block so. */
static void ram_garbage(board_t *b)
{
    b->ram_req.magic = (uint32_t)rand() ^ ((uint32_t)rand() << 16);
    b->ram_req.request = (uint32_t)rand();
    b->ram_req.check = (uint32_t)rand() ^ 0x5a5a5a5au;
}

/* Step 1 of the start-up flow, then the personality it selects. */
static bool boot(board_t *b)
{
    if (b->cold) {
        ram_garbage(b);
        b->st.power_ons++;
        b->cold = false;
    }
    boot_request_t req = boot_request_get(&b->ram_req);
    boot_image_info_t info;
    memset(&info, 0, sizeof(info));
    boot_decision_t d = bootloader_decide(&b->ram_req, &b->fdev, &info);
    const char *why = boot_why_name(d.why);
    if (d.action == BOOT_START_APP) {
        EVENT(b, "boot: request %s, slot: valid image v%u.%u.%u -> start the application (%s)\n",
              boot_request_name(req), info.hdr.version.major, info.hdr.version.minor,
              info.hdr.version.patch, why);
        demo_app_config_t ac = {.flash = &b->fdev, .serial = b->cfg.serial};
        if (!demo_app_usb_init(&ac))
            return false;
        b->mode = BOARD_MODE_APP;
        b->st.app_starts++;
    } else {
        if (d.action == BOOT_ENTER_ROM_BOOTLOADER)
            EVENT(b, "boot: ST's ROM bootloader is not modelled; our bootloader runs instead\n");
        EVENT(b, "boot: request %s, slot: %s -> stay in DFU mode (%s)\n", boot_request_name(req),
              d.validation == BOOT_VALID ? "valid image" : boot_validate_reason_name(d.validation),
              why);
        bootloader_config_t bc = {
            .flash = &b->fdev,
            .serial = b->cfg.serial,
            .xfer_buf = b->xfer_buf,
            .xfer_buf_size = sizeof(b->xfer_buf),
            .ops_in_poll = true,
            .poll_scale_div = b->cfg.fast ? FAST_POLL_DIV : 0,
        };
        if (!bootloader_usb_init(&bc))
            return false;
        b->mode = BOARD_MODE_BOOTLOADER;
        b->st.dfu_starts++;
    }
    usbd_connect();
    return true;
}

bool board_power_on(board_t *b)
{
    b->cold = true;
    sim_flash_power_on(b->flash);
    EVENT(b, "power on\n");
    return boot(b);
}

/* The firmware asked for a system reset: USB off, RAM kept. */
static void system_reset(board_t *b, boot_request_t req)
{
    boot_request_set(&b->ram_req, req);
    usbd_disconnect();
    b->mode = BOARD_MODE_OFF;
    b->st.system_resets++;
    b->on_at_ms = now_ms() + (b->cfg.fast ? RESET_OFF_MS_FAST : RESET_OFF_MS);
    EVENT(b, "system reset with request %s\n", boot_request_name(req));
}

/* Power gone (cut or cable out): the device vanishes mid-whatever. */
static void power_loss(board_t *b, unsigned off_ms, const char *what)
{
    usbd_disconnect();
    if (sim_flash_powered(b->flash))
        sim_flash_power_off(b->flash);
    b->mode = BOARD_MODE_OFF;
    b->cold = true;
    b->on_at_ms = now_ms() + off_ms;
    EVENT(b, "%s: the board is off for %u ms\n", what, off_ms);
}

void board_step(void *user)
{
    board_t *b = user;
    switch (b->mode) {
    case BOARD_MODE_OFF:
        if (now_ms() >= b->on_at_ms) {
            if (b->cold) {
                sim_flash_power_on(b->flash);
                EVENT(b, "power on\n");
            }
            if (!boot(b)) {
                fprintf(stderr, "h7dfu-sim: the board does not boot\n");
                exit(70);
            }
        }
        return;
    case BOARD_MODE_BOOTLOADER:
        if (bootloader_task() && sim_flash_powered(b->flash))
            system_reset(b, bootloader_leave_request(&b->fdev));
        break;
    case BOARD_MODE_APP:
        if (demo_app_task())
            system_reset(b, BOOT_REQ_STAY_IN_DFU);
        break;
    }
    if (b->mode != BOARD_MODE_OFF && !sim_flash_powered(b->flash)) {
        sim_flash_stats_t fs;
        sim_flash_get_stats(b->flash, &fs);
        b->st.power_cuts++;
        char what[96];
        snprintf(what, sizeof(what), "POWER CUT at flash operation %llu",
                 (unsigned long long)fs.ops);
        power_loss(b, b->cfg.power_off_ms, what);
        return;
    }
    if (b->mode != BOARD_MODE_OFF && b->cfg.unplug_after_requests && !b->unplugged && b->count &&
        b->count(b->count_user) >= b->cfg.unplug_after_requests) {
        b->unplugged = true;
        b->st.unplugs++;
        char what[96];
        snprintf(what, sizeof(what), "UNPLUGGED after %u USB requests",
                 b->cfg.unplug_after_requests);
        power_loss(b, b->cfg.unplug_ms, what);
    }
}

void board_set_request_counter(board_t *b, unsigned (*count)(void *user), void *user)
{
    b->count = count;
    b->count_user = user;
}

board_mode_t board_mode(const board_t *b)
{
    return b->mode;
}

void board_get_stats(const board_t *b, board_stats_t *st)
{
    *st = b->st;
}

volatile boot_request_block_t *board_request_block(board_t *b)
{
    return &b->ram_req;
}
