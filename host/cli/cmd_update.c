/*
 * `h7dfu update FILE`: the whole cycle. Find the running application, detach
 * it, wait for its bootloader (same serial number), write and verify, leave,
 * wait for the application to come back and report its version.
 */
#include "cmd.h"

#include <stdlib.h>
#include <string.h>

#include "h7_hidapp.h"
#include "h7_stamp.h"

static const char update_help[] =
    "usage: h7dfu [OPTIONS] update [-s ADDR] [-f FORMAT] [--wait-dfu S] [--wait-app S]\n"
    "                              [--force] [--no-skip] [--id VID:PID] FILE\n"
    "       h7dfu [OPTIONS] update {-S SERIAL,SERIAL... | --all} [--parallel N] [...] FILE\n\n"
    "Updates a running application in one step: detaches it (DFU_DETACH on its DFU\n"
    "runtime interface, or the HID \"enter update\" report), waits for the DFU\n"
    "bootloader with the same serial number, writes and verifies FILE, leaves DFU\n"
    "mode, and waits until the application is back, then prints its version.\n"
    "A board already in DFU mode (e.g. after an interrupted update) is written\n"
    "directly, so running the same command again finishes the job.\n"
    "When the application already runs the version stamped in FILE (its HID version\n"
    "report), it says \"already up to date\", exit 0, and nothing is touched.\n\n"
    "Without -d, -S or -p only h7dfu's own boards are candidates: applications\n"
    "whose DFU runtime interface is named \"h7dfu runtime...\" (the h7dfu\n"
    "application library), the h7dfu bootloader or ST's ROM bootloader in DFU\n"
    "mode, and devices listed with --id or H7DFU_IDS. Other devices with a DFU\n"
    "runtime interface (docks, keyboards) are never detached. More than one\n"
    "candidate, in either mode, is exit 2 with each listed: choose one with\n"
    "-S SERIAL. A device selected with -d, -S or -p is the user's choice: it is\n"
    "updated even when it is not an h7dfu application.\n\n"
    "Several boards: -S A,B,C (or -S repeated) names them by serial number, --all\n"
    "takes every h7dfu board present (h7dfu applications and the h7dfu bootloader\n"
    "in DFU mode, and --id devices; never ST's ROM bootloader or another device).\n"
    "Each board goes through the whole update on its own (a run of\n"
    "`h7dfu --json -q -S SERIAL update FILE` each), --parallel N at once; a board\n"
    "that fails does not stop the others. One line per board as it ends, then a\n"
    "summary; with --json one document with a result per board. Exit 0 when all\n"
    "succeeded, else the exit status of the first failed board in the list\n"
    "(--all: ordered by serial number); run the same command again to finish\n"
    "the boards that failed (the others say \"already up to date\").\n\n"
    "  -s ADDR          address of a raw binary image\n"
    "  -f FORMAT        bin, ihex, srec, dfuse, dfu, elf (default: detect)\n"
    "  --wait-dfu S     seconds to wait for the bootloader (default 10)\n"
    "  --wait-app S     seconds to wait for the application to return (default 10)\n"
    "  --force          write even an image the bootloader would not start\n"
    "                   (unstamped), or whose version the application already runs\n"
    "  --no-skip        rewrite every touched sector, even those already equal\n"
    "                   (and write when the application runs the same version)\n"
    "  --id VID:PID     also a candidate: devices with this VID:PID (hex; repeatable,\n"
    "                   or a comma-separated list); H7DFU_IDS=\"VID:PID,...\" in\n"
    "                   the environment adds to it\n"
    "  --all            every h7dfu board present (see above)\n"
    "  --parallel N     several boards: update N at once (1..64, default 1)\n"
    "  -v, --verbose    also the version comparison\n"
    "Global options may also come after the command or FILE (`h7dfu --help`).\n";

enum { OPT_WAIT_DFU = 256, OPT_WAIT_APP, OPT_FORCE, OPT_NO_SKIP, OPT_ID, OPT_ALL, OPT_PARALLEL };

/* The longer things update says, in one place: plain words (no printf
 * conversions), put into the messages with %s. */
