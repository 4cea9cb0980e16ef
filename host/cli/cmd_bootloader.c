/* `h7dfu update-bootloader FILE`: replace the h7dfu bootloader in sector 0
 * through ST's ROM bootloader. */
#include "cmd.h"

#include <stdlib.h>
#include <string.h>

#include "bl_ident.h"

static const char bl_help[] =
    "usage: h7dfu [OPTIONS] update-bootloader [--rom] FILE\n\n"
    "Replaces the h7dfu bootloader in flash sector 0 (0x08000000) with FILE (bin at\n"
    "0x08000000, ihex, srec, dfu, elf). FILE must be an h7dfu bootloader for this\n"
    "chip: its identity after the vector table (\"H7BL\", device 0x450, linked for\n"
    "0x08000000, at most 128 KiB, a valid vector table), with every byte inside\n"
    "sector 0; anything else is refused before the board is touched.\n\n"
    "The running application is detached; the h7dfu bootloader is asked to restart\n"
    "into ST's ROM bootloader (vendor command 0xC5); the ROM erases, writes and\n"
    "verifies sector 0 and leaves; the board restarts from sector 0 into the new\n"
    "bootloader (and the application, when the slot holds a valid one).\n\n"
    "WINDOW: from the ROM's erase of sector 0 until its last block is programmed\n"
    "the board has no bootloader. A power cut then leaves a board that shows\n"
    "nothing on USB. Recovery: BOOT0 high (on a NUCLEO-H743ZI a jumper between\n"
    "BOOT0 and VDD), power on: ST's ROM appears (0483:df11, \"DFU in FS Mode\");\n"
    "run `h7dfu update-bootloader --rom FILE` again, then BOOT0 low and reset.\n\n"
    "  --rom            the board is already in ST's ROM bootloader (BOOT0 high):\n"
    "                   write through it without a hand-over\n"
    "Global options may also come after the command or FILE (`h7dfu --help`).\n";

enum { OPT_ROM = 256 };

#define WAIT_MS 5000u

/* FILE as the bytes of sector 0 (0xFF elsewhere); H7_EXIT_OK or the refusal,
 * said. */
static int check_image(const cli_opts_t *o, const char *path, const h7_image_t *img, uint8_t *buf,
                       h7_bl_ident_t *id)
{
    memset(buf, 0xff, H7_BL_SECTOR_SIZE);
    uint32_t extent = 0;
    for (size_t i = 0; i < img->count; i++) {
        const h7_segment_t *s = &img->seg[i];
        if (s->addr < H7_BL_BASE || (uint64_t)s->addr + s->len > H7_BL_BASE + H7_BL_SECTOR_SIZE) {
            cli_error(o, H7_EXIT_REFUSED,
                      "%s is not a bootloader for sector 0: bytes at 0x%08x..0x%08llx are "
                      "outside 0x08000000..0x0801ffff; nothing was written",
                      path, s->addr, (unsigned long long)s->addr + s->len - 1u);
            return H7_EXIT_REFUSED;
        }
        memcpy(buf + (s->addr - H7_BL_BASE), s->data, s->len);
        if (s->addr + s->len - H7_BL_BASE > extent) {
            extent = s->addr + s->len - H7_BL_BASE;
        }
    }
    h7_bl_check_t c = h7_bl_check(buf, extent, id);
    if (c == H7_BL_WRONG_DEVICE) {
        cli_error(o, H7_EXIT_REFUSED,
                  "%s is an h7dfu bootloader for another chip (device 0x%03x, this board is an "
                  "STM32H743, 0x%03x); nothing was written",
                  path, id->device_id, BOOT_DEVICE_ID_H743);
        return H7_EXIT_REFUSED;
    }
    if (c != H7_BL_OK) {
        cli_error(o, H7_EXIT_FILE,
                  "%s is not an h7dfu bootloader for this chip: %s; nothing was written "
                  "(an application goes in with `h7dfu update`)",
                  path, h7_bl_check_name(c));
        return H7_EXIT_FILE;
    }
    return H7_EXIT_OK;
}

