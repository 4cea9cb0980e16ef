/*
 * The virtual board's life cycle (see board.h): power, resets, the boot
 * decision and the personality it selects, and the injected faults.
 */
#include "board.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bl_ident.h"
#include "bootloader.h"
#include "dcd_sim.h"
#include "elf_syms.h"
#include "h743.h"
#include "otg_fs.h"
#include "sim_usb_bridge.h"
#include "demo_app.h"
#include "dfu.h"
#include "h7_app.h"
#include "rom.h"
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
    uint8_t block_bufs[BOOTLOADER_BLOCK_BUFS * H7_DFU_XFER_MAX];
    /* ROM boards (cfg.rom): option bytes (flash-backed on the chip), the
     * injected fault, and the ROM's serial number in ST's format. */
    uint8_t ob[ROM_OB_SIZE];
    rom_fault_t fault;
    char rom_serial[13];
    char last_note[160];
    /* emulated chip (cfg.firmware) */
    h743_t *chip;
    elf_syms_t *syms;
    uint32_t vtor_seen;
    bool sim_failed;
    /* ROM boards: this boot ran the h7dfu bootloader found in sector 0 (its
     * application then asks it, not the ROM, for updates) */
    bool h7bl;
};

/* Virtual time one board step lets the emulated core run at most. */
#define CHIP_SLICE_NS 1000000ull

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
    case BOARD_MODE_ROM:
        return "ST ROM bootloader (DFU mode)";
    case BOARD_MODE_HUNG:
        return "hung (not on USB)";
    }
    return "?";
}

/* The chip's unique ID from the serial: 24 hex digits are taken as they
 * are (the firmware prints the UID as its serial, port/stm32h743/uid.c), any
 * other string is hashed into one. */
static void uid_from_serial(const char *serial, uint32_t uid[3])
{
    size_t n = strlen(serial);
    bool hex = n == 24;
    for (size_t i = 0; hex && i < n; i++) {
        hex = (serial[i] >= '0' && serial[i] <= '9') || (serial[i] >= 'A' && serial[i] <= 'F');
    }
    if (hex) {
        for (unsigned w = 0; w < 3; w++) {
            char part[9];
            memcpy(part, serial + 8 * w, 8);
            part[8] = '\0';
            uid[w] = (uint32_t)strtoul(part, NULL, 16);
        }
        return;
    }
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *p = serial; *p; p++) {
        h = (h ^ (uint8_t)*p) * 16777619u;
    }
    uid[0] = 0x00300028u;
    uid[1] = h;
    uid[2] = h * 2654435761u;
}

static bool chip_new(board_t *b)
{
    if (!b->cfg.clock) {
        return false;
    }
    b->syms = elf_syms_new();
    if (!b->syms || elf_syms_add_file(b->syms, b->cfg.firmware) != 0 ||
        (b->cfg.app_elf && elf_syms_add_file(b->syms, b->cfg.app_elf) != 0)) {
        fprintf(stderr, "h7dfu-sim: %s: not a readable 32-bit ELF\n",
                b->cfg.app_elf ? b->cfg.app_elf : b->cfg.firmware);
        return false;
    }
    h743_config_t hc = {.clock = b->cfg.clock,
                        .flash = b->flash,
                        .symbols = b->syms,
                        .no_usb_supply = b->cfg.no_usb_supply,
                        .flash_stuck_op = b->cfg.flash_stuck_op};
    uid_from_serial(b->cfg.serial, hc.uid);
    b->chip = h743_new(&hc);
    return b->chip != NULL;
}