enum update_text {
    TXT_HOW_TO_STAMP,
    TXT_NOTHING_TOUCHED,
    TXT_DETACH_IGNORED,
    TXT_NO_BOOTLOADER,
    TXT_ROM_OWN_SERIAL,
    TXT_ROM_KEEP_POWER,
    TXT_RUN_AGAIN,
    TXT_ROM_JUMPED,
    TXT_BACK_IN_ROM,
    TXT_BACK_IN_DFU,
    TXT_NOT_ON_USB,
};

static const char *const texts[] = {
    /* FILE would not be started */
    [TXT_HOW_TO_STAMP] = "stamp it with `h7dfu image stamp -V VERSION IN OUT` (or --force to "
                         "write it anyway)",
    /* the application runs FILE's version */
    [TXT_NOTHING_TOUCHED] = "nothing was written and the board was not reset (--force writes it "
                            "anyway)",
    /* no bootloader after DFU_DETACH */
    [TXT_DETACH_IGNORED] = "the application is still running; it may not support detach",
    [TXT_NO_BOOTLOADER] = "check the cable; the board may need a reset by hand",
    /* the bootloader found on the application's USB path */
    [TXT_ROM_OWN_SERIAL] = "ST's ROM bootloader uses its own serial number",
    /* the write failed */
    [TXT_ROM_KEEP_POWER] =
        "nothing was started. The flash the update erased is now empty or partly written: do NOT "
        "reset or unplug the board (with BOOT0 low the H7 would run that flash and stay "
        "invisible on USB; then set BOOT0 high to reach the ROM again). Run the same command "
        "again to finish",
    [TXT_RUN_AGAIN] = "the board stays in DFU mode; run the same command again to finish",
    /* the application did not come back */
    [TXT_ROM_JUMPED] =
        "The image was written and verified, and ST's ROM bootloader started it - by a JUMP, "
        "without a reset (AN3156 leave): the application found the ROM's USB and clock set-up "
        "still active and its USB did not enumerate. This is the failure reported from the "
        "field (\"device missing after DFU\"). Now: power-cycle the board (BOOT0 low) and the "
        "application starts from reset. Fix for good: make the application reset itself when "
        "it finds it was not started by a reset (h7dfu app library, docs/rom-bootloader.md), or "
        "use the h7dfu bootloader, which always starts the application through a reset",
    [TXT_BACK_IN_ROM] = "the board is back in ST's ROM bootloader (BOOT0 pin high? BOOT_ADD0 not "
                        "at the image?)",
    [TXT_BACK_IN_DFU] = "the board is back in DFU mode, so its bootloader refused to start the "
                        "image (not a valid, stamped image for this board? see `h7dfu image info "
                        "FILE`)",
    [TXT_NOT_ON_USB] = "the board is not on USB; check the cable and reset it",
};

/* One board's update, from its options to the application's return: what
 * the phases below (find, detach, write, wait for the application) share. */
typedef struct update {
    cli_opts_t *o;
    const char *path;        /* FILE */
    h7_image_t img;          /* FILE, loaded and checked */
    boot_image_header_t hdr; /* the version FILE installs (has_hdr) */
    bool has_hdr;
    unsigned wait_dfu_ms, wait_app_ms;
    bool force, no_skip;
    h7_usb_device_t start; /* the board as found */
    bool was_app;          /* ... running the application, else in DFU mode */
    h7_app_version_t old;  /* the application's version then (have_old) */
    bool have_old;
    bool up_to_date;         /* it runs FILE's version: nothing to do */
    h7_usb_device_t dfu_dev; /* the board in DFU mode */
    h7_write_report_t rep;   /* what the write did */
    bool record;             /* the write appended an image record */
} update_t;

/*
 * Poll for the board we started from, in DFU mode or as the application: by
 * serial number first; when no device has that serial, by the same USB path
 * (ST's ROM bootloader reports a serial of its own, made from the chip's
 * unique ID, so the application and the ROM never share one; *by_path says
 * the path matched). A fresh libusb context each round sees re-enumerated
 * devices even where hotplug events are not delivered.
 */
