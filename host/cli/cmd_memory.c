/* `h7dfu read`, `h7dfu erase`, `h7dfu leave`. */
#include "cmd.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot.h"
#include "h7_layout.h"

static const char read_help[] =
    "usage: h7dfu [OPTIONS] read [--force] ADDR:LEN FILE\n\n"
    "Reads LEN bytes of device memory at ADDR into FILE. The format follows the\n"
    "extension: .hex (Intel HEX), .dfu (DfuSe), anything else raw binary.\n"
    "LEN may end in K (KiB) or M (MiB): 0x08020000:128K.\n\n"
    "  --force          overwrite FILE when it exists (without it: refused, exit 2)\n"
    "Global options may also come after the command or its arguments (`h7dfu --help`).\n";

enum { OPT_FORCE = 256, OPT_MASS };

/* ADDR:LEN with a length > 0, or a usage error naming the argument. */
static bool parse_range(cli_opts_t *o, const char *cmd, const char *arg, cli_addr_spec_t *spec)
{
    if (cli_parse_addr_spec(arg, spec) && spec->has_addr && spec->has_len && spec->len > 0 &&
        !spec->leave && !spec->mass_erase && !spec->force) {
        return true;
    }
    cli_error(o, H7_EXIT_USAGE,
              "%s: bad range '%s': want ADDR:LEN, LEN > 0 in bytes or with K/M, e.g. "
              "0x08020000:128K",
              cmd, arg);
    return false;
}

/* The options of a command whose only own option is --force (read, leave). */
static const struct option force_longopts[] = {{"force", no_argument, NULL, OPT_FORCE},
                                               {NULL, 0, NULL, 0}};

/* Takes the command's options; false (with the exit code in *ec: help
 * printed or an error said) when the command stops there. */
static bool getopt_force(cli_opts_t *o, int argc, char **argv, const cli_cmd_t *cmd, bool *force,
                         int *ec)
{
    int c;
    *force = false;
    *ec = H7_EXIT_OK;
    while ((c = cli_getopt(o, argc, argv, cmd, ec)) >= 0) {
        *force = *force || c == OPT_FORCE;
    }
    return c != CLI_OPT_EXIT;
}

int cmd_read(cli_opts_t *o, int argc, char **argv)
{
    static const cli_cmd_t cmd = {"read", read_help, "", force_longopts, 0};
    bool force;
    int ec;
    if (!getopt_force(o, argc, argv, &cmd, &force, &ec)) {
        return ec;
    }
    if (cli_want_args(o, argc, argv, &cmd, 2, 2, "ADDR:LEN FILE, e.g. 0x08020000:64K out.bin") !=
        H7_EXIT_OK) {
        return H7_EXIT_USAGE;
    }
    cli_addr_spec_t spec;
    if (!parse_range(o, "read", argv[optind], &spec)) {
        return H7_EXIT_USAGE;
    }
    const char *path = argv[optind + 1];
    if (!force && access(path, F_OK) == 0) {
        cli_error(o, H7_EXIT_USAGE,
                  "%s exists: nothing was read; add --force to overwrite it, or name "
                  "another file",
                  path);
        return H7_EXIT_USAGE;
    }
    uint8_t *buf = malloc(spec.len);
    if (!buf) {
        cli_error(o, H7_EXIT_FAIL, "out of memory for %u bytes", spec.len);
        return H7_EXIT_FAIL;
    }
    cli_dev_t d;
    int rc = cli_open_dfu(o, &d);
    if (rc != H7_EXIT_OK) {
        free(buf);
        return rc;
    }
    /* Check the range against the device's layout before asking for it. */
    h7_layout_t layout;
    char lerr[128];
    if (h7_layout_parse(d.info.alts[d.alt_index].name, &layout, lerr, sizeof(lerr)) == 0) {
        uint64_t end = (uint64_t)spec.addr + spec.len;
        for (uint64_t a = spec.addr; a < end;) {
            h7_sector_t sec;
            if (!h7_layout_find(&layout, (uint32_t)a, &sec) || !(sec.attr & H7_MEM_READ)) {
                cli_error(o, H7_EXIT_REFUSED,
                          "0x%08llx is not readable memory of this device (see `h7dfu info`): "
                          "nothing was read",
                          (unsigned long long)a);
                rc = H7_EXIT_REFUSED;
                goto out;
            }
            a = (uint64_t)sec.addr + sec.size;
        }
    }
    cli_stop_install();
    if (h7_ops_read(&d.dfu, spec.addr, buf, spec.len, cli_progress, (void *)o) != 0) {
        if (d.dfu.err.status == H7_STATUS_ERR_TARGET) {
            cli_info(o, "the device refuses to read this memory back: a locked bootloader "
                        "(docs/production.md); writes are still verified by its CRC command");
        }
        rc = cli_fail_dfu(o, &d.dfu, "read failed");
        goto out;
    }
    if (cli_stop_asked()) {
        cli_error(o, H7_EXIT_INTERRUPTED,
                  "interrupted: the read was over, nothing was saved to %s; the board is in DFU "
                  "mode (dfuIDLE); run the same command again to read it",
                  path);
        rc = H7_EXIT_INTERRUPTED;
        goto out;
    }
    cli_progress_end();
    h7_image_t img;
    h7_image_error_t ierr;
    h7_image_init(&img);
    if (h7_image_add(&img, 0, spec.addr, buf, spec.len, &ierr) != 0) {
        cli_error(o, H7_EXIT_FAIL, "%s", ierr.message);
        rc = H7_EXIT_FAIL;
    } else {
        rc = cli_save_image(o, &img, path, d.info.vid, d.info.pid);
    }
    h7_image_free(&img);
    if (rc != H7_EXIT_OK) {
        goto out;
    }
    cli_info(o, "read %u bytes at 0x%08x into %s in %.2f s", spec.len, spec.addr, path,
             cli_elapsed());
    cli_json_t j;
    if (cli_doc_begin(o, &j, H7_EXIT_OK)) {
        cli_doc_device(&j, &d.info);
        cli_json_addr(&j, "address", spec.addr);
        cli_json_int(&j, "bytes", spec.len);
        cli_json_string(&j, "file", path);
        cli_json_seconds(&j, "seconds", cli_elapsed());
        cli_doc_end(&j);
    }
out:
    cli_close(&d);
    free(buf);
    return rc;
}