board_t *board_new(const board_config_t *cfg, sim_flash_t *flash)
{
    if (!cfg || !flash || !cfg->serial) {
        return NULL;
    }
    board_t *b = calloc(1, sizeof(*b));
    if (!b) {
        return NULL;
    }
    b->cfg = *cfg;
    if (!b->cfg.power_off_ms) {
        b->cfg.power_off_ms = POWER_OFF_MS;
    }
    if (!b->cfg.unplug_ms) {
        b->cfg.unplug_ms = UNPLUG_MS;
    }
    b->flash = flash;
    b->fdev = sim_flash_dev(flash);
    b->mode = BOARD_MODE_OFF;
    b->cold = true;
    /* Count flash operations from here: --install is not part of the run. */
    sim_flash_reset_stats(flash);
    if (cfg->power_cut_op) {
        sim_flash_cut_at(flash, cfg->power_cut_op, cfg->power_cut_phase);
    }
    if (cfg->flip_op) {
        sim_flash_flip_after(flash, cfg->flip_op, cfg->flip_delay);
    }
    /* Every H743 has ST's ROM: ROM boards boot it by BOOT0 / BOOT_ADD, the
     * others when the bootloader hands over to it (ENTER_ROM_BOOTLOADER). */
    if (cfg->option_bytes) {
        memcpy(b->ob, cfg->option_bytes, sizeof(b->ob));
    } else {
        /* No option bytes kept: those of the flash as it was saved (its
         * write protection, which the flash file keeps). */
        rom_ob_factory(b->ob);
        uint8_t wrp = 0;
        for (unsigned s = 0; s < 8u; s++) {
            wrp |= (uint8_t)(sim_flash_is_write_protected(flash, s) << s);
        }
        rom_ob_set_wrp_bank1(b->ob, wrp);
    }
    b->fault.fail_block = cfg->rom_fail_block;
    b->fault.status = cfg->rom_fail_status;
    /* A unique ID per serial: the ROM's serial differs from the app's, as on
     * a real board. */
    uint32_t uid[3] = {0x00200036u, 0x50000000u, 0x20000000u};
    for (const char *p = cfg->serial; *p; p++) {
        uid[1] = uid[1] * 31u + (uint8_t)*p;
    }
    rom_serial_from_uid(uid, b->rom_serial);
    if (cfg->firmware && !chip_new(b)) {
        board_free(b);
        return NULL;
    }
    return b;
}

void board_free(board_t *b)
{
    if (!b) {
        return;
    }
    h743_free(b->chip);
    elf_syms_free(b->syms);
    free(b);
}

/* SRAM content after power-up is undefined: make the request block so. */
static void ram_garbage(board_t *b)
{
    b->ram_req.magic = (uint32_t)rand() ^ ((uint32_t)rand() << 16);
    b->ram_req.request = (uint32_t)rand();
    b->ram_req.check = (uint32_t)rand() ^ 0x5a5a5a5au;
}

static bool rom_board_boot(board_t *b);
static void rom_leave_jump(board_t *b, uint32_t addr);
static bool start_rom(board_t *b, const char *why);

static bool run_h7_bootloader(board_t *b);

/* Power-on or reset: the emulated chip, the ROM board's boot pins, or the
 * h7dfu bootloader. */
/* The option bytes take effect at reset (RM0433 4.4.3 "Option byte loading"):
 * FLASH_WPSN_CUR1R's cleared bits are the write-protected bank-1 sectors,
 * which the flash then refuses to erase or program (WRPERR, 4.7.2) for the
 * bootloader and the application. ST's ROM (sim/board/rom.c) keeps the
 * protection from the option bytes itself, with the level regression's
 * mass erase that it does not stop: none in the flash model while it runs. */
static void load_option_bytes(board_t *b, bool rom)
{
    uint8_t wrp = rom ? 0u : rom_ob_wrp_bank1(b->ob);
    for (unsigned s = 0; s < 8u; s++) {
        sim_flash_set_write_protect(b->flash, s, (wrp >> s) & 1u);
    }
}

static bool boot(board_t *b)
{
    load_option_bytes(b, false);
    if (b->chip) {
        /* The emulated chip boots the bootloader in its flash: the decision
         * is the firmware's own. */
        b->st.power_ons++;
        b->cold = false;
        b->vtor_seen = 0;
        b->mode = BOARD_MODE_BOOTLOADER;
        return h743_power_on(b->chip);
    }
    if (b->cold) {
        ram_garbage(b);
        b->st.power_ons++;
        b->cold = false;
    }
    if (b->cfg.rom) {
        return rom_board_boot(b);
    }
    return run_h7_bootloader(b);
}

/* The h7dfu bootloader's reset: step 1 of the start-up flow
 * (bootloader_decide, the firmware's own C code), then the personality it
 * selects. */
