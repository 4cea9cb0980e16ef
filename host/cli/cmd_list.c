/* `h7dfu list` and `h7dfu info`. */
#include "boot.h"
#include "cmd.h"

#include <stdlib.h>
#include <string.h>

#include "h7_layout.h"

static void json_device(const h7_usb_device_t *d)
{
    printf("{\"vid\":\"%04x\",\"pid\":\"%04x\",\"bcd_device\":\"%04x\",\"bus\":%u,\"devnum\":%u,"
           "\"path\":",
           d->vid, d->pid, d->bcd_device, d->bus, d->devnum);
    cli_json_str(stdout, d->path);
    printf(",\"mode\":\"%s\",\"manufacturer\":", d->dfu_mode ? "dfu" : "runtime");
    cli_json_str(stdout, d->manufacturer);
    printf(",\"product\":");
    cli_json_str(stdout, d->product);
    printf(",\"serial\":");
    cli_json_str(stdout, d->serial);
    printf(",\"interface\":%u,\"transfer_size\":%u,\"bcd_dfu\":\"%04x\",\"attributes\":%u,"
           "\"alts\":[",
           d->interface, d->transfer_size, d->bcd_dfu, d->dfu_attributes);
    for (unsigned i = 0; i < d->n_alts; i++) {
        printf("%s{\"alt\":%u,\"name\":", i ? "," : "", d->alts[i].alt);
        cli_json_str(stdout, d->alts[i].name);
        printf("}");
    }
    printf("]}");
}

static const char list_help[] =
    "usage: h7dfu [OPTIONS] list [-d VID:PID] [-S SERIAL] [-p PATH] [-w SECONDS] [--json]\n\n"
    "Lists every USB device with a DFU interface: devices in DFU mode with\n"
    "their alternate settings and memory layouts, and running applications\n"
    "with a DFU runtime interface (which `h7dfu detach` can switch).\n"
    "With -d, -S or -p only the devices that match; none matching is exit 4.\n"
    "Global options may also come after the command (`h7dfu --help`).\n";

int cmd_list(cli_opts_t *o, int argc, char **argv)
{
    static const cli_cmd_t cmd = {"list", list_help, "", NULL, CLI_G_ALT};
    int ec = H7_EXIT_OK;
    if (cli_getopt(o, argc, argv, &cmd, &ec) != CLI_OPT_END)
        return ec;
    if (cli_want_args(o, argc, argv, &cmd, 0, 0, "") != H7_EXIT_OK)
        return H7_EXIT_USAGE;
    h7_usb_t *usb = NULL;
    int rc = cli_usb_init(o, &usb);
    if (rc != H7_EXIT_OK)
        return rc;
    h7_usb_device_t *devs = NULL;
    int n = cli_find_all(usb, o, &devs);
    h7_usb_exit(usb);
    if (n < 0) {
        cli_error(o, H7_EXIT_USB, "cannot list USB devices: %s", h7_usb_strerror(n));
        return H7_EXIT_USB;
    }
    if (n == 0 && (o->given & CLI_G_DEVICE)) {
        /* A filter is a question about one device: none is the answer of
         * the other commands, exit 4. */
        char what[160];
        snprintf(what, sizeof(what), "%s%s%s%s%s%s", o->filter.serial ? " serial " : "",
                 o->filter.serial ? o->filter.serial : "", o->filter.path ? " path " : "",
                 o->filter.path ? o->filter.path : "", o->filter.vid || o->filter.pid ? " ID " : "",
                 "");
        if (o->filter.vid || o->filter.pid)
            snprintf(what + strlen(what), sizeof(what) - strlen(what), "%04x:%04x", o->filter.vid,
                     o->filter.pid);
        cli_error(o, H7_EXIT_NO_DEVICE,
                  "no DFU device with%s found%s: check the cable, and `h7dfu list` without "
                  "-d/-S/-p for every device",
                  what, o->timeout_ms ? " within the wait time" : "");
        return H7_EXIT_NO_DEVICE;
    }
    if (o->json) {
        printf("{\"ok\":true,\"devices\":[");
        for (int i = 0; i < n; i++) {
            printf(i ? "," : "");
            json_device(&devs[i]);
        }
        printf("]}\n");
        free(devs);
        return H7_EXIT_OK;
    }
    if (n == 0)
        printf("no DFU devices found\n");
    for (int i = 0; i < n; i++) {
        const h7_usb_device_t *d = &devs[i];
        printf("%04x:%04x %-8s path=%s devnum=%u serial=\"%s\" \"%s\"\n", d->vid, d->pid,
               d->dfu_mode ? "DFU" : "runtime", d->path, d->devnum, d->serial, d->product);
        for (unsigned a = 0; a < d->n_alts; a++)
            printf("    alt=%u name=\"%s\"\n", d->alts[a].alt, d->alts[a].name);
    }
    free(devs);
    return H7_EXIT_OK;
}