static const char erase_help[] =
    "usage: h7dfu [OPTIONS] erase ADDR:LEN | --mass\n\n"
    "Erases every sector touched by ADDR:LEN (checked against the device's memory\n"
    "layout before anything is erased), or with --mass all writable flash. The\n"
    "bootloader's own sector is never erased. LEN may end in K (KiB) or M (MiB).\n\n"
    "  --mass           erase all writable flash (DfuSe mass erase), instead of ADDR:LEN\n"
    "Global options may also come after the command or its argument (`h7dfu --help`).\n";

int cmd_erase(cli_opts_t *o, int argc, char **argv)
{
    static const struct option longopts[] = {{"mass", no_argument, NULL, OPT_MASS},
                                             {NULL, 0, NULL, 0}};
    static const cli_cmd_t cmd = {"erase", erase_help, "", longopts, 0};
    bool mass = false;
    int c, ec = H7_EXIT_OK;
    while ((c = cli_getopt(o, argc, argv, &cmd, &ec)) >= 0) {
        mass = mass || c == OPT_MASS;
    }
    if (c == CLI_OPT_EXIT) {
        return ec;
    }
    cli_addr_spec_t spec;
    memset(&spec, 0, sizeof(spec));
    if (mass) {
        if (optind < argc) {
            cli_error(o, H7_EXIT_USAGE,
                      "erase takes --mass or ADDR:LEN, not both: '%s' is one argument too many",
                      argv[optind]);
            return H7_EXIT_USAGE;
        }
    } else {
        if (cli_want_args(o, argc, argv, &cmd, 1, 1, "ADDR:LEN or --mass") != H7_EXIT_OK) {
            return H7_EXIT_USAGE;
        }
        if (!parse_range(o, "erase", argv[optind], &spec)) {
            return H7_EXIT_USAGE;
        }
    }
    cli_dev_t d;
    int rc = cli_open_dfu(o, &d);
    if (rc != H7_EXIT_OK) {
        return rc;
    }
    /* An erase is not stopped halfway: a signal takes effect once it is over. */
    cli_stop_install();
    int r = mass ? h7_ops_mass_erase(&d.dfu)
                 : h7_ops_erase(&d.dfu, d.info.alts[d.alt_index].name, spec.addr, spec.len);
    if (r != 0) {
        rc = cli_fail_dfu(o, &d.dfu, "erase failed");
    } else if (cli_stop_asked()) {
        rc = cli_interrupted(o, "the erase is complete (an erase is not stopped halfway); the "
                                "board is in DFU mode (dfuIDLE)");
    } else {
        cli_info(o, "%s done in %.2f s", mass ? "mass erase" : "erase", cli_elapsed());
        cli_json_t j;
        if (cli_doc_begin(o, &j, H7_EXIT_OK)) {
            cli_doc_device(&j, &d.info);
            cli_json_bool(&j, "mass", mass);
            if (mass) {
                cli_json_null(&j, "address");
                cli_json_null(&j, "bytes");
            } else {
                cli_json_addr(&j, "address", spec.addr);
                cli_json_int(&j, "bytes", spec.len);
            }
            cli_json_seconds(&j, "seconds", cli_elapsed());
            cli_doc_end(&j);
        }
    }
    cli_close(&d);
    return rc;
}

