/* `h7dfu option-bytes`: read (decoded) and, behind --write --yes, change the
 * STM32H7 option bytes through the "@Option Bytes" alternate setting of ST's
 * ROM bootloader. */
#include "cmd.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h7_layout.h"
#include "h7_optbytes.h"

#define MAX_SETS 8

static const char ob_help[] =
    "usage: h7dfu [OPTIONS] option-bytes [--set FIELD=VALUE]... [--write [--yes]\n"
    "                                     [--yes-lock] [--yes-erase]]\n\n"
    "Reads the option bytes through the device's \"@Option Bytes\" alternate setting\n"
    "(ST's ROM bootloader) and shows them decoded: read protection, boot addresses,\n"
    "write protection, PCROP and secure areas, watchdog and reset options.\n\n"
    "  --set FIELD=VALUE  change boot0, boot1 (addresses), rdp (0 or 1; level 2 is\n"
    "                     refused), wrp (bank 1 sector mask), bor (0..3); shows the\n"
    "                     result without writing it\n"
    "  --write            write the changed option bytes (the device then reloads\n"
    "                     them and restarts)\n"
    "  --yes              confirm --write without a question (needed without a terminal)\n"
    "  --yes-lock         also needed to write rdp=1 (read protection: see below)\n"
    "  --yes-erase        also needed to write rdp=0 on a read-protected chip: the\n"
    "                     chip then mass-erases its whole flash, bootloader included\n"
    "The locked production configuration (docs/production.md): --set wrpsn=0x01\n"
    "write-protects sector 0 (the h7dfu bootloader), --set rdp=1 keeps debuggers and\n"
    "the ROM bootloader from reading the flash; the h7dfu bootloader still updates the\n"
    "application. Level 2 is permanent and never set by h7dfu.\n"
    "It uses the \"@Option Bytes\" alternate setting itself: -a is refused.\n"
    "Global options may also come after the command (`h7dfu --help`).\n";

enum { OPT_SET = 256, OPT_WRITE, OPT_YES, OPT_YES_LOCK, OPT_YES_ERASE };

/* What a change of the protections does, said before it is written.
 * RM0433 4.5.3 "Readout protection (RDP)": level 1 blocks flash access from a
 * debugger and from code booted from system memory (ST's ROM bootloader) or
 * RAM, not the CPU running from flash; 1 -> 0 mass-erases the user flash.
 * RM0433 4.5 "Write protection (WRP)", FLASH_WPSN_CUR1R 4.9.13: a WRPSN sector cannot be erased or
 * programmed by anyone until the option byte is cleared. */
static void say_consequences(const cli_opts_t *o, const h7_optbytes_t *cur,
                             const h7_optbytes_t *next)
{
    if (cur->rdp_level == 0 && next->rdp_level == 1) {
        cli_info(o, "RDP level 1: debuggers and ST's ROM bootloader can no longer read the flash "
                    "(ROM DFU UPLOAD refused, errVENDOR) nor write it; the h7dfu bootloader, "
                    "running from flash, still updates the application; going back to level 0 "
                    "mass-erases the whole flash (both banks, the bootloader too)");
    }
    if (cur->rdp_level == 1 && next->rdp_level == 0) {
        cli_info(o, "RDP regression to level 0: the chip MASS-ERASES its whole flash (both "
                    "banks: the h7dfu bootloader in sector 0 and the application) before it "
                    "opens; afterwards only ST's ROM bootloader can start (BOOT0) to flash the "
                    "bootloader again");
    }
    if (!(cur->wrp_bank1 & 1u) && (next->wrp_bank1 & 1u)) {
        cli_info(o, "sector 0 write protected (WRPSN): the h7dfu bootloader can no longer be "
                    "erased or replaced (update-bootloader, ROM writes there are refused) "
                    "until wrp is cleared");
    }
    if ((cur->wrp_bank1 & 1u) && !(next->wrp_bank1 & 1u)) {
        cli_info(o, "sector 0 no longer write protected");
    }
}

static int find_ob_alt(const cli_dev_t *probe)
{
    for (int i = 0; i < probe->info.n_alts; i++) {
        if (strncmp(probe->info.alts[i].name, "@Option Bytes", 13) == 0) {
            return probe->info.alts[i].alt;
        }
    }
    return -1;
}

static bool confirm(void)
{
    if (!isatty(STDIN_FILENO)) {
        return false;
    }
    fprintf(stderr, "Write these option bytes to the device? Type 'yes': ");
    char line[16];
    return fgets(line, sizeof(line), stdin) && strcmp(line, "yes\n") == 0;
}