/* One look at the bus: the devices matching f (*out is malloc'd, or NULL). */
static int look(const h7_usb_filter_t *f, h7_usb_device_t **out)
{
    h7_usb_t *usb = NULL;
    *out = NULL;
    if (h7_usb_init(&usb) != 0) {
        return -1;
    }
    int n = h7_usb_find_all(usb, f, out);
    h7_usb_exit(usb);
    return n;
}

enum want { WANT_ROM, WANT_DFU, WANT_BACK };

/* Wait for the board on path (and with serial, when given): ST's ROM, a
 * DFU-mode device other than devnum skip, or whatever comes back. */
static bool wait_for(const cli_opts_t *o, const char *path, const char *serial, enum want w,
                     uint8_t skip, h7_usb_device_t *out)
{
    unsigned ms = o->timeout_ms > WAIT_MS ? o->timeout_ms : WAIT_MS;
    for (unsigned t = 0; t < ms; t += 100u) {
        cli_sleep_ms(100u);
        h7_usb_filter_t f = {.path = path};
        h7_usb_device_t *d = NULL;
        int n = look(&f, &d);
        for (int i = 0; i < n; i++) {
            if (cli_dev_half_seen(&d[i]) || d[i].devnum == skip) {
                continue;
            }
            bool rom = h7_usb_is_st_rom(&d[i]);
            bool ours = !serial || strcmp(d[i].serial, serial) == 0;
            if ((w == WANT_ROM && rom) || (w == WANT_DFU && d[i].dfu_mode && ours && !rom) ||
                (w == WANT_BACK && (rom || ours))) {
                *out = d[i];
                free(d);
                return true;
            }
        }
        free(d);
    }
    return false;
}

typedef struct open_dev {
    h7_usb_t *usb;
    h7_usb_handle_t *h;
    h7_transport_t t;
    h7_dfu_client_t dfu;
} open_dev_t;

static int open_dev(const cli_opts_t *o, const h7_usb_device_t *d, int alt, open_dev_t *od)
{
    memset(od, 0, sizeof(*od));
    int rc = h7_usb_init(&od->usb);
    if (rc == 0) {
        rc = h7_usb_open(od->usb, d, d->interface, alt, &od->h);
    }
    if (rc != 0) {
        cli_error(o, H7_EXIT_USB, "cannot open %04x:%04x at %s: %s", d->vid, d->pid, d->path,
                  h7_usb_strerror(rc));
        h7_usb_exit(od->usb);
        return H7_EXIT_USB;
    }
    od->t = h7_usb_transport(od->h);
    h7_dfu_init(&od->dfu, &od->t, d->interface, d->transfer_size ? d->transfer_size : 1024);
    return H7_EXIT_OK;
}

static void close_dev(open_dev_t *od)
{
    h7_usb_close(od->h);
    h7_usb_exit(od->usb);
    od->h = NULL;
    od->usb = NULL;
}

/* The identity of the bootloader the h7dfu bootloader d runs; false if it
 * cannot be read (an older one). */
static bool read_ident(const cli_opts_t *o, const h7_usb_device_t *d, h7_bl_ident_t *id)
{
    open_dev_t od;
    if (open_dev(o, d, d->n_alts ? d->alts[0].alt : -1, &od) != H7_EXIT_OK) {
        return false;
    }
    uint8_t hdr[H7_BL_IDENT_OFFSET + H7_BL_IDENT_SIZE];
    bool ok = h7_dfu_recover(&od.dfu) == 0 &&
              h7_dfuse_read(&od.dfu, H7_BL_BASE, hdr, sizeof(hdr)) == 0 &&
              h7_bl_check(hdr, sizeof(hdr), id) != H7_BL_NO_IDENT;
    close_dev(&od);
    return ok;
}

