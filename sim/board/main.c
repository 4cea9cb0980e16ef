/*
 * h7dfu-sim: the virtual STM32H743 board, served on a fake USB bus to
 * unmodified libusb programs.
 *
 *   h7dfu-sim [OPTIONS] run -- COMMAND...
 *
 * The board (board.h) runs the same boot decision as the real bootloader at
 * every power-on and reset, and comes up as our DfuSe bootloader or as the
 * demo application (HID + DFU run-time), both compiled from the firmware's
 * portable sources. COMMAND runs under umockdev with the board on bus 1
 * (sim/usb); h7dfu-sim exits with COMMAND's status and saves the flash.
 * With --board, several boards share the bus (multi.h).
 *
 *   h7dfu-sim flash dump|poke|protect|info FILE ...
 *
 * reads or changes a flash file without a board run (flash_cmd.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h7_sign.h"

#include "board.h"
#include "board_install.h"
#include "dfu.h"
#include "flash_cmd.h"
#include "image_header.h"
#include "rom.h"
#include "sim_clock.h"
#include "sim_flash.h"
#include "foreign_dfu.h"
#include "multi.h"
#include "sim_usb_bridge.h"

static int usage(FILE *f, int code)
{
    fprintf(
        f,
        "usage: h7dfu-sim [OPTIONS] run -- COMMAND...\n"
        "       h7dfu-sim --board SPEC [--board SPEC]... [OPTIONS] run -- COMMAND...\n"
        "       h7dfu-sim flash dump|poke|protect|info FILE ...  (h7dfu-sim flash --help)\n"
        "  --flash FILE        flash contents, loaded at start (erased if missing), saved at exit\n"
        "  --install FILE      factory-program FILE (ELF, hex, srec, dfu; raw .bin at 0x%08x)\n"
        "                      into the flash before starting, as over SWD\n"
        "  --bootloader FILE   put the bootloader image (.bin at 0x08000000) into sector 0;\n"
        "                      the sim runs the bootloader's C code (on a --rom board\n"
        "                      only when sector 0 holds the whole h7dfu bootloader)\n"
        "  --firmware ELF      run the firmware itself on an emulated Cortex-M7 with\n"
        "                      register models of the H743: ELF (the bootloader that\n"
        "                      `make firmware` builds) is put into sector 0 and booted;\n"
        "                      an application ELF given with --install runs the same way\n"
        "  --signing-key KEY   the bootloader is the signed one: it starts only images\n"
        "                      signed with KEY (PEM, public or private) whose security\n"
        "                      counter is not below the last started one's\n"
        "  --serial S          USB serial number (default H7SIM0001); with --firmware the\n"
        "                      chip's unique ID: 24 hex digits are used as they are\n"
        "  --fast              tiny bwPollTimeout and reset delays\n"
        "  --power-cut N[:before|during|after]\n"
        "                      cut the power at the Nth flash operation of this run\n"
        "                      (default: during); the board is back after --power-off-ms\n"
        "  --power-off-ms MS   off time after a power cut (default 200)\n"
        "  --no-usb-supply     --firmware: the board's VDD33USB is missing (USB33RDY\n"
        "                      never comes)\n"
        "  --flip-bit N[:DELAY]\n"
        "                      flash operation N (a program) reports success but leaves\n"
        "                      one bit of its word wrong; DELAY operations later if given\n"
        "  --flash-log FILE    every flash operation of the run, one line each\n"
        "  --flash-stuck N     --firmware: the flash controller's Nth program or erase\n"
        "                      never ends (BSY stays set until a reset)\n"
        "  --flash-times typ|max|worn\n"
        "                      flash program/erase times: DS12110 typical (default),\n"
        "                      maximum, or worn (twice the maximum: aged sectors)\n"
        "  --unplug-after-requests N\n"
        "                      pull the cable once N USB requests were served; the\n"
        "                      board is plugged back after --unplug-ms (default 500)\n"
        "  --rom               a board with ST's ROM bootloader: boots 0x08000000 (BOOT_ADD0):\n"
        "                      the h7dfu bootloader when sector 0 holds it whole, else\n"
        "                      the app there; BOOT0 high: the ROM (0483:df11);\n"
        "                      --install puts a raw .bin at 0x08000000;\n"
        "                      option bytes are kept in FILE.ob next to --flash FILE\n"
        "  --locked            the bootloader's locked configuration: DFU UPLOAD of\n"
        "                      memory refused (docs/production.md)\n"
        "  --boot0             BOOT0 pin high (ROM board: start ST's ROM bootloader)\n"
        "  --rom-app-naive     the app does not survive the ROM's leave (jump, no reset)\n"
        "  --rom-fail-block N[:STATUS]\n"
        "                      the ROM fails the Nth data block of the run once with\n"
        "                      STATUS (errWRITE default, errTARGET, errPROG, ...)\n"
        "  --realtime[=SCALE]  virtual time passes at SCALE x real time (default 1): USB\n"
        "                      transfers and flash work take (scaled) real time, a\n"
        "                      GETSTATUS before the work is done answers dfuDNBUSY\n"
        "  --stats FILE        write the modeled times (virtual clock) to FILE at exit\n"
        "  --foreign-dfu-runtime\n"
        "                      a second device on the bus (bus 2): another maker's USB\n"
        "                      dock %04x:%04x serial %s with a DFU run-time interface;\n"
        "                      a DFU_DETACH restarts it in DFU mode\n"
        "  --board SPEC        one board of several on the bus (repeat it, up to %d): board k\n"
        "                      is on bus 1, port k (sysfs 1-k); each has its own flash,\n"
        "                      serial, personality, faults and virtual clock. SPEC:\n"
        "                        serial=S[,flash=FILE][,rom][,boot0][,firmware=ELF]\n"
        "                        [,install=FILE][,bootloader=FILE][,rom-app-naive]\n"
        "                        [,power-cut=N[:before|during|after]][,unplug=N]\n"
        "                        [,power-off-ms=MS][,unplug-ms=MS]\n"
        "                      keys as the options of one board (unplug=N: after N\n"
        "                      requests); with --board only --fast, --flash-times,\n"
        "                      --power-off-ms, --unplug-ms, --stats, --events and -v\n"
        "                      apply, to every board; --stats then writes one JSON\n"
        "                      object per board and line (serial, path, modeled_s, ...)\n"
        "  --events            print the board's events (power, resets, boot decisions)\n"
        "  -v                  --events, usbfs requests, and statistics at exit\n"
        "Runs COMMAND with the virtual board on a fake USB bus (umockdev) and exits\n"
        "with COMMAND's status.\n"
        "h7dfu-sim flash reads and changes a flash file (--flash FILE) without a run:\n"
        "  flash dump FILE ADDR LEN [OUT]     LEN bytes at ADDR, raw, to OUT or stdout\n"
        "  flash poke FILE ADDR HEX|@IN       put bytes at ADDR (the words they touch\n"
        "                                     marked programmed)\n"
        "  flash protect FILE SECTOR on|off   a sector's write protection\n"
        "  flash info FILE                    protected sectors, words per sector\n",
        BOOT_APP_SLOT_ADDR, FOREIGN_DFU_VID, FOREIGN_DFU_PID, FOREIGN_DFU_SERIAL, MULTI_MAX_BOARDS);
    return code;
}

static bool parse_uint(const char *s, unsigned long long max, unsigned long long *out)
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

static bool parse_cut(const char *s, board_config_t *c)
{
    char num[32];
    const char *colon = strchr(s, ':');
    size_t n = colon ? (size_t)(colon - s) : strlen(s);
    unsigned long long v;
    if (n == 0 || n >= sizeof(num)) {
        return false;
    }
    memcpy(num, s, n);
    num[n] = '\0';
    if (!parse_uint(num, UINT64_MAX, &v) || v == 0) {
        return false;
    }
    c->power_cut_op = v;
    c->power_cut_phase = SIM_FLASH_PHASE_DURING;
    if (colon) {
        if (!strcmp(colon + 1, "before")) {
            c->power_cut_phase = SIM_FLASH_PHASE_BEFORE;
        } else if (!strcmp(colon + 1, "during")) {
            c->power_cut_phase = SIM_FLASH_PHASE_DURING;
        } else if (!strcmp(colon + 1, "after")) {
            c->power_cut_phase = SIM_FLASH_PHASE_AFTER;
        } else {
            return false;
        }
    }
    return true;
}

/* --flip-bit N[:DELAY] */
static bool parse_flip(const char *arg, board_config_t *c)
{
    char *end;
    errno = 0;
    c->flip_op = strtoull(arg, &end, 0);
    if (*end == ':') {
        c->flip_delay = strtoull(end + 1, &end, 0);
    }
    return !errno && !*end && c->flip_op != 0 && arg[0] != '-';
}