static bool wait_for(const cli_opts_t *o, const char *serial, const char *path, bool dfu_mode,
                     unsigned timeout_ms, h7_usb_device_t *out, bool *other_mode_seen,
                     bool *by_path)
{
    h7_usb_filter_t fs = {.serial = serial && serial[0] ? serial : NULL};
    h7_usb_filter_t fp = {.path = path && path[0] ? path : NULL};
    (void)o;
    uint64_t deadline = cli_now_ms() + timeout_ms;
    *other_mode_seen = false;
    *by_path = false;
    do {
        h7_usb_t *usb = NULL;
        if (h7_usb_init(&usb) == 0) {
            for (int pass = 0; pass < 2; pass++) {
                const h7_usb_filter_t *f = pass == 0 ? &fs : &fp;
                if ((pass == 0 && !fs.serial) || (pass == 1 && !fp.path)) {
                    continue;
                }
                h7_usb_device_t *found = NULL;
                int n = h7_usb_find_all(usb, f, &found);
                for (int i = 0; i < n; i++) {
                    if (cli_dev_half_seen(&found[i])) {
                        continue; /* still being added: look again */
                    }
                    if (found[i].dfu_mode == dfu_mode) {
                        *out = found[i];
                        *by_path = pass == 1;
                        free(found);
                        h7_usb_exit(usb);
                        return true;
                    }
                    *other_mode_seen = true;
                }
                free(found);
            }
            h7_usb_exit(usb);
        }
        cli_sleep_ms(100u);
    } while (cli_now_ms() < deadline);
    return false;
}

/* The newest image record img carries; false when it has none. */
static bool image_record(const h7_image_t *img, boot_image_header_t *h)
{
    h7_image_t body;
    uint8_t rec[BOOT_REC_SIZE];
    bool has = false;
    if (h7_stamp_split(img, &body, rec, &has) != 0) {
        return false;
    }
    h7_image_free(&body);
    if (!has || memcmp(rec, "H7IM", 4) != 0) {
        return false;
    }
    boot_header_decode(rec, h);
    return true;
}

/* The version stamped in img (its newest record), as "1.2.3[+4]"; false when
 * img has none. */
static bool image_version(const h7_image_t *img, char *buf, size_t len)
{
    boot_image_header_t h;
    if (!image_record(img, &h)) {
        return false;
    }
    h7_stamp_version_str(&h.version, buf, len);
    return true;
}

/* The application reports the version of img (major.minor.patch: its HID
 * version report has no build number, and a patch above 254 is reported as
 * 255, which then matches nothing). */
static bool same_version(const h7_image_t *img, const h7_app_version_t *v)
{
    boot_image_header_t h;
    if (!image_record(img, &h) || h.version.patch >= 255) {
        return false;
    }
    return h.version.major == v->major && h.version.minor == v->minor &&
           h.version.patch == v->patch;
}

/* The document of an update that ended well: the board, the versions before
 * (the application's report), in FILE and after, and what was written (rep
 * NULL: nothing, already up to date). */
static void say_done(const cli_opts_t *o, const h7_usb_device_t *app, const char *path,
                     bool up_to_date, const h7_app_version_t *before,
                     const boot_image_version_t *in_file, const h7_app_version_t *after,
                     const h7_write_report_t *rep)
{
    cli_json_t j;
    if (!cli_doc_begin(o, &j, H7_EXIT_OK)) {
        return;
    }
    cli_doc_device(&j, app);
    cli_json_string(&j, "file", path);
    cli_json_bool(&j, "up_to_date", up_to_date);
    cli_doc_app_version(&j, "old_version", before);
    cli_doc_image_version(&j, "new_version", in_file);
    cli_doc_app_version(&j, "app_version", after);
    cli_json_int(&j, "bytes_written", rep ? (long long)rep->bytes_written : 0);
    cli_json_int(&j, "sectors_erased", rep ? (long long)rep->sectors_erased : 0);
    cli_json_int(&j, "sectors_skipped", rep ? (long long)rep->sectors_skipped : 0);
    cli_json_seconds(&j, "seconds", cli_elapsed());
    cli_doc_end(&j);
}

