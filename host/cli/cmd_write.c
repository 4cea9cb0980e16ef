/* `h7dfu write FILE`: plan, erase the touched sectors, write, verify, leave. */
#include "cmd.h"

#include <getopt.h>
#include <string.h>

static const char write_help[] =
    "usage: h7dfu [OPTIONS] write [-s ADDR[:leave][:mass-erase][:force]] [-f FORMAT]\n"
    "                             [--no-verify] [--leave] FILE\n\n"
    "Writes FILE (Intel HEX, S-record, DfuSe .dfu, ELF, or raw binary) to the device.\n"
    "Only the sectors the image touches are erased; the bootloader's sector and any\n"
    "sector the device marks read-only are refused before anything is erased. Every\n"
    "block is read back and compared unless --no-verify.\n\n"
    "  -s ADDR[:mods]   address for a raw binary (dfu-util syntax); modifiers:\n"
    "                   leave (start the application afterwards), mass-erase (erase\n"
    "                   all writable flash first), force (accept a .dfu whose suffix\n"
    "                   names another VID:PID)\n"
    "  -f FORMAT        bin, ihex, srec, dfuse, dfu, elf (default: detect)\n"
    "  --leave          leave DFU mode after a verified write\n"
    "  --no-verify      skip the verification (not with leave)\n"
    "  --no-skip        rewrite every touched sector, even those that already hold\n"
    "                   the image's bytes (checked by the device's CRC-32 or read-back)\n"
    "  --readback       verify byte for byte by read-back even when the device can\n"
    "                   compute CRC-32s\n";

int cmd_write(const cli_opts_t *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"address", required_argument, NULL, 's'}, {"format", required_argument, NULL, 'f'},
        {"leave", no_argument, NULL, 'l'},         {"no-verify", no_argument, NULL, 'n'},
        {"no-skip", no_argument, NULL, 'K'},       {"readback", no_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    cli_addr_spec_t spec;
    memset(&spec, 0, sizeof(spec));
    h7_load_opts_t lopts = {.format = H7_FMT_AUTO};
    bool verify = true, no_skip = false, readback = false;
    int c;
    while ((c = getopt_long(argc, argv, "s:f:h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': {
            bool leave = spec.leave;
            if (!cli_parse_addr_spec(optarg, &spec)) {
                cli_error(o, H7_EXIT_USAGE, "bad -s '%s': want ADDR[:leave][:mass-erase][:force]",
                          optarg);
                return H7_EXIT_USAGE;
            }
            spec.leave |= leave;
            break;
        }
        case 'f':
            if (!cli_parse_format(o, optarg, &lopts.format))
                return H7_EXIT_USAGE;
            break;
        case 'l':
            spec.leave = true;
            break;
        case 'n':
            verify = false;
            break;
        case 'K':
            no_skip = true;
            break;
        case 'R':
            readback = true;
            break;
        case 'h':
            fputs(write_help, stdout);
            return H7_EXIT_OK;
        default:
            fputs(write_help, stderr);
            return H7_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        cli_error(o, H7_EXIT_USAGE, "write wants exactly one FILE (see `h7dfu write --help`)");
        return H7_EXIT_USAGE;
    }
    const char *path = argv[optind];
    lopts.has_base = spec.has_addr;
    lopts.base = spec.addr;

    if (spec.leave && !verify) {
        /* Leaving starts what is in flash: only ever a verified image. */
        cli_error(o, H7_EXIT_USAGE,
                  "leave needs a verified image: drop --no-verify, or leave "
                  "later with `h7dfu leave` once you have checked it");
        return H7_EXIT_USAGE;
    }

    /* Everything about the file is checked before the device is touched. */
    h7_image_t img;
    int lrc = cli_load_image(o, path, &lopts, &img);
    if (lrc != H7_EXIT_OK)
        return lrc;

    cli_dev_t d;
    int rc = cli_open_dfu(o, &d);
    if (rc != H7_EXIT_OK) {
        h7_image_free(&img);
        return rc;
    }
    if (img.has_suffix && !spec.force &&
        ((img.id_vendor != 0xffff && img.id_vendor != d.info.vid) ||
         (img.id_product != 0xffff && img.id_product != d.info.pid))) {
        cli_error(o, H7_EXIT_REFUSED,
                  "%s is for device %04x:%04x but this device is %04x:%04x: nothing was "
                  "written (add :force to -s to write it anyway)",
                  path, img.id_vendor, img.id_product, d.info.vid, d.info.pid);
        rc = H7_EXIT_REFUSED;
        goto out;
    }

    cli_info(o, "writing %s (%s, %llu bytes at 0x%08x..0x%08llx) to %04x:%04x serial %s", path,
             h7_image_format_name(img.format), (unsigned long long)h7_image_total_size(&img),
             h7_image_min_addr(&img), (unsigned long long)h7_image_end_addr(&img), d.info.vid,
             d.info.pid, d.info.serial);
    if (spec.mass_erase) {
        cli_info(o, "mass erase");
        if (h7_ops_mass_erase(&d.dfu) != 0) {
            rc = cli_fail_dfu(o, &d.dfu, "mass erase failed");
            goto out;
        }
    }
    h7_write_cfg_t cfg = {.verify = verify,
                          .no_skip = no_skip,
                          .readback_verify = readback,
                          .progress = cli_progress,
                          .user = (void *)o};
    uint8_t record[BOOT_REC_SIZE];
    if (cli_slot_prepare(&img, &cfg, record) != 0) {
        cli_error(o, H7_EXIT_FAIL, "out of memory: nothing was written");
        rc = H7_EXIT_FAIL;
        goto out;
    }
    h7_write_report_t rep;
    memset(&rep, 0, sizeof(rep));
    if (h7_ops_write_image(&d.dfu, &img, d.info.alts[d.alt_index].name, &cfg, &rep) != 0) {
        rc = cli_fail_dfu(o, &d.dfu, "write failed");
        goto out;
    }
    cli_progress_end();
    cli_info(o, "wrote %llu bytes, erased %zu sector(s), %zu sector(s) already equal%s",
             (unsigned long long)rep.bytes_written, rep.sectors_erased, rep.sectors_skipped,
             verify ? ", verified" : " (not verified)");
    if (spec.leave) {
        /* Start where the image starts, as dfu-util's -s ADDR:leave does. */
        uint32_t start = spec.has_addr ? spec.addr : h7_image_min_addr(&img);
        if (h7_ops_leave(&d.dfu, true, start) != 0) {
            rc = cli_fail_dfu(o, &d.dfu, "leave failed");
            goto out;
        }
        cli_info(o, "left DFU mode: the device restarts");
    }
    if (o->json)
        printf("{\"ok\":true,\"command\":\"write\",\"file\":\"%s\",\"bytes_written\":%llu,"
               "\"sectors_erased\":%zu,\"bytes_verified\":%llu,\"left\":%s}\n",
               path, (unsigned long long)rep.bytes_written, rep.sectors_erased,
               (unsigned long long)rep.bytes_verified, spec.leave ? "true" : "false");
out:
    cli_close(&d);
    h7_image_free(&img);
    return rc;
}