/* --rom-fail-block N[:STATUS] */
static bool parse_rom_fail(const char *arg, board_config_t *c)
{
    char num[32];
    const char *colon = strchr(arg, ':');
    size_t n = colon ? (size_t)(colon - arg) : strlen(arg);
    unsigned long long v;
    if (n == 0 || n >= sizeof(num)) {
        return false;
    }
    memcpy(num, arg, n);
    num[n] = '\0';
    if (!parse_uint(num, UINT32_MAX, &v) || v == 0 ||
        (colon && !rom_parse_status(colon + 1, &c->rom_fail_status))) {
        return false;
    }
    c->rom_fail_block = (uint32_t)v;
    return true;
}

/* The options, all before `run`. */
enum {
    OPT_BOARD = 256,
    OPT_FLASH,
    OPT_INSTALL,
    OPT_BOOTLOADER,
    OPT_FIRMWARE,
    OPT_SIGNING_KEY,
    OPT_SERIAL,
    OPT_FAST,
    OPT_POWER_CUT,
    OPT_POWER_OFF_MS,
    OPT_NO_USB_SUPPLY,
    OPT_FLIP_BIT,
    OPT_FLASH_LOG,
    OPT_FLASH_STUCK,
    OPT_FLASH_TIMES,
    OPT_UNPLUG_AFTER_REQUESTS,
    OPT_UNPLUG_MS,
    OPT_ROM,
    OPT_LOCKED,
    OPT_BOOT0,
    OPT_ROM_APP_NAIVE,
    OPT_ROM_FAIL_BLOCK,
    OPT_REALTIME,
    OPT_STATS,
    OPT_FOREIGN_DFU_RUNTIME,
    OPT_EVENTS,
};