/* Ask the application to restart in DFU mode. */
static int detach_app(const cli_opts_t *o, const h7_usb_device_t *app)
{
    h7_usb_t *usb = NULL;
    int rc = cli_usb_init(o, &usb);
    if (rc != H7_EXIT_OK) {
        return rc;
    }
    h7_usb_handle_t *h = NULL;
    rc = h7_usb_open(usb, app, app->interface, -1, &h);
    if (rc != 0) {
        cli_error(o, H7_EXIT_USB, "cannot open the application %04x:%04x at %s: %s", app->vid,
                  app->pid, app->path, h7_usb_strerror(rc));
        h7_usb_exit(usb);
        return H7_EXIT_USB;
    }
    h7_transport_t t = h7_usb_transport(h);
    h7_dfu_client_t dfu;
    h7_dfu_init(&dfu, &t, app->interface, app->transfer_size);
    int out = H7_EXIT_OK;
    uint16_t timeout = app->detach_timeout_ms ? app->detach_timeout_ms : 1000;
    if (h7_dfu_detach(&dfu, timeout) != 0 && dfu.err.xfer != H7_XFER_NO_DEVICE) {
        /* No usable DFU runtime: try the HID report before giving up. */
        if (!app->has_hid || h7_app_enter_update(&t, app->hid_interface) < 0) {
            out = cli_fail_dfu(o, &dfu, "the application refused DFU_DETACH");
        }
    } else if (!(app->dfu_attributes & 0x08)) {
        /* DFU 1.1 5.1: without bitWillDetach the host resets the bus. */
        h7_usb_reset(h);
    }
    h7_usb_close(h);
    h7_usb_exit(usb);
    return out;
}

/*
 * update's options into u, lo (-s, -f) and many (the same options as given,
 * for the runs of several boards; *is_many: several boards). -1 to go on,
 * else the exit code (said).
 */
static int parse_options(int argc, char **argv, update_t *u, h7_load_opts_t *lo, cli_many_t *many,
                         bool *is_many)
{
    static const struct option longopts[] = {
        {"address", required_argument, NULL, 's'},
        {"format", required_argument, NULL, 'f'},
        {"wait-dfu", required_argument, NULL, OPT_WAIT_DFU},
        {"wait-app", required_argument, NULL, OPT_WAIT_APP},
        {"force", no_argument, NULL, OPT_FORCE},
        {"no-skip", no_argument, NULL, OPT_NO_SKIP},
        {"id", required_argument, NULL, OPT_ID},
        {"all", no_argument, NULL, OPT_ALL},
        {"parallel", required_argument, NULL, OPT_PARALLEL},
        {NULL, 0, NULL, 0},
    };
    static const cli_cmd_t cmd = {"update", update_help, "s:f:", longopts, 0};
    cli_opts_t *o = u->o;
    bool parallel_given = false;
    uint32_t v;
    int c, ec = H7_EXIT_OK;
    while ((c = cli_getopt(o, argc, argv, &cmd, &ec)) >= 0) {
        switch (c) {
        case 's':
        case 'f':
            if (!cli_load_opt(o, c, optarg, lo)) {
                return H7_EXIT_USAGE;
            }
            *(c == 's' ? &many->address : &many->format) = optarg;
            break;
        case OPT_WAIT_DFU:
        case OPT_WAIT_APP:
            if (!cli_parse_u32(optarg, &v) || v > 600) {
                cli_error(o, H7_EXIT_USAGE, "%s wants seconds (0..600), not '%s'",
                          c == OPT_WAIT_DFU ? "--wait-dfu" : "--wait-app", optarg);
                return H7_EXIT_USAGE;
            }
            *(c == OPT_WAIT_DFU ? &u->wait_dfu_ms : &u->wait_app_ms) = v * 1000u;
            *(c == OPT_WAIT_DFU ? &many->wait_dfu : &many->wait_app) = optarg;
            break;
        case OPT_FORCE:
            u->force = many->force = true;
            break;
        case OPT_NO_SKIP:
            u->no_skip = many->no_skip = true;
            break;
        case OPT_ALL:
            many->all = true;
            break;
        case OPT_PARALLEL:
            if (!cli_parse_u32(optarg, &v) || v < 1 || v > CLI_MAX_PARALLEL) {
                cli_error(o, H7_EXIT_USAGE, "--parallel wants a number of boards (1..%d), not '%s'",
                          CLI_MAX_PARALLEL, optarg);
                return H7_EXIT_USAGE;
            }
            many->parallel = v;
            parallel_given = true;
            break;
        case OPT_ID:
            if (cli_add_ids(o, optarg) != H7_EXIT_OK) {
                return H7_EXIT_USAGE;
            }
            break;
        }
    }
    if (c == CLI_OPT_EXIT) {
        return ec;
    }
    if (cli_want_args(o, argc, argv, &cmd, 1, 1, "exactly one FILE") != H7_EXIT_OK ||
        cli_add_ids(o, NULL) != H7_EXIT_OK) {
        return H7_EXIT_USAGE;
    }
    u->path = argv[optind];
    *is_many = many->all || parallel_given || o->n_serial_args > 1 ||
               (o->filter.serial && strchr(o->filter.serial, ','));
    if (*is_many && many->all && o->filter.serial) {
        cli_error(o, H7_EXIT_USAGE, "--all and -S exclude each other: --all is every h7dfu board");
        return H7_EXIT_USAGE;
    }
    if (*is_many && o->filter.path) {
        cli_error(o, H7_EXIT_USAGE,
                  "-p selects one board: several boards are chosen by serial number (-S A,B "
                  "or --all)");
        return H7_EXIT_USAGE;
    }
    if (*is_many && !many->all && !o->filter.serial) {
        cli_error(o, H7_EXIT_USAGE,
                  "--parallel is for several boards: name them with -S A,B,... or --all");
        return H7_EXIT_USAGE;
    }
    return -1;
}