static const char leave_help[] =
    "usage: h7dfu [OPTIONS] leave [--force] [ADDR]\n\n"
    "Leaves DFU mode. With ADDR, the device is told to start the code there\n"
    "(DfuSe set-address + zero-length download); without ADDR, the start of the\n"
    "first writable sector of the layout.\n\n"
    "On h7dfu's bootloader the application slot is checked first, as the bootloader\n"
    "checks it at reset (record, CRCs, vector table): a slot it would not start is\n"
    "refused (exit 3, with its reason; the board stays in DFU mode). After the\n"
    "leave h7dfu waits for the board and says what it did: the application started\n"
    "(with its version), or the bootloader stayed in DFU mode (exit 6, with why).\n"
    "Other devices (ST's ROM bootloader) are told to leave as dfu-util does.\n\n"
    "  --force          leave even when the bootloader would not start the slot\n"
    "Global options may also come after the command or ADDR (`h7dfu --help`).\n";

/* The h7dfu bootloader: false (after saying why) when the slot holds nothing
 * it would start and leaving is not forced, or the slot could not be read. */
static bool leave_slot_ok(const cli_opts_t *o, cli_dev_t *d, bool force, int *rc)
{
    h7_boot_status_t bs;
    if (o->verbose && h7_dfuse_boot_status(&d->dfu, &bs) == 0) {
        cli_info(o, "at its last reset the bootloader chose to %s (%s; slot: %s)",
                 boot_action_name((boot_action_t)bs.action), boot_why_name((boot_why_t)bs.why),
                 boot_validate_reason_name((boot_validate_t)bs.validation));
    }
    char why[96];
    int ok = cli_slot_check_device(&d->dfu, why, sizeof(why));
    if (ok < 0) {
        *rc = cli_fail_dfu(o, &d->dfu, "leave: reading the application slot failed");
        return false;
    }
    if (ok == 1) {
        return true;
    }
    if (ok == 2) {
        cli_info(o, "the bootloader does not let the host read the slot back (a locked build): "
                    "leaving; it starts the application only if the slot validates");
        return true;
    }
    if (force) {
        cli_info(o,
                 "the h7dfu bootloader would not start the application slot (%s): leaving "
                 "anyway (--force)",
                 why);
        return true;
    }
    cli_error(o, H7_EXIT_FILE,
              "the application slot holds no image the h7dfu bootloader would start (%s): write "
              "one stamped with `h7dfu image stamp -V VERSION IN OUT` (or add --force to leave "
              "anyway); the board stays in DFU mode",
              why);
    *rc = H7_EXIT_FILE;
    return false;
}

int cmd_leave(cli_opts_t *o, int argc, char **argv)
{
    static const cli_cmd_t cmd = {"leave", leave_help, "", force_longopts, 0};
    bool force;
    int ec;
    if (!getopt_force(o, argc, argv, &cmd, &force, &ec)) {
        return ec;
    }
    if (cli_want_args(o, argc, argv, &cmd, 0, 1, "at most one ADDR") != H7_EXIT_OK) {
        return H7_EXIT_USAGE;
    }
    uint32_t addr = 0;
    bool has_addr = optind < argc;
    if (has_addr && !cli_parse_u32(argv[optind], &addr)) {
        cli_error(o, H7_EXIT_USAGE, "leave: bad address '%s': want a number, e.g. 0x08020000",
                  argv[optind]);
        return H7_EXIT_USAGE;
    }
    cli_dev_t d;
    int rc = cli_open_dfu(o, &d);
    if (rc != H7_EXIT_OK) {
        return rc;
    }
    if (!has_addr) {
        addr = cli_default_start(&d);
    }
    /* The h7dfu bootloader has the boot status command; ST's ROM does not. */
    const bool h7bl = h7_dfuse_has_command(&d.dfu, H7_DFUSE_BOOT_STATUS);
    if (h7bl && !leave_slot_ok(o, &d, force, &rc)) {
        goto out;
    }
    if ((rc = cli_leave_and_report(o, &d, addr, h7bl)) != H7_EXIT_OK) {
        goto out;
    }
    cli_json_t j;
    if (cli_doc_begin(o, &j, H7_EXIT_OK)) {
        cli_doc_device(&j, &d.info);
        cli_json_addr(&j, "address", addr);
        cli_doc_end(&j);
    }
out:
    cli_close(&d);
    return rc;
}