static const struct option longopts[] = {
    {"flash", required_argument, NULL, OPT_FLASH},
    {"install", required_argument, NULL, OPT_INSTALL},
    {"bootloader", required_argument, NULL, OPT_BOOTLOADER},
    {"firmware", required_argument, NULL, OPT_FIRMWARE},
    {"signing-key", required_argument, NULL, OPT_SIGNING_KEY},
    {"serial", required_argument, NULL, OPT_SERIAL},
    {"fast", no_argument, NULL, OPT_FAST},
    {"power-cut", required_argument, NULL, OPT_POWER_CUT},
    {"power-off-ms", required_argument, NULL, OPT_POWER_OFF_MS},
    {"no-usb-supply", no_argument, NULL, OPT_NO_USB_SUPPLY},
    {"flip-bit", required_argument, NULL, OPT_FLIP_BIT},
    {"flash-log", required_argument, NULL, OPT_FLASH_LOG},
    {"flash-stuck", required_argument, NULL, OPT_FLASH_STUCK},
    {"flash-times", required_argument, NULL, OPT_FLASH_TIMES},
    {"unplug-after-requests", required_argument, NULL, OPT_UNPLUG_AFTER_REQUESTS},
    {"unplug-ms", required_argument, NULL, OPT_UNPLUG_MS},
    {"rom", no_argument, NULL, OPT_ROM},
    {"locked", no_argument, NULL, OPT_LOCKED},
    {"boot0", no_argument, NULL, OPT_BOOT0},
    {"rom-app-naive", no_argument, NULL, OPT_ROM_APP_NAIVE},
    {"rom-fail-block", required_argument, NULL, OPT_ROM_FAIL_BLOCK},
    {"realtime", optional_argument, NULL, OPT_REALTIME},
    {"stats", required_argument, NULL, OPT_STATS},
    {"foreign-dfu-runtime", no_argument, NULL, OPT_FOREIGN_DFU_RUNTIME},
    {"board", required_argument, NULL, OPT_BOARD},
    {"events", no_argument, NULL, OPT_EVENTS},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* The options that go with --board (they apply to every board); the others
 * are a single board's. */
static bool for_every_board(int c)
{
    switch (c) {
    case OPT_BOARD:
    case OPT_FAST:
    case OPT_FLASH_TIMES:
    case OPT_POWER_OFF_MS:
    case OPT_UNPLUG_MS:
    case OPT_STATS:
    case OPT_EVENTS:
    case 'v':
    case 'h':
        return true;
    default:
        return false;
    }
}

/* Each option is one whole word, as h7dfu-sim has always taken them, with
 * its value in the next word (--realtime=SCALE the one joined form):
 * getopt_long would also take an abbreviation (--inst), a value joined with
 * '=' and letters run together (-vh). lo: the long option getopt_long
 * matched, NULL for the letter c. */
static bool whole_word(const char *word, const struct option *lo, int c)
{
    if (lo == NULL) {
        return word[0] == '-' && word[1] == c && word[2] == '\0';
    }
    size_t n = strlen(lo->name);
    return strncmp(word, "--", 2) == 0 && strncmp(word + 2, lo->name, n) == 0 &&
           (word[2 + n] == '\0' || (word[2 + n] == '=' && lo->has_arg == optional_argument));
}

/* A bad option value: said; the exit status. */
static int bad_value(const char *opt, const char *arg, const char *want)
{
    fprintf(stderr, "h7dfu-sim: bad %s '%s'%s%s%s\n", opt, arg, want ? " (want " : "",
            want ? want : "", want ? ")" : "");
    return 2;
}

/* DS12110 gives typical and maximum program/erase times; it gives no
 * figure for aged sectors, which are reported slower still: "worn" charges
 * twice the maximum, a margin for the host's timeouts. */
static sim_flash_times_t flash_times_of(const char *which)
{
    sim_flash_times_t t = *sim_flash_ds12110_times(SIM_FLASH_X64, strcmp(which, "typ") != 0);
    if (!strcmp(which, "worn")) {
        t.prog_word_ns *= 2u;
        t.sector_erase_ns *= 2u;
        t.bank_erase_ns *= 2u;
    }
    return t;
}

static unsigned requests_served(void *user)
{
    sim_usb_bridge_stats_t st;
    sim_usb_bridge_get_stats(user, &st);
    return st.urbs;
}

static void print_stats(const board_t *b, const sim_flash_t *f, const sim_usb_bridge_t *br)
{
    board_stats_t bs;
    sim_flash_stats_t fs;
    sim_usb_bridge_stats_t us = {0};
    board_get_stats(b, &bs);
    sim_flash_get_stats(f, &fs);
    if (br) {
        sim_usb_bridge_get_stats(br, &us);
    }
    fprintf(stderr,
            "h7dfu-sim: board: %u power-on(s), %u system reset(s), %u app start(s), "
            "%u DFU start(s), %u power cut(s), %u unplug(s); now %s\n",
            bs.power_ons, bs.system_resets, bs.app_starts, bs.dfu_starts, bs.power_cuts, bs.unplugs,
            board_mode_name(board_mode(b)));
    fprintf(stderr,
            "h7dfu-sim: flash: %llu operation(s), %llu sector erase(s), %llu word(s) "
            "programmed, %llu refused, %llu ECC error(s), %.3f s busy (virtual)\n",
            (unsigned long long)fs.ops, (unsigned long long)fs.sector_erases,
            (unsigned long long)fs.words_programmed, (unsigned long long)fs.refused,
            (unsigned long long)fs.ecc_errors, (double)fs.busy_ns / 1e9);
    fprintf(stderr, "h7dfu-sim: usb: %u enumeration(s), %u request(s), %u port reset(s)\n",
            us.enumerations, us.urbs, us.resets);
}

/* The device's microsecond clock: virtual time in its units. */
typedef struct dev_clock {
    sim_clock_t *clock;
    unsigned div;
} dev_clock_t;

static unsigned time_div = 1;

static uint32_t dev_clock_us(void *user)
{
    const dev_clock_t *d = user;
    return (uint32_t)(sim_clock_now_ns(d->clock) / SIM_NS_PER_US / d->div);
}

/* The modeled times: key=value lines (bench/run.sh reads them). */
static int write_timing(const char *path, bool verbose, const sim_clock_t *c, const sim_flash_t *f,
                        const sim_usb_bridge_t *br)
{
    sim_flash_stats_t fs;
    sim_usb_bridge_stats_t us = {0};
    sim_flash_get_stats(f, &fs);
    if (br) {
        sim_usb_bridge_get_stats(br, &us);
    }
    if (verbose) {
        fprintf(stderr,
                "h7dfu-sim: time (virtual): %.3f s modeled, USB %.3f s, host waits %.3f s, "
                "flash busy %.3f s\n",
                (double)sim_clock_total_ns(c) / 1e9, (double)us.usb_ns / 1e9,
                (double)us.host_wait_ns / 1e9, (double)fs.busy_ns / 1e9);
    }
    if (path == NULL) {
        return 0;
    }
    FILE *o = fopen(path, "w");
    if (o == NULL) {
        return -1;
    }
    fprintf(o,
            "modeled_s=%.6f\nusb_s=%.6f\nhost_wait_s=%.6f\nflash_busy_s=%.6f\n"
            "sector_erases=%llu\nwords_programmed=%llu\nrequests=%u\n",
            (double)sim_clock_total_ns(c) / 1e9, (double)us.usb_ns / 1e9,
            (double)us.host_wait_ns / 1e9, (double)fs.busy_ns / 1e9,
            (unsigned long long)fs.sector_erases, (unsigned long long)fs.words_programmed, us.urbs);
    return fclose(o) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "flash")) {
        return flash_cmd_main(argc - 1, argv + 1);
    }
    const char *flash_file = NULL, *install = NULL, *bootloader = NULL;
    board_config_t bc = {.serial = "H7SIM0001"};
    bool verbose = false, events = false, foreign = false;
    unsigned realtime = 0;
    const char *stats_file = NULL;
    const char *flash_times = "typ";
    const char *flash_log = NULL;
    const char *signing_key = NULL;
    unsigned long long v;
    const char *specs[MULTI_MAX_BOARDS];
    size_t nspecs = 0;
    /* an option of the one board (not for --board) */
    const char *single = NULL;
    opterr = 0;
    for (;;) {
        int at = optind, li = -1;
        int c = getopt_long(argc, argv, "+hv", longopts, &li);
        if (c == -1 && optind > at) {
            return usage(stderr, 2); /* "--": only `run` ends the options */
        }
        if (c == -1) {
            break;
        }
        const char *word = argv[at];
        if (c == '?' || !whole_word(word, li >= 0 ? &longopts[li] : NULL, c)) {
            return usage(stderr, 2);
        }
        if (!single && !for_every_board(c)) {
            single = word;
        }
        switch (c) {
        case OPT_BOARD:
            if (nspecs == MULTI_MAX_BOARDS) {
                fprintf(stderr, "h7dfu-sim: at most %d --board options\n", MULTI_MAX_BOARDS);
                return 2;
            }
            specs[nspecs++] = optarg;
            break;
        case OPT_FLASH:
            flash_file = optarg;
            break;
        case OPT_INSTALL:
            install = optarg;
            break;
        case OPT_BOOTLOADER:
            bootloader = optarg;
            break;
        case OPT_FIRMWARE:
            bc.firmware = optarg;
            break;
        case OPT_SIGNING_KEY:
            signing_key = optarg;
            break;
        case OPT_SERIAL:
            bc.serial = optarg;
            break;
        case OPT_FAST:
            bc.fast = true;
            break;
        case OPT_POWER_CUT:
            if (!parse_cut(optarg, &bc)) {
                return bad_value(word, optarg, "N[:before|during|after]");
            }
            break;
        case OPT_POWER_OFF_MS:
        case OPT_UNPLUG_MS:
        case OPT_UNPLUG_AFTER_REQUESTS:
            if (!parse_uint(optarg, 600000, &v)) {
                return bad_value(word, optarg, NULL);
            }
            if (c == OPT_POWER_OFF_MS) {
                bc.power_off_ms = (unsigned)v ? (unsigned)v : 1u;
            } else if (c == OPT_UNPLUG_MS) {
                bc.unplug_ms = (unsigned)v ? (unsigned)v : 1u;
            } else {
                bc.unplug_after_requests = (unsigned)v;
            }
            break;
        case OPT_NO_USB_SUPPLY:
            bc.no_usb_supply = true;
            break;
        case OPT_FLIP_BIT:
            if (!parse_flip(optarg, &bc)) {
                return bad_value(word, optarg, "N[:DELAY]");
            }
            break;
        case OPT_FLASH_LOG:
            flash_log = optarg;
            break;
        case OPT_FLASH_STUCK:
            if (!parse_uint(optarg, UINT64_MAX, &v) || v == 0) {
                return bad_value(word, optarg, NULL);
            }
            bc.flash_stuck_op = v;
            break;
        case OPT_FLASH_TIMES:
            flash_times = optarg;
            if (strcmp(flash_times, "typ") && strcmp(flash_times, "max") &&
                strcmp(flash_times, "worn")) {
                return bad_value(word, optarg, "typ, max or worn");
            }
            break;
        case OPT_ROM:
            bc.rom = true;
            break;
        case OPT_LOCKED:
            bc.locked = true;
            break;
        case OPT_BOOT0:
            bc.boot0 = true;
            break;
        case OPT_ROM_APP_NAIVE:
            bc.rom_app_naive = true;
            break;
        case OPT_ROM_FAIL_BLOCK:
            if (!parse_rom_fail(optarg, &bc)) {
                return bad_value(word, optarg, "N[:STATUS]");
            }
            break;
        case OPT_REALTIME:
            realtime = 1;
            if (optarg && (!parse_uint(optarg, 1000000, &v) || v == 0)) {
                fprintf(stderr, "h7dfu-sim: bad %s (want --realtime[=SCALE], SCALE >= 1)\n", word);
                return 2;
            }
            if (optarg) {
                realtime = (unsigned)v;
            }
            break;
        case OPT_STATS:
            stats_file = optarg;
            break;
        case OPT_FOREIGN_DFU_RUNTIME:
            foreign = true;
            break;
        case OPT_EVENTS:
            events = true;
            break;
        case 'v':
            verbose = events = true;
            break;
        case 'h':
            return usage(stdout, 0);
        }
    }
    int i = optind;
    if (i >= argc || strcmp(argv[i], "run") != 0) {
        return usage(stderr, 2);
    }
    i++;
    if (i < argc && !strcmp(argv[i], "--")) {
        i++;
    }
    if (i >= argc) {
        return usage(stderr, 2);
    }
    bc.events = events ? stderr : NULL;
    /* A signed bootloader (core/boot/boot_sig.h): the native personality
     * trusts this key; the emulated firmware has its own built in. */
    static h7_key_t sig_key;
    if (signing_key) {
        char kerr[300];
        if (bc.firmware) {
            fprintf(stderr, "h7dfu-sim: --signing-key is for the native bootloader: a signed "
                            "firmware has its key built in\n");
            return 2;
        }
        if (h7_key_load(signing_key, &sig_key, kerr, sizeof kerr) != 0) {
            fprintf(stderr, "h7dfu-sim: %s\n", kerr);
            return 66;
        }
        boot_sig_set_key(&sig_key.pub);
    }
    if (nspecs) {
        if (single) {
            fprintf(stderr,
                    "h7dfu-sim: %s does not go with --board (a board's own settings go into "
                    "its SPEC, see --help)\n",
                    single);
            return 2;
        }
        sim_flash_times_t times = flash_times_of(flash_times);
        multi_opts_t mo = {.fast = bc.fast,
                           .verbose = verbose,
                           .events = events,
                           .times = &times,
                           .power_off_ms = bc.power_off_ms,
                           .unplug_ms = bc.unplug_ms,
                           .stats_file = stats_file};
        return multi_run(specs, nspecs, &mo, &argv[i]);
    }

    sim_clock_t clock;
    sim_clock_init(&clock);
    /* flash work overlaps USB traffic (sim_clock.h) */
    sim_clock_set_flash_lane(&clock, true);
    sim_flash_t *flash = sim_flash_new(&clock);
    if (!flash) {
        return 70;
    }
    if (signing_key) { /* the signed bootloader's map: the counter sector is reserved */
        (void)sim_flash_set_map(flash, flash_map_stm32h743_signed());
    }
    sim_flash_times_t times = flash_times_of(flash_times);
    sim_flash_set_times(flash, &times);
    FILE *flog = NULL;
    if (flash_log && (flog = fopen(flash_log, "w")) == NULL) {
        fprintf(stderr, "h7dfu-sim: %s: %s\n", flash_log, strerror(errno));
        sim_flash_free(flash);
        return 73;
    }
    if (flash_file && sim_flash_load(flash, flash_file) != 0) {
        fprintf(stderr, "h7dfu-sim: %s: %s\n", flash_file, strerror(errno));
        sim_flash_free(flash);
        return 66;
    }
    char err[600];
    /* ROM board: option bytes live next to the flash file (FILE.ob). */
    char ob_file[4096] = "";
    uint8_t ob[ROM_OB_SIZE];
    if (bc.rom && flash_file) {
        snprintf(ob_file, sizeof(ob_file), "%s.ob", flash_file);
        FILE *obf = fopen(ob_file, "rb");
        if (obf) {
            if (fread(ob, 1, sizeof(ob), obf) == sizeof(ob)) {
                bc.option_bytes = ob;
            }
            fclose(obf);
        }
    }
    if (bc.firmware) {
        if (bc.rom || bootloader) {
            fprintf(stderr,
                    "h7dfu-sim: --firmware cannot be combined with --rom or --bootloader\n");
            sim_flash_free(flash);
            return 2;
        }
        /* The bootloader goes into sector 0 as over SWD; an ELF given with
         * --install lends its symbols to the messages. */
        bootloader = bc.firmware;
        size_t n = install ? strlen(install) : 0;
        if (n > 4 && !strcmp(install + n - 4, ".elf")) {
            bc.app_elf = install;
        }
        bc.clock = &clock;
    }
    uint32_t bin_base = bc.rom ? H7_TARGET_FLASH_BASE : BOOT_APP_SLOT_ADDR;
    if ((bootloader &&
         board_install(flash, bootloader, H7_TARGET_BL_ADDR, err, sizeof(err)) != 0) ||
        (install && board_install(flash, install, bin_base, err, sizeof(err)) != 0)) {
        fprintf(stderr, "h7dfu-sim: %s\n", err);
        sim_flash_free(flash);
        return 66;
    }
    /* Factory programming is not part of the run: its flash work must not
     * sit on the clock's flash lane when the board starts. */
    sim_clock_init(&clock);
    sim_clock_set_flash_lane(&clock, true);
    /* The device's clock is the virtual one, in the units it reports
     * (--realtime=S divides its times by S). Not with --fast, whose tiny
     * times are for tests only: the device then runs untimed. */
    time_div = bc.fast ? 1000u : (realtime ? realtime : 1u);
    unsigned host_poll_div = 0;
    if (bc.firmware) {
        /* The firmware keeps its own (real) times; --fast shortens only what
         * the host is told to wait. */
        host_poll_div = bc.fast ? 1000u : 0u;
        time_div = 1u;
        if (realtime) {
            fprintf(stderr, "h7dfu-sim: --realtime is not available with --firmware\n");
            sim_flash_free(flash);
            return 2;
        }
    }
    bc.poll_div = realtime;
    dev_clock_t dclk = {&clock, time_div};
    if (!bc.fast && !bc.firmware) {
        dfu_set_default_clock(dev_clock_us, &dclk);
    }
    board_t *b = board_new(&bc, flash);
    /* the log starts with the run (--install is factory programming) */
    sim_flash_set_log(flash, flog);
    int status = 70;
    sim_usb_bridge_t *br = NULL, *foreign_br = NULL;
    foreign_dfu_t *dock = NULL;
    if (!b || !board_power_on(b)) {
        fprintf(stderr, "h7dfu-sim: the board does not boot\n");
    } else {
        void *dev = NULL;
        const sim_usb_device_ops_t *dev_ops = board_usb_ops(b, &dev);
        sim_usb_bridge_config_t cfg = {.step = board_step,
                                       .dev_ops = dev_ops,
                                       .dev = dev,
                                       .user = b,
                                       .verbose = verbose,
                                       .clock = &clock,
                                       .time_div = time_div,
                                       .host_poll_div = host_poll_div,
                                       .device_runs_on_clock = bc.firmware != NULL,
                                       .next_event_ns = board_next_event_ns,
                                       .realtime = (double)realtime};
        br = sim_usb_bridge_new(&cfg);
        if (br && foreign) {
            dock = foreign_dfu_new();
            sim_usb_bridge_config_t fcfg = {.step = foreign_dfu_step,
                                            .user = dock,
                                            .dev_ops = foreign_dfu_ops(),
                                            .dev = dock,
                                            .busnum = 2,
                                            .verbose = verbose,
                                            .beside = br};
            foreign_br = dock ? sim_usb_bridge_new(&fcfg) : NULL;
        }
        if (br && foreign && !foreign_br) {
            fprintf(stderr, "h7dfu-sim: cannot add the foreign device\n");
        } else if (br) {
            board_set_request_counter(b, requests_served, br);
            status = sim_usb_bridge_run(br, &argv[i]);
            if (status < 0) {
                status = 127;
            }
        }
    }
    if (b && board_sim_failed(b)) {
        fprintf(stderr, "h7dfu-sim: the emulated chip met something it does not model (above); "
                        "the run does not count\n");
        status = 70;
    }
    if (verbose && b) {
        print_stats(b, flash, br);
    }
    if ((verbose || stats_file) && b && write_timing(stats_file, verbose, &clock, flash, br) != 0) {
        fprintf(stderr, "h7dfu-sim: %s: %s\n", stats_file, strerror(errno));
        if (status == 0) {
            status = 74;
        }
    }
    if (b && ob_file[0]) {
        FILE *obf = fopen(ob_file, "wb");
        if (!obf || fwrite(board_option_bytes(b), 1, ROM_OB_SIZE, obf) != ROM_OB_SIZE) {
            fprintf(stderr, "h7dfu-sim: saving %s: %s\n", ob_file, strerror(errno));
            if (status == 0) {
                status = 74;
            }
        }
        if (obf) {
            fclose(obf);
        }
    }
    if (events && dock && foreign_dfu_detached(dock)) {
        fprintf(stderr, "h7dfu-sim: the foreign device %04x:%04x took a DFU_DETACH\n",
                FOREIGN_DFU_VID, FOREIGN_DFU_PID);
    }
    sim_usb_bridge_free(foreign_br);
    foreign_dfu_free(dock);
    sim_usb_bridge_free(br);
    if (flash_file && sim_flash_save(flash, flash_file) != 0) {
        fprintf(stderr, "h7dfu-sim: saving %s: %s\n", flash_file, strerror(errno));
        if (status == 0) {
            status = 74;
        }
    }
    board_free(b);
    sim_flash_free(flash);
    if (flog) {
        fclose(flog);
    }
    return status;
}
