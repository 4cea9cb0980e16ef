/* `h7dfu write FILE`: plan, erase the touched sectors, write, verify, leave. */
#include "cmd.h"

#include <string.h>

#include "h7_layout.h"
#include "h7_plan.h"

static const char write_help[] =
    "usage: h7dfu [OPTIONS] write [-s ADDR[:leave][:mass-erase][:force]] [-f FORMAT]\n"
    "                             [--leave] [--no-verify] [--no-skip] [--readback] FILE\n\n"
    "Writes FILE (Intel HEX, S-record, DfuSe .dfu, ELF, or raw binary) to the device.\n"
    "Only the sectors the image touches are erased; the bootloader's sector and any\n"
    "sector the device marks read-only are refused before anything is erased. Every\n"
    "block is read back and compared unless --no-verify.\n\n"
    "  -s, --address ADDR[:mods]\n"
    "                   address for a raw binary (dfu-util syntax); modifiers:\n"
    "                   leave (start the application afterwards), mass-erase (erase\n"
    "                   all writable flash first), force (accept a .dfu whose suffix\n"
    "                   names another VID:PID)\n"
    "  -f, --format FORMAT\n"
    "                   bin, ihex, srec, dfuse, dfu, elf (default: detect)\n"
    "  --leave          leave DFU mode after a verified write\n"
    "  --no-verify      skip the verification (not with leave)\n"
    "  --no-skip        rewrite every touched sector, even those that already hold\n"
    "                   the image's bytes (checked by the device's CRC-32 or read-back)\n"
    "  --readback       verify byte for byte by read-back even when the device can\n"
    "                   compute CRC-32s\n"
    "  -v, --verbose    also the device, the plan (sectors, blocks), what was erased,\n"
    "                   skipped and verified, and the time of each phase\n"
    "Global options may also come after the command or FILE (`h7dfu --help`).\n";

enum { OPT_LEAVE = 256, OPT_NO_VERIFY, OPT_NO_SKIP, OPT_READBACK };

/* -v: the device and the plan before anything is sent. */
static void say_plan(const cli_opts_t *o, const cli_dev_t *d, const h7_image_t *img,
                     const h7_write_cfg_t *cfg)
{
    const char *layout = d->info.alts[d->alt_index].name;
    cli_info(o, "device %04x:%04x serial %s at %s, alt %u \"%s\", transfer size %u", d->info.vid,
             d->info.pid, d->info.serial, d->info.path, d->info.alts[d->alt_index].alt, layout,
             d->dfu.transfer_size);
    h7_layout_t l;
    char err[128];
    if (h7_layout_parse(layout, &l, err, sizeof(err)) != 0) {
        return;
    }
    h7_plan_t plan;
    h7_plan_refusal_t ref;
    h7_plan_opts_t po = h7_plan_default_opts();
    po.alt = -1;
    memset(&plan, 0, sizeof(plan));
    if (h7_plan_make(img, &l, &po, &plan, &ref) != 0) {
        return; /* the write says why */
    }
    uint64_t bytes = 0;
    for (size_t i = 0; i < plan.n_block; i++) {
        bytes += plan.block[i].len;
    }
    cli_info(o,
             "plan: %zu sector(s) touched (%llu bytes to erase at most), %zu block(s), "
             "%llu bytes in whole 32-byte flash words%s",
             plan.n_erase, (unsigned long long)plan.erase_bytes, plan.n_block,
             (unsigned long long)bytes,
             cfg->record ? ", then the image record appended to the record area" : "");
    for (size_t i = 0; i < plan.n_erase; i++) {
        cli_info(o, "  sector at 0x%08x, %u bytes", plan.erase[i].addr, plan.erase[i].size);
    }
    cli_info(o, "%s",
             cfg->no_skip ? "every touched sector is erased and written (--no-skip)"
                          : "sectors that already hold the image's bytes are skipped");
    h7_plan_free(&plan);
}