/* FILE into u->img, checked before any board is disturbed: loadable, -s
 * used, and (unless --force) an image the bootloader would start. */
static int load_file(update_t *u, const h7_load_opts_t *lo, bool is_many)
{
    int rc = cli_load_image(u->o, u->path, lo, &u->img);
    if (rc == H7_EXIT_OK) {
        rc = cli_check_base_used(u->o, u->path, lo, &u->img);
    }
    if (rc != H7_EXIT_OK) {
        return rc;
    }
    char why[128];
    if (!u->force && !cli_slot_image_ok(&u->img, why, sizeof(why))) {
        cli_error(u->o, H7_EXIT_FILE,
                  "%s is not an image the h7dfu bootloader would start (%s): %s; %s", u->path, why,
                  texts[TXT_HOW_TO_STAMP],
                  is_many ? "no board was touched" : "the application was not touched");
        h7_image_free(&u->img);
        return H7_EXIT_FILE;
    }
    /* The version FILE installs (cli_slot_prepare takes the record out of img). */
    u->has_hdr = image_record(&u->img, &u->hdr);
    return H7_EXIT_OK;
}

/* Find: the one candidate, running the application or already waiting in
 * DFU mode (an interrupted update: then written as it is). */
static int find_board(update_t *u)
{
    h7_usb_t *usb = NULL;
    int rc = cli_usb_init(u->o, &usb);
    if (rc != H7_EXIT_OK) {
        return rc;
    }
    rc = cli_find_target(usb, u->o, &u->start);
    h7_usb_exit(usb);
    u->was_app = !u->start.dfu_mode;
    return rc;
}

/* The application's version against FILE's: the one FILE installs already
 * runs (u->up_to_date, said) unless --force or --no-skip write it anyway. */
static void compare_versions(update_t *u)
{
    const cli_opts_t *o = u->o;
    const h7_usb_device_t *app = &u->start;
    h7_app_version_t *ver = &u->old;
    u->have_old = cli_app_version(app, ver) == 0;
    if (!u->have_old) {
        return;
    }
    cli_info(o, "application %04x:%04x serial %s runs version %u.%u.%u (%s)", app->vid, app->pid,
             app->serial, ver->major, ver->minor, ver->patch, ver->text);
    char fver[32];
    if (image_version(&u->img, fver, sizeof(fver)) && same_version(&u->img, ver)) {
        if (!u->force && !u->no_skip) {
            cli_info(o,
                     "already up to date: the application runs version %s, the version "
                     "stamped in %s; %s",
                     fver, u->path, texts[TXT_NOTHING_TOUCHED]);
            say_done(o, app, u->path, true, ver, u->has_hdr ? &u->hdr.version : NULL, ver, NULL);
            u->up_to_date = true;
            return;
        }
        cli_info(o, "the application runs version %s already; writing anyway (%s)", fver,
                 u->force ? "--force" : "--no-skip");
    } else if (o->verbose) {
        cli_info(o, "%s holds version %s: not the application's", u->path,
                 image_version(&u->img, fver, sizeof(fver)) ? fver : "(none)");
    }
}