/* The h7dfu bootloader d restarts into ST's ROM (0xC5). */
static int hand_over(const cli_opts_t *o, const h7_usb_device_t *d)
{
    open_dev_t od;
    int rc = open_dev(o, d, d->n_alts ? d->alts[0].alt : -1, &od);
    if (rc != H7_EXIT_OK) {
        return rc;
    }
    if (h7_dfu_recover(&od.dfu) != 0) {
        rc = cli_fail_dfu(o, &od.dfu, "the bootloader does not answer");
        close_dev(&od);
        return rc;
    }
    if (!h7_dfuse_has_command(&od.dfu, H7_DFUSE_ENTER_ROM)) {
        cli_error(o, H7_EXIT_FAIL,
                  "this h7dfu bootloader cannot restart into ST's ROM bootloader (no command "
                  "0xC5): set BOOT0 high, power-cycle the board and run `h7dfu update-bootloader "
                  "--rom FILE`; nothing was written");
        close_dev(&od);
        return H7_EXIT_FAIL;
    }
    const uint8_t cmd = H7_DFUSE_ENTER_ROM;
    h7_dfu_status_rec_t st;
    if (h7_dfu_dnload(&od.dfu, 0, &cmd, 1) != 0 ||
        (h7_dfu_get_status(&od.dfu, &st) != 0 && od.dfu.err.xfer != H7_XFER_NO_DEVICE &&
         od.dfu.err.xfer != H7_XFER_IO)) {
        rc = cli_fail_dfu(o, &od.dfu, "the hand-over to ST's ROM bootloader failed");
        close_dev(&od);
        return rc;
    }
    close_dev(&od);
    return H7_EXIT_OK;
}

/* The application d restarts into the h7dfu bootloader (DFU_DETACH). */
static int detach(const cli_opts_t *o, const h7_usb_device_t *d)
{
    open_dev_t od;
    int rc = open_dev(o, d, -1, &od);
    if (rc != H7_EXIT_OK) {
        return rc;
    }
    if (h7_dfu_detach(&od.dfu, d->detach_timeout_ms ? d->detach_timeout_ms : 1000) != 0 &&
        od.dfu.err.xfer != H7_XFER_NO_DEVICE) {
        rc = cli_fail_dfu(o, &od.dfu, "DFU_DETACH failed");
    } else if (!(d->dfu_attributes & 0x08)) {
        h7_usb_reset(od.h); /* DFU 1.1 5.1: no bitWillDetach, the host resets */
    }
    close_dev(&od);
    return rc;
}

static void warn_window(const cli_opts_t *o)
{
    if (o->json) {
        return;
    }
    fprintf(stderr,
            "h7dfu: WARNING: from the erase of sector 0 until its last block is written the "
            "board has no bootloader: do not unplug or reset it. After a power cut there it "
            "shows nothing on USB; recover with BOOT0 high, power on, `h7dfu update-bootloader "
            "--rom FILE`, then BOOT0 low and reset.\n");
}

/* Write and verify sector 0 through ST's ROM rom, then leave to it. */
static int write_through_rom(const cli_opts_t *o, const h7_usb_device_t *rom, const h7_image_t *img,
                             h7_write_report_t *rep)
{
    int alt = -1;
    const char *layout = NULL;
    for (unsigned i = 0; i < rom->n_alts && !layout; i++) {
        if (strncmp(rom->alts[i].name, "@Internal Flash", 15) == 0) {
            alt = rom->alts[i].alt;
            layout = rom->alts[i].name;
        }
    }
    if (!layout) {
        cli_error(o, H7_EXIT_DEVICE, "ST's ROM bootloader at %s has no \"@Internal Flash\" alt",
                  rom->path);
        return H7_EXIT_DEVICE;
    }
    open_dev_t od;
    int rc = open_dev(o, rom, alt, &od);
    if (rc != H7_EXIT_OK) {
        return rc;
    }
    h7_write_cfg_t cfg = {.verify = true, .progress = cli_progress, .user = (void *)o};
    memset(rep, 0, sizeof(*rep));
    if (h7_dfu_recover(&od.dfu) != 0 || h7_ops_write_image(&od.dfu, img, layout, &cfg, rep) != 0) {
        cli_progress_end();
        bool gone = od.dfu.err.code == H7_E_TRANSPORT;
        rc = cli_fail_dfu(o, &od.dfu, "writing sector 0 through ST's ROM bootloader failed");
        if (gone) {
            fprintf(stderr, "h7dfu: the board went away inside the window: sector 0 may be "
                            "erased or half written, and then the board shows nothing on USB. "
                            "Recover: BOOT0 high, power on, `h7dfu update-bootloader --rom "
                            "FILE`, then BOOT0 low and reset\n");
        } else {
            fprintf(stderr, "h7dfu: the board stays in ST's ROM bootloader: do not reset or "
                            "unplug it (sector 0 may be erased); run `h7dfu update-bootloader "
                            "--rom FILE` again\n");
        }
        close_dev(&od);
        return rc;
    }
    cli_progress_end();
    cli_info(o, "sector 0 written (%llu bytes, %zu sector(s) erased) and verified",
             (unsigned long long)rep->bytes_written, rep->sectors_erased);
    if (h7_ops_leave(&od.dfu, true, H7_BL_BASE) != 0) {
        rc = cli_fail_dfu(o, &od.dfu, "leaving ST's ROM bootloader failed");
    }
    close_dev(&od);
    return rc;
}