int cmd_write(cli_opts_t *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"address", required_argument, NULL, 's'},
        {"format", required_argument, NULL, 'f'},
        {"leave", no_argument, NULL, OPT_LEAVE},
        {"no-verify", no_argument, NULL, OPT_NO_VERIFY},
        {"no-skip", no_argument, NULL, OPT_NO_SKIP},
        {"readback", no_argument, NULL, OPT_READBACK},
        {NULL, 0, NULL, 0},
    };
    static const cli_cmd_t cmd = {"write", write_help, "s:f:", longopts, 0};
    cli_addr_spec_t spec;
    memset(&spec, 0, sizeof(spec));
    h7_load_opts_t lopts = {.format = H7_FMT_AUTO};
    bool verify = true, no_skip = false, readback = false;
    int c, ec = H7_EXIT_OK;
    while ((c = cli_getopt(o, argc, argv, &cmd, &ec)) >= 0) {
        switch (c) {
        case 's': {
            bool leave = spec.leave;
            if (!cli_parse_addr_spec(optarg, &spec)) {
                cli_error(o, H7_EXIT_USAGE, "bad -s '%s': want ADDR[:leave][:mass-erase][:force]",
                          optarg);
                return H7_EXIT_USAGE;
            }
            if (spec.has_len) {
                cli_error(o, H7_EXIT_USAGE,
                          "bad -s '%s': write takes no length (it writes the whole image); "
                          "want ADDR[:leave][:mass-erase][:force]",
                          optarg);
                return H7_EXIT_USAGE;
            }
            spec.leave |= leave;
            break;
        }
        case 'f':
            if (!cli_parse_format(o, optarg, &lopts.format)) {
                return H7_EXIT_USAGE;
            }
            break;
        case OPT_LEAVE:
            spec.leave = true;
            break;
        case OPT_NO_VERIFY:
            verify = false;
            break;
        case OPT_NO_SKIP:
            no_skip = true;
            break;
        case OPT_READBACK:
            readback = true;
            break;
        }
    }
    if (c == CLI_OPT_EXIT) {
        return ec;
    }
    if (cli_want_args(o, argc, argv, &cmd, 1, 1, "exactly one FILE") != H7_EXIT_OK) {
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
    if (lrc != H7_EXIT_OK) {
        return lrc;
    }
    /* With leave, ADDR is where the application starts (dfu-util's -s). */
    if (!spec.leave && (lrc = cli_check_base_used(o, path, &lopts, &img)) != H7_EXIT_OK) {
        return lrc;
    }

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

    /* A leave on the h7dfu bootloader (it has the boot status command)
     * starts only a stamped image it validates: refuse the others before
     * anything is written, as update does. */
    const bool h7bl = h7_dfuse_has_command(&d.dfu, H7_DFUSE_BOOT_STATUS);
    char why[128];
    if (spec.leave && h7bl && !spec.force && !cli_slot_image_ok(&img, why, sizeof(why))) {
        cli_error(o, H7_EXIT_FILE,
                  "%s is not an image the h7dfu bootloader would start (%s): stamp it with "
                  "`h7dfu image stamp -V VERSION IN OUT` (or add :force to -s to write it and "
                  "leave anyway); nothing was written",
                  path, why);
        rc = H7_EXIT_FILE;
        goto out;
    }

    cli_info(o, "writing %s (%s, %llu bytes at 0x%08x..0x%08llx) to %04x:%04x serial %s", path,
             h7_image_format_name(img.format), (unsigned long long)h7_image_total_size(&img),
             h7_image_min_addr(&img), (unsigned long long)h7_image_end_addr(&img), d.info.vid,
             d.info.pid, d.info.serial);
    cli_stop_install();
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
                          .user = (void *)o,
                          .cancel = cli_stop_flag()};
    uint8_t record[BOOT_REC_SIZE];
    if (cli_slot_prepare(&img, &cfg, record) != 0) {
        cli_error(o, H7_EXIT_FAIL, "out of memory: nothing was written");
        rc = H7_EXIT_FAIL;
        goto out;
    }
    if (o->verbose) {
        say_plan(o, &d, &img, &cfg);
    }
    h7_write_report_t rep;
    memset(&rep, 0, sizeof(rep));
    if (h7_ops_write_image(&d.dfu, &img, d.info.alts[d.alt_index].name, &cfg, &rep) != 0) {
        rc = d.dfu.err.code == H7_E_CANCELLED ? cli_write_interrupted(o, &rep)
                                              : cli_fail_dfu(o, &d.dfu, "write failed");
        goto out;
    }
    cli_progress_end();
    if (o->verbose) {
        cli_info(o, "%s by %s; %llu bytes verified", verify ? "verified" : "not verified",
                 rep.device_crc && !readback ? "the device's CRC-32" : "read-back",
                 (unsigned long long)rep.bytes_verified);
        if (cfg.record) {
            cli_info(o, "image record at 0x%08x%s%s", rep.record_addr,
                     rep.record_present ? " (already there: not rewritten)" : "",
                     rep.record_compacted ? " (the record area was full: erased first)" : "");
        }
    }
    cli_info(o, "wrote %llu bytes, erased %zu sector(s), %zu sector(s) already equal%s, in %.2f s",
             (unsigned long long)rep.bytes_written, rep.sectors_erased, rep.sectors_skipped,
             verify ? ", verified" : " (not verified)", cli_elapsed());
    if (spec.leave) {
        /* Start where the image starts, as dfu-util's -s ADDR:leave does. */
        uint32_t start = spec.has_addr ? spec.addr : h7_image_min_addr(&img);
        if ((rc = cli_leave_and_report(o, &d, start, h7bl)) != H7_EXIT_OK) {
            goto out;
        }
    }
    cli_json_t j;
    if (cli_doc_begin(o, &j, H7_EXIT_OK)) {
        cli_doc_device(&j, &d.info);
        cli_json_string(&j, "file", path);
        cli_json_string(&j, "format", h7_image_format_name(img.format));
        cli_json_addr(&j, "address", h7_image_min_addr(&img));
        cli_json_int(&j, "bytes_written", (long long)rep.bytes_written);
        cli_json_int(&j, "sectors_erased", (long long)rep.sectors_erased);
        cli_json_int(&j, "sectors_skipped", (long long)rep.sectors_skipped);
        cli_json_bool(&j, "verified", verify);
        cli_json_int(&j, "bytes_verified", (long long)rep.bytes_verified);
        cli_json_bool(&j, "left", spec.leave);
        cli_json_seconds(&j, "seconds", cli_elapsed());
        cli_doc_end(&j);
    }
out:
    cli_close(&d);
    h7_image_free(&img);
    return rc;
}