static void print_layout(const char *s)
{
    h7_layout_t l;
    char err[128];
    if (h7_layout_parse(s, &l, err, sizeof(err)) != 0) {
        printf("      (not a DfuSe memory layout: %s)\n", err);
        return;
    }
    for (size_t g = 0; g < l.ngroups; g++) {
        char attr[64];
        const h7_mem_group_t *m = &l.group[g];
        printf("      0x%08x  %2u x %6u bytes  %s\n", m->addr, m->count, m->size,
               h7_mem_attr_str(m->attr, attr, sizeof(attr)));
    }
}

static const char info_help[] =
    "usage: h7dfu [OPTIONS] info [-d VID:PID] [-S SERIAL] [-p PATH] [-w SECONDS] [--json]\n\n"
    "Shows the one DFU-mode device selected by the options: IDs, strings,\n"
    "DFU functional descriptor, each alternate setting's memory layout,\n"
    "its DFU state and status (decoded), and on the h7dfu bootloader why it\n"
    "is in DFU mode (its boot decision, the slot check, the newest record).\n"
    "Global options may also come after the command (`h7dfu --help`).\n";

int cmd_info(cli_opts_t *o, int argc, char **argv)
{
    static const cli_cmd_t cmd = {"info", info_help, "", NULL, CLI_G_ALT};
    int ec = H7_EXIT_OK;
    if (cli_getopt(o, argc, argv, &cmd, &ec) != CLI_OPT_END)
        return ec;
    if (cli_want_args(o, argc, argv, &cmd, 0, 0, "") != H7_EXIT_OK)
        return H7_EXIT_USAGE;
    cli_dev_t d;
    int rc = cli_open_dfu(o, &d);
    if (rc != H7_EXIT_OK)
        return rc;
    h7_dfu_status_rec_t st;
    int src = h7_dfu_get_status(&d.dfu, &st);
    /* the h7dfu bootloader says why it is in DFU mode (docs/protocol.md) */
    h7_boot_status_t bs;
    bool has_bs = src >= 0 && st.state == H7_ST_IDLE &&
                  h7_dfuse_has_command(&d.dfu, H7_DFUSE_BOOT_STATUS) &&
                  h7_dfuse_boot_status(&d.dfu, &bs) == 0;
    if (o->json) {
        printf("{\"ok\":true,\"device\":");
        json_device(&d.info);
        if (src >= 0)
            printf(",\"state\":\"%s\",\"status\":\"%s\"", h7_dfu_state_name(st.state),
                   h7_dfu_status_name(st.status));
        if (has_bs)
            printf(",\"boot\":{\"decision\":\"%s\",\"why\":\"%s\",\"slot\":\"%s\","
                   "\"record_version\":\"%u.%u.%u+%lu\"}",
                   boot_action_name((boot_action_t)bs.action), boot_why_name((boot_why_t)bs.why),
                   boot_validate_reason_name((boot_validate_t)bs.validation), bs.major, bs.minor,
                   bs.patch, (unsigned long)bs.build);
        printf("}\n");
    } else {
        const h7_usb_device_t *i = &d.info;
        printf("device      %04x:%04x (bcdDevice %04x) at %s, devnum %u\n", i->vid, i->pid,
               i->bcd_device, i->path, i->devnum);
        printf("product     %s\nmanufacturer %s\nserial      %s\n", i->product, i->manufacturer,
               i->serial);
        printf("DFU         version %x.%02x, transfer size %u, detach timeout %u ms, "
               "attributes 0x%02x (%s%s%s%s)\n",
               i->bcd_dfu >> 8, i->bcd_dfu & 0xff, i->transfer_size, i->detach_timeout_ms,
               i->dfu_attributes, i->dfu_attributes & 1 ? "download " : "",
               i->dfu_attributes & 2 ? "upload " : "",
               i->dfu_attributes & 4 ? "manifestation-tolerant " : "",
               i->dfu_attributes & 8 ? "will-detach" : "");
        for (unsigned a = 0; a < i->n_alts; a++) {
            printf("  alt %u     %s\n", i->alts[a].alt, i->alts[a].name);
            print_layout(i->alts[a].name);
        }
        if (src >= 0)
            printf("state       %s: %s\nstatus      %s: %s\n", h7_dfu_state_name(st.state),
                   h7_dfu_state_text(st.state), h7_dfu_status_name(st.status),
                   h7_dfu_status_text(st.status));
        if (has_bs) {
            printf("boot        %s at the last reset: %s; slot: %s", boot_action_name(bs.action),
                   boot_why_name(bs.why), boot_validate_reason_name(bs.validation));
            if (bs.major || bs.minor || bs.patch || bs.build)
                printf("; newest record v%u.%u.%u+%lu", bs.major, bs.minor, bs.patch,
                       (unsigned long)bs.build);
            printf("\n");
        }
    }
    if (src < 0) {
        rc = cli_fail_dfu(o, &d.dfu, "GETSTATUS");
        cli_close(&d);
        return rc;
    }
    cli_close(&d);
    return H7_EXIT_OK;
}