/* Detach: the board in DFU mode in u->dfu_dev. An application is detached
 * (unless it runs FILE's version already) and its bootloader waited for. */
static int detach_board(update_t *u)
{
    const cli_opts_t *o = u->o;
    const h7_usb_device_t *start = &u->start;
    if (!u->was_app) {
        cli_info(o, "board %04x:%04x serial %s is already in DFU mode", start->vid, start->pid,
                 start->serial);
        u->dfu_dev = *start;
        return H7_EXIT_OK;
    }
    compare_versions(u);
    if (u->up_to_date) {
        return H7_EXIT_OK;
    }
    cli_info(o, "detaching the application");
    int rc = detach_app(o, start);
    if (rc != H7_EXIT_OK) {
        return rc;
    }
    bool other, by_path;
    if (!wait_for(o, start->serial, start->path, true, u->wait_dfu_ms, &u->dfu_dev, &other,
                  &by_path)) {
        cli_error(o, H7_EXIT_NO_DEVICE,
                  "the bootloader did not appear within %u s after DFU_DETACH (serial %s): %s",
                  u->wait_dfu_ms / 1000, start->serial,
                  texts[other ? TXT_DETACH_IGNORED : TXT_NO_BOOTLOADER]);
        return H7_EXIT_NO_DEVICE;
    }
    const h7_usb_device_t *d = &u->dfu_dev;
    const bool rom = h7_usb_is_st_rom(d);
    if (by_path) {
        cli_info(o,
                 "DFU device %04x:%04x serial %s found on the same USB path %s (the "
                 "application's serial is %s)%s%s",
                 d->vid, d->pid, d->serial, d->path, start->serial, rom ? ": " : "",
                 rom ? texts[TXT_ROM_OWN_SERIAL] : "");
    }
    return H7_EXIT_OK;
}

/* A write that failed or was stopped: said, with where the board stays. */
static int write_failed(const update_t *u, const cli_dev_t *d)
{
    const cli_opts_t *o = u->o;
    const bool stopped = d->dfu.err.code == H7_E_CANCELLED;
    int rc = stopped ? cli_write_interrupted(o, &u->rep)
                     : cli_fail_dfu(o, &d->dfu, "update failed while writing");
    if (h7_usb_is_st_rom(&d->info)) {
        cli_info(o, "%s; %s",
                 stopped ? "ST's ROM bootloader stays in DFU mode"
                         : "ST's ROM bootloader reported it and stays in DFU mode",
                 texts[TXT_ROM_KEEP_POWER]);
    } else if (!stopped) {
        cli_info(o, "%s", texts[TXT_RUN_AGAIN]);
    }
    return rc;
}

/* Write: FILE written and verified through the normal path, selecting
 * exactly this board, then DFU mode left. */
static int write_board(update_t *u)
{
    const cli_opts_t *o = u->o;
    cli_opts_t dopts = *o;
    dopts.filter.vid = u->dfu_dev.vid;
    dopts.filter.pid = u->dfu_dev.pid;
    dopts.filter.serial = u->dfu_dev.serial[0] ? u->dfu_dev.serial : NULL;
    dopts.filter.path = u->dfu_dev.serial[0] ? NULL : u->dfu_dev.path;
    dopts.timeout_ms = 2000;
    cli_dev_t d;
    int rc = cli_open_dfu(&dopts, &d);
    if (rc != H7_EXIT_OK) {
        return rc;
    }
    cli_info(o, "writing %s (%llu bytes) to the bootloader %04x:%04x", u->path,
             (unsigned long long)h7_image_total_size(&u->img), d.info.vid, d.info.pid);
    h7_write_cfg_t cfg = {.verify = true,
                          .no_skip = u->no_skip,
                          .progress = cli_progress,
                          .user = (void *)o,
                          .cancel = cli_stop_flag()};
    uint8_t record[BOOT_REC_SIZE];
    if (cli_slot_prepare(&u->img, &cfg, record) != 0) {
        cli_error(o, H7_EXIT_FAIL, "out of memory: nothing was written");
        cli_close(&d);
        return H7_EXIT_FAIL;
    }
    u->record = cfg.record != NULL;
    cli_stop_install();
    if (h7_ops_write_image(&d.dfu, &u->img, d.info.alts[d.alt_index].name, &cfg, &u->rep) != 0) {
        rc = write_failed(u, &d);
    } else {
        cli_progress_end();
        /* DfuSe leave needs a set-address after the verify (cli_default_start). */
        if (h7_ops_leave(&d.dfu, true, cli_default_start(&d)) != 0) {
            rc =
                cli_fail_dfu(o, &d.dfu, "the image is written and verified but leaving DFU failed");
        }
    }
    cli_close(&d);
    if (rc != H7_EXIT_OK) {
        return rc;
    }
    const h7_write_report_t *rep = &u->rep;
    char fver[32];
    if (rep->bytes_written == 0 && rep->sectors_erased == 0 &&
        (!u->record || rep->record_present)) {
        cli_info(o,
                 "the board already held %s%s%s: nothing was written; starting the "
                 "application",
                 u->path, image_version(&u->img, fver, sizeof(fver)) ? ", version " : "",
                 image_version(&u->img, fver, sizeof(fver)) ? fver : "");
    } else {
        cli_info(o,
                 "written and verified (%llu bytes, %zu sector(s) erased, %zu already equal) "
                 "in %.2f s; starting the application",
                 (unsigned long long)rep->bytes_written, rep->sectors_erased, rep->sectors_skipped,
                 cli_elapsed());
    }
    return H7_EXIT_OK;
}

