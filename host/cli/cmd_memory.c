/* `h7dfu read`, `h7dfu erase`, `h7dfu leave`. */
#include "cmd.h"

#include <stdlib.h>
#include <string.h>

#include "h7_layout.h"

static const char read_help[] =
    "usage: h7dfu [OPTIONS] read ADDR:LEN FILE\n\n"
    "Reads LEN bytes of device memory at ADDR into FILE. The format follows the\n"
    "extension: .hex (Intel HEX), .dfu (DfuSe), anything else raw binary.\n";

int cmd_read(const cli_opts_t *o, int argc, char **argv)
{
    if (cli_want_help(argc, argv, read_help))
        return H7_EXIT_OK;
    cli_addr_spec_t spec;
    if (argc != 3 || !cli_parse_addr_spec(argv[1], &spec) || !spec.has_addr || !spec.has_len ||
        spec.len == 0) {
        cli_error(o, H7_EXIT_USAGE, "read wants ADDR:LEN FILE, e.g. read 0x08020000:65536 out.bin");
        return H7_EXIT_USAGE;
    }
    const char *path = argv[2];
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
    if (h7_ops_read(&d.dfu, spec.addr, buf, spec.len, cli_progress, (void *)o) != 0) {
        rc = cli_fail_dfu(o, &d.dfu, "read failed");
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
    if (rc != H7_EXIT_OK)
        goto out;
    cli_info(o, "read %u bytes at 0x%08x into %s", spec.len, spec.addr, path);
    if (o->json)
        printf("{\"ok\":true,\"command\":\"read\",\"address\":%u,\"bytes\":%u}\n", spec.addr,
               spec.len);
out:
    cli_close(&d);
    free(buf);
    return rc;
}

static const char erase_help[] =
    "usage: h7dfu [OPTIONS] erase ADDR:LEN | --mass\n\n"
    "Erases every sector touched by ADDR:LEN (checked against the device's memory\n"
    "layout before anything is erased), or with --mass all writable flash. The\n"
    "bootloader's own sector is never erased.\n";

int cmd_erase(const cli_opts_t *o, int argc, char **argv)
{
    if (cli_want_help(argc, argv, erase_help))
        return H7_EXIT_OK;
    cli_addr_spec_t spec;
    bool mass = argc == 2 && strcmp(argv[1], "--mass") == 0;
    if (!mass && (argc != 2 || !cli_parse_addr_spec(argv[1], &spec) || !spec.has_addr ||
                  !spec.has_len || spec.len == 0)) {
        cli_error(o, H7_EXIT_USAGE, "erase wants ADDR:LEN or --mass");
        return H7_EXIT_USAGE;
    }
    cli_dev_t d;
    int rc = cli_open_dfu(o, &d);
    if (rc != H7_EXIT_OK)
        return rc;
    int r = mass ? h7_ops_mass_erase(&d.dfu)
                 : h7_ops_erase(&d.dfu, d.info.alts[d.alt_index].name, spec.addr, spec.len);
    if (r != 0) {
        rc = cli_fail_dfu(o, &d.dfu, "erase failed");
    } else {
        cli_info(o, mass ? "mass erase done" : "erase done");
        if (o->json)
            printf("{\"ok\":true,\"command\":\"erase\"}\n");
    }
    cli_close(&d);
    return rc;
}

static const char leave_help[] =
    "usage: h7dfu [OPTIONS] leave [ADDR]\n\n"
    "Leaves DFU mode. With ADDR, the device is told to start the code there\n"
    "(DfuSe set-address + zero-length download); without ADDR, the start of the\n"
    "first writable sector of the layout. h7dfu's bootloader always validates the\n"
    "application and starts it through a reset.\n";

int cmd_leave(const cli_opts_t *o, int argc, char **argv)
{
    if (cli_want_help(argc, argv, leave_help))
        return H7_EXIT_OK;
    uint32_t addr = 0;
    bool has_addr = argc == 2;
    if (argc > 2 || (has_addr && !cli_parse_u32(argv[1], &addr))) {
        cli_error(o, H7_EXIT_USAGE, "leave wants at most one ADDR");
        return H7_EXIT_USAGE;
    }
    cli_dev_t d;
    int rc = cli_open_dfu(o, &d);
    if (rc != H7_EXIT_OK)
        return rc;
    if (!has_addr)
        addr = cli_default_start(&d);
    if (h7_ops_leave(&d.dfu, true, addr) != 0) {
        rc = cli_fail_dfu(o, &d.dfu, "leave failed");
    } else {
        cli_info(o, "left DFU mode: the device restarts");
        if (o->json)
            printf("{\"ok\":true,\"command\":\"leave\"}\n");
    }
    cli_close(&d);
    return rc;
}