static void json_area(cli_json_t *j, const char *key, const h7_ob_area_t *a)
{
    cli_json_begin_object(j, key);
    cli_json_bool(j, "active", a->active);
    cli_json_addr(j, "start", a->start);
    cli_json_addr(j, "end", a->end);
    cli_json_bool(j, "erase_on_regression", a->erase_on_regression);
    cli_json_end(j);
}

/* The decoded option bytes as fields (changed: with the --set changes
 * applied; written: they were programmed). */
static void say_done(const cli_opts_t *o, const h7_usb_device_t *dev, const h7_optbytes_t *ob,
                     bool changed, bool written)
{
    cli_json_t j;
    if (!cli_doc_begin(o, &j, H7_EXIT_OK)) {
        return;
    }
    cli_doc_device(&j, dev);
    cli_json_bool(&j, "changed", changed);
    cli_json_bool(&j, "written", written);
    cli_json_begin_object(&j, "option_bytes");
    cli_json_addr(&j, "optsr", ob->optsr);
    cli_json_addr(&j, "optsr_prg", ob->optsr_prg);
    cli_json_int(&j, "rdp", ob->rdp);
    cli_json_int(&j, "rdp_level", ob->rdp_level);
    cli_json_int(&j, "bor_level", ob->bor_level);
    cli_json_bool(&j, "iwdg1_hw", ob->iwdg1_hw);
    cli_json_bool(&j, "nrst_stop_d1", ob->nrst_stop_d1);
    cli_json_bool(&j, "nrst_stby_d1", ob->nrst_stby_d1);
    cli_json_bool(&j, "security", ob->security);
    cli_json_bool(&j, "io_hslv", ob->io_hslv);
    cli_json_bool(&j, "swap_bank", ob->swap_bank);
    cli_json_bool(&j, "busy", ob->busy);
    cli_json_bool(&j, "change_error", ob->change_error);
    cli_json_addr(&j, "boot0", ob->boot_add0);
    cli_json_addr(&j, "boot1", ob->boot_add1);
    cli_json_int(&j, "wrp_bank1", ob->wrp_bank1);
    if (ob->has_bank2) {
        cli_json_int(&j, "wrp_bank2", ob->wrp_bank2);
    } else {
        cli_json_null(&j, "wrp_bank2");
    }
    json_area(&j, "pcrop1", &ob->pcrop1);
    json_area(&j, "secure1", &ob->secure1);
    json_area(&j, "pcrop2", &ob->pcrop2);
    json_area(&j, "secure2", &ob->secure2);
    cli_doc_end(&j);
}