/* Wait for the application: back on USB with its own serial (the one
 * detached), not necessarily the DFU device's; its version said. */
static int wait_app(update_t *u)
{
    const cli_opts_t *o = u->o;
    const bool rom = h7_usb_is_st_rom(&u->dfu_dev);
    h7_usb_device_t app;
    bool other, by_path;
    if (!wait_for(o, u->was_app ? u->start.serial : u->dfu_dev.serial, u->dfu_dev.path, false,
                  u->wait_app_ms, &app, &other, &by_path)) {
        if (rom && !other) {
            cli_error(o, H7_EXIT_DEVICE, "the application did not come back within %u s. %s",
                      u->wait_app_ms / 1000, texts[TXT_ROM_JUMPED]);
        } else {
            cli_error(o, H7_EXIT_DEVICE, "the application did not come back within %u s: %s",
                      u->wait_app_ms / 1000,
                      texts[!other ? TXT_NOT_ON_USB
                            : rom  ? TXT_BACK_IN_ROM
                                   : TXT_BACK_IN_DFU]);
        }
        return H7_EXIT_DEVICE;
    }
    h7_app_version_t ver;
    bool have_ver = cli_app_version(&app, &ver) == 0;
    if (have_ver) {
        cli_info(o, "application %04x:%04x serial %s is back, version %u.%u.%u (%s)", app.vid,
                 app.pid, app.serial, ver.major, ver.minor, ver.patch, ver.text);
    } else {
        cli_info(o, "application %04x:%04x serial %s is back", app.vid, app.pid, app.serial);
    }
    say_done(o, &app, u->path, false, u->was_app && u->have_old ? &u->old : NULL,
             u->has_hdr ? &u->hdr.version : NULL, have_ver ? &ver : NULL, &u->rep);
    return H7_EXIT_OK;
}

int cmd_update(cli_opts_t *o, int argc, char **argv)
{
    update_t u = {.o = o, .wait_dfu_ms = 10000, .wait_app_ms = 10000};
    h7_load_opts_t lo = {.format = H7_FMT_AUTO};
    cli_many_t many = {.parallel = 1};
    bool is_many = false;
    int rc = parse_options(argc, argv, &u, &lo, &many, &is_many);
    if (rc >= 0) {
        return rc;
    }
    if ((rc = load_file(&u, &lo, is_many)) != H7_EXIT_OK) {
        return rc;
    }
    if (is_many) {
        /* Each board in a run of its own (cmd_update_many.c), the file
         * checked once here. */
        h7_image_free(&u.img);
        many.file = u.path;
        return cli_update_many(o, &many);
    }
    rc = find_board(&u);
    if (rc == H7_EXIT_OK) {
        rc = detach_board(&u);
    }
    if (rc == H7_EXIT_OK && !u.up_to_date) {
        rc = write_board(&u);
    }
    if (rc == H7_EXIT_OK && !u.up_to_date) {
        rc = wait_app(&u);
    }
    h7_image_free(&u.img);
    return rc;
}