int cmd_update_bootloader(cli_opts_t *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"rom", no_argument, NULL, OPT_ROM},
        {NULL, 0, NULL, 0},
    };
    static const cli_cmd_t cmd = {"update-bootloader", bl_help, "", longopts, CLI_G_ALT};
    bool rom_given = false;
    int c, ec = H7_EXIT_OK;
    while ((c = cli_getopt(o, argc, argv, &cmd, &ec)) >= 0) {
        if (c == OPT_ROM) {
            rom_given = true;
        }
    }
    if (c == CLI_OPT_EXIT) {
        return ec;
    }
    if (cli_want_args(o, argc, argv, &cmd, 1, 1, "exactly one FILE") != H7_EXIT_OK) {
        return H7_EXIT_USAGE;
    }
    const char *path = argv[optind];

    /* The file first: nothing is touched for a file that is refused. */
    h7_load_opts_t lo = {.format = H7_FMT_AUTO, .has_base = true, .base = H7_BL_BASE};
    h7_image_t img;
    int rc = cli_load_image(o, path, &lo, &img);
    if (rc != H7_EXIT_OK) {
        return rc;
    }
    uint8_t *buf = malloc(H7_BL_SECTOR_SIZE);
    h7_bl_ident_t id;
    memset(&id, 0, sizeof(id));
    rc = buf ? check_image(o, path, &img, buf, &id) : H7_EXIT_FAIL;
    free(buf);
    if (rc != H7_EXIT_OK) {
        h7_image_free(&img);
        return rc;
    }
    cli_info(o, "%s: h7dfu bootloader v%u.%u for the STM32H743, %u bytes", path, id.major, id.minor,
             id.image_size);

    /* The board: an application, the h7dfu bootloader, or ST's ROM. */
    h7_usb_t *usb = NULL;
    h7_usb_device_t *d = NULL;
    if ((rc = cli_usb_init(o, &usb)) != H7_EXIT_OK) {
        h7_image_free(&img);
        return rc;
    }
    int n = cli_find_all(usb, o, &d);
    h7_usb_exit(usb);
    if (n != 1) {
        free(d);
        cli_error(o, H7_EXIT_NO_DEVICE,
                  n == 0 ? "no board found: check the cable, `h7dfu list`, and the -d/-S/-p "
                           "filters (a board that shows nothing: BOOT0 high, then --rom)"
                         : "more than one device matches: choose with -S SERIAL or -p PATH");
        h7_image_free(&img);
        return H7_EXIT_NO_DEVICE;
    }
    h7_usb_device_t dev = d[0], rom;
    free(d);
    char serial[sizeof(dev.serial)] = "", where[sizeof(dev.path)];
    snprintf(where, sizeof(where), "%s", dev.path);
    if (rom_given && !h7_usb_is_st_rom(&dev)) {
        cli_error(o, H7_EXIT_NO_DEVICE,
                  "--rom: %04x:%04x at %s is not ST's ROM bootloader (no \"@Option Bytes\" "
                  "alt); drop --rom to hand over from the h7dfu bootloader",
                  dev.vid, dev.pid, dev.path);
        h7_image_free(&img);
        return H7_EXIT_NO_DEVICE;
    }
    if (h7_usb_is_st_rom(&dev)) {
        rom = dev;
        cli_info(o, "ST's ROM bootloader at %s (serial %s)", rom.path, rom.serial);
        warn_window(o);
    } else {
        snprintf(serial, sizeof(serial), "%s", dev.serial);
        if (!dev.dfu_mode) {
            cli_info(o, "detaching the application %04x:%04x serial %s", dev.vid, dev.pid,
                     dev.serial);
            if ((rc = detach(o, &dev)) != H7_EXIT_OK) {
                h7_image_free(&img);
                return rc;
            }
            uint8_t old = dev.devnum;
            if (!wait_for(o, where, serial, WANT_DFU, old, &dev)) {
                cli_error(o, H7_EXIT_USB, "the h7dfu bootloader did not appear after the detach");
                h7_image_free(&img);
                return H7_EXIT_USB;
            }
        }
        h7_bl_ident_t cur;
        if (read_ident(o, &dev, &cur)) {
            cli_info(o, "the board runs h7dfu bootloader v%u.%u (%u bytes)", cur.major, cur.minor,
                     cur.image_size);
        }
        warn_window(o);
        cli_info(o, "restarting into ST's ROM bootloader");
        if ((rc = hand_over(o, &dev)) != H7_EXIT_OK) {
            h7_image_free(&img);
            return rc;
        }
        if (!wait_for(o, where, NULL, WANT_ROM, dev.devnum, &rom)) {
            cli_error(o, H7_EXIT_USB,
                      "ST's ROM bootloader did not appear on %s; sector 0 is untouched", where);
            h7_image_free(&img);
            return H7_EXIT_USB;
        }
        cli_info(o, "ST's ROM bootloader at %s (serial %s)", rom.path, rom.serial);
    }

    h7_write_report_t rep;
    rc = write_through_rom(o, &rom, &img, &rep);
    h7_image_free(&img);
    if (rc != H7_EXIT_OK) {
        return rc;
    }

    /* Back: the h7dfu bootloader (and from it the application), or the ROM
     * again when BOOT0 is high. */
    h7_usb_device_t back;
    const char *what = "none";
    if (!wait_for(o, where, serial[0] ? serial : NULL, WANT_BACK, rom.devnum, &back)) {
        cli_error(o, H7_EXIT_DEVICE,
                  "the board did not come back on USB after ST's ROM bootloader left; "
                  "sector 0 was verified: check BOOT0 (low) and reset the board");
        return H7_EXIT_DEVICE;
    }
    if (h7_usb_is_st_rom(&back)) {
        what = "rom";
        cli_info(o, "ST's ROM bootloader came back: BOOT0 is high. Set BOOT0 low and reset the "
                    "board to start the new bootloader");
    } else if (back.dfu_mode) {
        what = "bootloader";
        h7_bl_ident_t now;
        if (read_ident(o, &back, &now)) {
            cli_info(o, "the h7dfu bootloader v%u.%u runs (serial %s)", now.major, now.minor,
                     back.serial);
        } else {
            cli_info(o, "the h7dfu bootloader runs (serial %s)", back.serial);
        }
    } else {
        what = "application";
        cli_info(o, "the new bootloader v%u.%u started the application (serial %s)", id.major,
                 id.minor, back.serial);
    }
    cli_json_t j;
    if (cli_doc_begin(o, &j, H7_EXIT_OK)) {
        cli_doc_device(&j, &back);
        cli_json_string(&j, "file", path);
        cli_json_begin_object(&j, "bootloader_version");
        cli_json_int(&j, "major", id.major);
        cli_json_int(&j, "minor", id.minor);
        cli_json_end(&j);
        cli_json_int(&j, "bytes_written", (long long)rep.bytes_written);
        cli_json_string(&j, "back", what);
        cli_doc_end(&j);
    }
    return H7_EXIT_OK;
}