int cmd_optbytes(cli_opts_t *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"set", required_argument, NULL, OPT_SET},
        {"write", no_argument, NULL, OPT_WRITE},
        {"yes", no_argument, NULL, OPT_YES},
        {"yes-lock", no_argument, NULL, OPT_YES_LOCK},
        {"yes-erase", no_argument, NULL, OPT_YES_ERASE},
        {NULL, 0, NULL, 0},
    };
    static const cli_cmd_t cmd = {"option-bytes", ob_help, "", longopts, CLI_G_ALT};
    const char *sets[MAX_SETS];
    int nsets = 0;
    bool write = false, yes = false, yes_lock = false, yes_erase = false;
    int c, ec = H7_EXIT_OK;
    while ((c = cli_getopt(o, argc, argv, &cmd, &ec)) >= 0) {
        switch (c) {
        case OPT_SET:
            if (nsets == MAX_SETS) {
                cli_error(o, H7_EXIT_USAGE, "at most %d --set", MAX_SETS);
                return H7_EXIT_USAGE;
            }
            sets[nsets++] = optarg;
            break;
        case OPT_WRITE:
            write = true;
            break;
        case OPT_YES:
            yes = true;
            break;
        case OPT_YES_LOCK:
            yes_lock = true;
            break;
        case OPT_YES_ERASE:
            yes_erase = true;
            break;
        }
    }
    if (c == CLI_OPT_EXIT) {
        return ec;
    }
    if (cli_want_args(o, argc, argv, &cmd, 0, 0, "") != H7_EXIT_OK) {
        return H7_EXIT_USAGE;
    }
    if (write && nsets == 0) {
        cli_error(o, H7_EXIT_USAGE, "--write wants what to write: --set FIELD=VALUE");
        return H7_EXIT_USAGE;
    }
    if (yes && !write) {
        cli_error(o, H7_EXIT_USAGE,
                  "--yes confirms --write, which is not given: nothing to confirm");
        return H7_EXIT_USAGE;
    }

    /* Open once to learn the alternate settings, then on the option-byte one. */
    cli_dev_t d;
    int rc = cli_open_dfu(o, &d);
    if (rc != H7_EXIT_OK) {
        return rc;
    }
    int alt = find_ob_alt(&d);
    if (alt < 0) {
        cli_error(o, H7_EXIT_REFUSED,
                  "this device shows no \"@Option Bytes\" alternate setting (ST's ROM "
                  "bootloader has one; the h7dfu bootloader keeps option bytes out of reach)");
        cli_close(&d);
        return H7_EXIT_REFUSED;
    }
    cli_close(&d);
    cli_opts_t ao = *o;
    ao.alt = alt;
    if ((rc = cli_open_dfu(&ao, &d)) != H7_EXIT_OK) {
        return rc;
    }

    const char *name = d.info.alts[d.alt_index].name;
    h7_layout_t l;
    char lerr[128];
    if (h7_layout_parse(name, &l, lerr, sizeof(lerr)) != 0 || l.ngroups == 0) {
        cli_error(o, H7_EXIT_DEVICE, "cannot read the option-byte layout \"%s\": %s", name, lerr);
        cli_close(&d);
        return H7_EXIT_DEVICE;
    }
    uint32_t base = l.group[0].addr;
    uint32_t len = l.group[0].size * l.group[0].count;
    uint8_t *buf = calloc(1, len ? len : 1);
    h7_optbytes_t ob, cur;
    char text[4096];
    if (!buf) {
        cli_close(&d);
        return H7_EXIT_FAIL;
    }
    if (h7_ops_read(&d.dfu, base, buf, len, NULL, NULL) != 0) {
        rc = cli_fail_dfu(o, &d.dfu, "reading the option bytes failed");
        goto out;
    }
    if (base != H7_OB_BASE || !h7_ob_decode(buf, len, &ob)) {
        cli_error(o, H7_EXIT_DEVICE,
                  "the option bytes at 0x%08x (%u bytes) are not an STM32H74x window", base, len);
        rc = H7_EXIT_DEVICE;
        goto out;
    }
    cur = ob;
    for (int i = 0; i < nsets; i++) {
        char err[256];
        if (!h7_ob_set(buf, len, sets[i], err, sizeof(err))) {
            cli_error(o, H7_EXIT_USAGE, "%s: nothing was written", err);
            rc = H7_EXIT_USAGE;
            goto out;
        }
    }
    if (nsets) {
        /* Show what the device would load: the programming copies as current. */
        uint8_t *view = malloc(len);
        memcpy(view, buf, len);
        memcpy(view + 0x00, buf + 0x04, 4); /* OPTSR_PRG */
        memcpy(view + 0x1C, buf + 0x20, 4); /* WPSN_PRG1R */
        memcpy(view + 0x24, buf + 0x28, 4); /* BOOT_PRGR */
        h7_ob_decode(view, len, &ob);
        free(view);
    }
    h7_ob_describe(&ob, text, sizeof(text));
    if (!o->json) {
        printf("%s%s", nsets ? "after the change:\n" : "", text);
    }
    if (nsets) {
        say_consequences(o, &cur, &ob);
    }
    if (!write) {
        if (nsets) {
            cli_info(o, "nothing written: add --write (and --yes) to program these");
        }
        say_done(o, &d.info, &ob, nsets > 0, false);
        rc = H7_EXIT_OK;
        goto out;
    }
    if (cur.rdp_level == 0 && ob.rdp_level == 1 && !yes_lock) {
        cli_error(o, H7_EXIT_USAGE,
                  "rdp=1 read-protects the chip: add --yes-lock to write it (nothing was written)");
        rc = H7_EXIT_USAGE;
        goto out;
    }
    if (cur.rdp_level == 1 && ob.rdp_level == 0 && !yes_erase) {
        cli_error(o, H7_EXIT_USAGE,
                  "rdp=0 on a read-protected chip erases all of its flash: add --yes-erase to "
                  "write it (nothing was written)");
        rc = H7_EXIT_USAGE;
        goto out;
    }
    if (!yes && !confirm()) {
        cli_error(o, H7_EXIT_USAGE, "not confirmed: nothing was written (use --yes)");
        rc = H7_EXIT_USAGE;
        goto out;
    }
    /* The window is written as one block at its own address: it is a set of
     * registers, not flash, so the flash planner's 32-byte words (which would
     * pad 0x5200201C down to 0x52002000, outside the window) do not apply. */
    if (h7_dfu_recover(&d.dfu) != 0 || h7_dfuse_write(&d.dfu, base, buf, len, NULL, NULL) != 0) {
        rc = cli_fail_dfu(o, &d.dfu, "writing the option bytes failed");
        goto out;
    }
    cli_info(o, "option bytes written; the device reloads them and restarts");
    say_done(o, &d.info, &ob, true, true);
    rc = H7_EXIT_OK;
out:
    free(buf);
    cli_close(&d);
    return rc;
}