static bool run_h7_bootloader(board_t *b)
{
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
        if (!demo_app_usb_init(&ac)) {
            return false;
        }
        b->mode = BOARD_MODE_APP;
        b->st.app_starts++;
    } else if (d.action == BOOT_ENTER_ROM_BOOTLOADER) {
        /* The bootloader's hand-over, from the reset state: a jump to ST's
         * system memory (firmware/bootloader/main.c h743_early_boot). */
        return start_rom(b, "request ENTER_ROM_BOOTLOADER: the h7dfu bootloader jumps to ST's "
                            "system memory (0x1FF09800)");
    } else {
        EVENT(b, "boot: request %s, slot: %s -> stay in DFU mode (%s)\n", boot_request_name(req),
              d.validation == BOOT_VALID ? "valid image" : boot_validate_reason_name(d.validation),
              why);
        bootloader_config_t bc = {
            .flash = &b->fdev,
            .serial = b->cfg.serial,
            .xfer_buf = b->xfer_buf,
            .xfer_buf_size = sizeof(b->xfer_buf),
            .block_bufs = b->block_bufs,
            .block_buf_count = BOOTLOADER_BLOCK_BUFS,
            .ops_in_poll = true,
            .poll_scale_div = b->cfg.fast ? FAST_POLL_DIV : (uint16_t)b->cfg.poll_div,
            .boot = &d,
            .boot_info = &info,
            .locked = b->cfg.locked,
        };
        if (!bootloader_usb_init(&bc)) {
            return false;
        }
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

/* The firmware asked for a system reset: USB off, RAM kept. BOOT_REQ_NONE:
 * the request block is left as the firmware wrote it. */
static void system_reset(board_t *b, boot_request_t req)
{
    if (req != BOOT_REQ_NONE) {
        boot_request_set(&b->ram_req, req);
    }
    usbd_disconnect();
    b->mode = BOARD_MODE_OFF;
    b->st.system_resets++;
    b->on_at_ms = now_ms() + (b->cfg.fast ? RESET_OFF_MS_FAST : RESET_OFF_MS);
    EVENT(b, "system reset with request %s\n", boot_request_name(boot_request_get(&b->ram_req)));
}

/* Power gone (cut or cable out): the device vanishes mid-whatever. */
static void power_loss(board_t *b, unsigned off_ms, const char *what)
{
    if (b->chip) {
        h743_power_off(b->chip);
    } else {
        usbd_disconnect();
    }
    if (sim_flash_powered(b->flash)) {
        sim_flash_power_off(b->flash);
    }
    b->mode = BOARD_MODE_OFF;
    b->cold = true;
    b->on_at_ms = now_ms() + off_ms;
    EVENT(b, "%s: the board is off for %u ms\n", what, off_ms);
}

/* Which image runs, from the vector table in use; counts the starts. */
static void chip_track_image(board_t *b)
{
    uint32_t vtor = h743_vtor(b->chip);
    if (vtor == b->vtor_seen) {
        return;
    }
    b->vtor_seen = vtor;
    if (vtor >= BOOT_APP_SLOT_ADDR && vtor < 0x08200000u) {
        b->mode = BOARD_MODE_APP;
        b->st.app_starts++;
        EVENT(b,
              "boot: the bootloader started the application (vector table 0x%08x) at core "
              "cycle %llu\n",
              vtor, (unsigned long long)h743_cycles(b->chip));
    } else {
        b->mode = BOARD_MODE_BOOTLOADER;
        b->st.dfu_starts++;
    }
}

/* One slice of the emulated core, and what it did. */
static void chip_step(board_t *b)
{
    uint64_t now = sim_clock_now_ns(b->cfg.clock);
    h743_event_t ev = h743_run(b->chip, now + CHIP_SLICE_NS);
    switch (ev) {
    case H743_RAN:
    case H743_IDLE:
        break;
    case H743_RESET:
        b->st.system_resets++;
        b->vtor_seen = 0;
        EVENT(b, "system reset (SYSRESETREQ by the firmware)\n");
        break;
    case H743_POWER_LOST:
        break; /* board_step handles the cut */
    case H743_HALTED: {
        /* A lockup is the firmware's doing and a jump into ST's ROM is
         * where the model ends: both are outcomes a test may expect. Any
         * other halt is something the chip model does not carry. */
        bool gap = h743_halt_is_model_gap(b->chip), rom = h743_halt_is_rom(b->chip);
        if (gap) {
            b->sim_failed = true;
        }
        fprintf(stderr, "h7dfu-sim: %s: %s\n",
                gap   ? "emulated firmware stopped"
                : rom ? "the firmware handed over to ST's ROM bootloader"
                      : "the emulated core locked up",
                h743_halt_reason(b->chip));
        b->mode = BOARD_MODE_HUNG;
        EVENT(b, "board hung: nothing on USB until power is cycled\n");
        return;
    }
    }
    chip_track_image(b);
}

uint64_t board_next_event_ns(void *user)
{
    board_t *b = user;
    return b->chip && (b->mode == BOARD_MODE_BOOTLOADER || b->mode == BOARD_MODE_APP)
               ? h743_next_event_ns(b->chip)
               : 0;
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
        if (b->chip) {
            chip_step(b);
            break;
        }
        if (bootloader_task() && sim_flash_powered(b->flash)) {
            system_reset(b, bootloader_leave_request(&b->fdev));
        }
        break;
    case BOARD_MODE_APP:
        if (b->chip) {
            chip_step(b);
            break;
        }
        if (demo_app_task()) {
            if (b->cfg.rom && !b->h7bl) {
                /* No h7dfu bootloader: the app library's ROM hand-over. */
                h7_app_enter_rom_bootloader(&b->ram_req, NULL);
                system_reset(b, BOOT_REQ_NONE);
            } else {
                system_reset(b, BOOT_REQ_STAY_IN_DFU);
            }
        }
        break;
    case BOARD_MODE_ROM:
        switch (rom_task()) {
        case ROM_EV_JUMP:
            rom_leave_jump(b, rom_jump_address());
            break;
        case ROM_EV_RESET:
            if (rom_last_note()[0] && strcmp(rom_last_note(), b->last_note) != 0) {
                snprintf(b->last_note, sizeof(b->last_note), "%s", rom_last_note());
                EVENT(b, "%s\n", b->last_note);
            }
            EVENT(b, "ROM: option bytes applied / read unprotect done: system reset\n");
            system_reset(b, BOOT_REQ_NONE);
            break;
        case ROM_EV_NONE:
            if (rom_last_note()[0] && strcmp(rom_last_note(), b->last_note) != 0) {
                snprintf(b->last_note, sizeof(b->last_note), "%s", rom_last_note());
                EVENT(b, "%s\n", b->last_note);
            }
            break;
        }
        break;
    case BOARD_MODE_HUNG:
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

const uint8_t *board_option_bytes(const board_t *b)
{
    return b->ob;
}

/* ---- emulated chip: the bridge talks to its OTG_FS model ---- */

static bool otg_connected(void *dev)
{
    return otg_fs_host_connected(dev);
}
static unsigned otg_epoch(void *dev)
{
    return otg_fs_host_connect_epoch(dev);
}
static void otg_bus_reset(void *dev)
{
    otg_fs_host_bus_reset(dev);
}
static uint8_t otg_address(void *dev)
{
    return otg_fs_host_address(dev);
}
static int otg_control_start(void *dev, const uint8_t setup[8], uint8_t *data)
{
    return otg_fs_host_control_start(dev, setup, data);
}
static int otg_control_result(void *dev, uint16_t *actual)
{
    return otg_fs_host_control_result(dev, actual);
}
static void otg_control_cancel(void *dev)
{
    otg_fs_host_control_cancel(dev);
}
static const sim_usb_device_ops_t otg_ops = {
    .connected = otg_connected,
    .connect_epoch = otg_epoch,
    .bus_reset = otg_bus_reset,
    .address = otg_address,
    .control_start = otg_control_start,
    .control_result = otg_control_result,
    .control_cancel = otg_control_cancel,
};

const struct sim_usb_device_ops *board_usb_ops(board_t *b, void **dev)
{
    if (!b->chip) {
        return NULL;
    }
    *dev = h743_otg(b->chip);
    return &otg_ops;
}

bool board_sim_failed(const board_t *b)
{
    return b->sim_failed;
}

/* ---- ROM boards (cfg.rom): no h7dfu bootloader, ST's ROM (rom.h) ---- */

static void hang(board_t *b, const char *why)
{
    usbd_disconnect();
    b->mode = BOARD_MODE_HUNG;
    EVENT(b, "%s\n", why);
}

static bool start_rom(board_t *b, const char *why)
{
    EVENT(b, "boot: %s -> ST's ROM bootloader (DFU in FS Mode, serial %s)\n", why, b->rom_serial);
    rom_config_t rc = {.flash = &b->fdev,
                       .ob = b->ob,
                       .fault = &b->fault,
                       .serial = b->rom_serial,
                       .fast = b->cfg.fast};
    b->last_note[0] = '\0';
    load_option_bytes(b, true);
    if (!rom_usb_init(&rc)) {
        return false;
    }
    b->mode = BOARD_MODE_ROM;
    b->st.rom_starts++;
    usbd_connect();
    return true;
}

static void jump_recorded(uint32_t vector_table)
{
    (void)vector_table; /* the board starts the ROM itself (start_rom) */
}

/* What sector 0 holds, for the code at 0x08000000. */
typedef enum sector0 {
    SECTOR0_OTHER = 0,  /* no h7dfu bootloader identity: an application, or nothing */
    SECTOR0_H7BL,       /* the h7dfu bootloader, whole */
    SECTOR0_H7BL_BROKEN /* its identity, but the image is not whole (a cut write) */
} sector0_t;

/* The h7dfu bootloader is recognised by its identity (core/boot/bl_ident.h).
 * It is whole when no word of [0x08000000, + image_size) is half programmed
 * (ECC error) and the image's last flash word is programmed: the ROM, as
 * every programmer, writes in ascending address order, so a write cut short
 * leaves the end erased. A board without --rom has the bootloader model as
 * its sector 0 whatever the flash holds there. */
static sector0_t sector0(board_t *b, h7_bl_ident_t *id)
{
    if (!b->cfg.rom) {
        return SECTOR0_H7BL;
    }
    const flash_map_t *m = sim_flash_map(b->flash);
    const uint8_t *raw = sim_flash_raw(b->flash) + (H7_BL_BASE - m->base);
    memset(id, 0, sizeof(*id));
    h7_bl_check_t c = h7_bl_check(raw, H7_BL_SECTOR_SIZE, id);
    if (c == H7_BL_NO_IDENT) {
        return SECTOR0_OTHER;
    }
    if (c != H7_BL_OK) {
        return SECTOR0_H7BL_BROKEN;
    }
    for (uint32_t off = 0; off < id->image_size; off += m->word_size) {
        if (sim_flash_word_state(b->flash, H7_BL_BASE + off) == SIM_WORD_ECC_CORRUPT) {
            return SECTOR0_H7BL_BROKEN;
        }
    }
    uint32_t last = H7_BL_BASE + ((id->image_size - 1u) & ~(m->word_size - 1u));
    return sim_flash_word_state(b->flash, last) == SIM_WORD_PROGRAMMED ? SECTOR0_H7BL
                                                                       : SECTOR0_H7BL_BROKEN;
}

static const char broken_bl[] =
    "the h7dfu bootloader in sector 0 is only partly written (its write was cut): the core "
    "runs into erased or corrupt flash and faults; the board is INVISIBLE on USB until it is "
    "started with BOOT0 high (ST's ROM) and sector 0 is written again";

/* Reset or power-on of a ROM board: the core boots from BOOT_ADD0 (BOOT0 pin
 * low) or BOOT_ADD1 (high), RM0433 "Boot configuration". The H74x has no
 * empty-flash check (AN2606 pattern 10): erased flash at BOOT_ADD0 is run
 * like any code, i.e. the core faults and nothing appears on USB. */
static bool rom_board_boot(board_t *b)
{
    uint32_t addr = rom_ob_boot_addr(b->ob, b->cfg.boot0);
    char why[200];
    snprintf(why, sizeof(why), "BOOT0 %s, BOOT_ADD%d = 0x%08x", b->cfg.boot0 ? "high" : "low",
             b->cfg.boot0 ? 1 : 0, addr);
    b->h7bl = false;
    if (addr >= ROM_SYSMEM_BASE && addr < ROM_SYSMEM_BASE + ROM_SYSMEM_SIZE) {
        return start_rom(b, why);
    }
    h7_bl_ident_t id;
    sector0_t s0 = addr == H7_BL_BASE ? sector0(b, &id) : SECTOR0_OTHER;
    if (s0 == SECTOR0_H7BL) {
        /* The h7dfu bootloader's own C code runs (compiled for the host),
         * as on a board without --rom. */
        EVENT(b, "boot: %s -> the h7dfu bootloader v%u.%u in sector 0 (%u bytes)\n", why, id.major,
              id.minor, id.image_size);
        b->h7bl = true;
        return run_h7_bootloader(b);
    }
    if (s0 == SECTOR0_H7BL_BROKEN) {
        char msg[480];
        snprintf(msg, sizeof(msg), "boot: %s: %s", why, broken_bl);
        hang(b, msg);
        return true;
    }
    if (!rom_vector_plausible(&b->fdev, addr)) {
        char msg[480];
        snprintf(msg, sizeof(msg),
                 "boot: %s: no valid vector table there (erased or partly written flash); the "
                 "core faults and the board stays INVISIBLE on USB until BOOT0 is set high or "
                 "the flash is reprogrammed (the field failure's board)",
                 why);
        hang(b, msg);
        return true;
    }
    /* The application's Reset_Handler, first thing: the ROM hand-over of the
     * app library, taken from the reset state. */
    if (h7_app_early_init_check(&b->ram_req, jump_recorded)) {
        char w2[260];
        snprintf(w2, sizeof(w2), "%s, application's early check found ENTER_ROM_BOOTLOADER", why);
        return start_rom(b, w2);
    }
    EVENT(b, "boot: %s -> the application at 0x%08x (started from reset)\n", why, addr);
    demo_app_config_t ac = {.flash = &b->fdev, .serial = b->cfg.serial};
    if (!demo_app_usb_init(&ac)) {
        return false;
    }
    b->mode = BOARD_MODE_APP;
    b->st.app_starts++;
    usbd_connect();
    return true;
}

/* The ROM's leave: a jump to addr WITHOUT a reset (AN3156 "Leave DFU mode").
 * The code there finds the ROM's USB (OTG_FS on, pull-up on, its FIFOs), its
 * clock tree and its interrupts as the ROM left them. */
/* h7_app_ensure_clean_start() takes a plain reset function. */
static board_t *s_app_reset_board;
static void app_reset(void)
{
    system_reset(s_app_reset_board, BOOT_REQ_NONE);
}

static void rom_leave_jump(board_t *b, uint32_t addr)
{
    b->st.rom_jumps++;
    EVENT(b, "ROM: leave: jump to 0x%08x without a reset\n", addr);
    h7_bl_ident_t id;
    sector0_t s0 = addr == H7_BL_BASE ? sector0(b, &id) : SECTOR0_OTHER;
    if (s0 == SECTOR0_H7BL) {
        /* Its main() finds the chip as the ROM left it (h743_started_dirty)
         * and resets: the boot decision then runs from a clean reset. */
        EVENT(b, "h7dfu bootloader: started without a reset (the ROM's state): it resets "
                 "itself\n");
        system_reset(b, BOOT_REQ_NONE);
        return;
    }
    if (s0 == SECTOR0_H7BL_BROKEN) {
        hang(b, broken_bl);
        return;
    }
    if (!rom_vector_plausible(&b->fdev, addr)) {
        hang(b,
             "ROM: no valid vector table at the jump address: the core faults; the board is "
             "INVISIBLE on USB until power is cycled with BOOT0 high (the field failure's board)");
        return;
    }
    if (b->cfg.rom_app_naive) {
        hang(b, "app (naive): started by the ROM's jump, its USB init runs on the ROM's "
                "leftover OTG_FS and clock state and fails: the device NEVER enumerates; a "
                "power cycle starts it from reset (the field failure's missing HID device)");
        return;
    }
    /* The demo app's first call (firmware/demo-app/main.c): the app library's
     * check, fed what the port would read after the ROM's jump (its OTG_FS
     * clock is on: h743_started_dirty() is true). */
    EVENT(b, "app: started without a reset (stale USB/clock state from the ROM): it resets "
             "itself\n");
    s_app_reset_board = b;
    h7_app_ensure_clean_start(true, app_reset);
}
