/* `h7dfu list` and `h7dfu info`. */
#include "boot.h"
#include "cmd.h"

#include <stdlib.h>
#include <string.h>

#include "h7_layout.h"
#include "h7_stamp.h"

/* What is installed on a device, as a look that disturbs nothing: the
 * running application's version (its HID report), or for a board in DFU mode
 * on the h7dfu bootloader its boot status (slot check, newest record). */
typedef struct installed {
    bool has_app;
    h7_app_version_t app;
    bool has_bs;
    h7_boot_status_t bs;
} installed_t;

static void look(const h7_usb_device_t *d, installed_t *in)
{
    memset(in, 0, sizeof(*in));
    if (d->dfu_mode) {
        in->has_bs = cli_look_boot_status(d, false, &in->bs) == 0;
    } else {
        in->has_app = cli_look_app_version(d, &in->app) == 0;
    }
}

static bool has_record(const h7_boot_status_t *bs)
{
    return bs->major || bs->minor || bs->patch || bs->build;
}

/* "valid, version 1.2.3" / "no valid image (crc mismatch), newest record 1.2.3" */
static void slot_text(const h7_boot_status_t *bs, char *buf, size_t len)
{
    char ver[64] = "";
    if (has_record(bs)) {
        boot_image_version_t v = {bs->major, bs->minor, bs->patch, bs->build};
        char t[32];
        h7_stamp_version_str(&v, t, sizeof(t));
        snprintf(ver, sizeof(ver), "%s %s",
                 bs->validation == BOOT_VALID ? "version" : "newest record", t);
    }
    if (bs->validation == BOOT_VALID) {
        snprintf(buf, len, "valid image, %s", ver);
    } else {
        snprintf(buf, len, "no valid image (%s)%s%s",
                 boot_validate_reason_name((boot_validate_t)bs->validation), ver[0] ? ", " : "",
                 ver);
    }
}

/* The installed software's fields: "version" (the application's, or the
 * valid slot's) and "slot" (DFU mode on the h7dfu bootloader, else null). */
static void json_installed(cli_json_t *j, const installed_t *in)
{
    boot_image_version_t v;
    if (in->has_app) {
        cli_doc_app_version(j, "version", &in->app);
    } else if (in->has_bs && in->bs.validation == BOOT_VALID && has_record(&in->bs)) {
        v = (boot_image_version_t){in->bs.major, in->bs.minor, in->bs.patch, in->bs.build};
        cli_doc_image_version(j, "version", &v);
    } else {
        cli_json_null(j, "version");
    }
    cli_doc_slot(j, "slot", in->has_bs ? &in->bs : NULL);
}

/* The device object, left open for the caller's fields. */
static void json_device(cli_json_t *j, const char *key, const h7_usb_device_t *d)
{
    cli_json_begin_object(j, key);
    cli_json_id(j, "vid", d->vid);
    cli_json_id(j, "pid", d->pid);
    cli_json_id(j, "bcd_device", d->bcd_device);
    cli_json_int(j, "bus", d->bus);
    cli_json_int(j, "devnum", d->devnum);
    cli_json_string(j, "path", d->path);
    cli_json_string(j, "mode", d->dfu_mode ? "dfu" : "runtime");
    cli_json_string(j, "manufacturer", d->manufacturer);
    cli_json_string(j, "product", d->product);
    cli_json_string(j, "serial", d->serial);
    cli_json_int(j, "interface", d->interface);
    cli_json_int(j, "transfer_size", d->transfer_size);
    cli_json_int(j, "detach_timeout_ms", d->detach_timeout_ms);
    cli_json_id(j, "bcd_dfu", d->bcd_dfu);
    cli_json_int(j, "attributes", d->dfu_attributes);
    cli_json_begin_array(j, "alts");
    for (unsigned i = 0; i < d->n_alts; i++) {
        cli_json_begin_object(j, NULL);
        cli_json_int(j, "alt", d->alts[i].alt);
        cli_json_string(j, "name", d->alts[i].name);
        cli_json_end(j);
    }
    cli_json_end(j);
}

static const char list_help[] =
    "usage: h7dfu [OPTIONS] list [-d VID:PID] [-S SERIAL] [-p PATH] [-w SECONDS] [--json]\n\n"
    "Lists every USB device with a DFU interface: devices in DFU mode with\n"
    "their alternate settings and memory layouts, and running applications\n"
    "with a DFU runtime interface (which `h7dfu detach` can switch).\n"
    "With -d, -S or -p only the devices that match; none matching is exit 4.\n"
    "Global options may also come after the command (`h7dfu --help`).\n";

/* Every device matching the selection, in one look at the bus: the count
 * (*devs malloc'd), or < 0 with *rc the exit code (said) when libusb could
 * not start. */
static int find_all_now(const cli_opts_t *o, h7_usb_device_t **devs, int *rc)
{
    h7_usb_t *usb = NULL;
    *devs = NULL;
    if ((*rc = cli_usb_init(o, &usb)) != H7_EXIT_OK) {
        return -1;
    }
    int n = cli_find_all(usb, o, devs);
    h7_usb_exit(usb);
    return n;
}

int cmd_list(cli_opts_t *o, int argc, char **argv)
{
    static const cli_cmd_t cmd = {"list", list_help, "", NULL, CLI_G_ALT};
    int ec = H7_EXIT_OK;
    if (cli_getopt(o, argc, argv, &cmd, &ec) != CLI_OPT_END) {
        return ec;
    }
    if (cli_want_args(o, argc, argv, &cmd, 0, 0, "") != H7_EXIT_OK) {
        return H7_EXIT_USAGE;
    }
    h7_usb_device_t *devs;
    int rc;
    int n = find_all_now(o, &devs, &rc);
    if (rc != H7_EXIT_OK) {
        return rc;
    }
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
        if (o->filter.vid || o->filter.pid) {
            snprintf(what + strlen(what), sizeof(what) - strlen(what), "%04x:%04x", o->filter.vid,
                     o->filter.pid);
        }
        cli_error(o, H7_EXIT_NO_DEVICE,
                  "no DFU device with%s found%s: check the cable, and `h7dfu list` without "
                  "-d/-S/-p for every device",
                  what, o->timeout_ms ? " within the wait time" : "");
        return H7_EXIT_NO_DEVICE;
    }
    installed_t *in = n > 0 ? calloc((size_t)n, sizeof(*in)) : NULL;
    if (n > 0 && !in) {
        free(devs);
        cli_error(o, H7_EXIT_FAIL, "out of memory");
        return H7_EXIT_FAIL;
    }
    for (int i = 0; i < n; i++) {
        look(&devs[i], &in[i]);
    }
    cli_json_t j;
    if (cli_doc_begin(o, &j, H7_EXIT_OK)) {
        cli_json_begin_array(&j, "devices");
        for (int i = 0; i < n; i++) {
            json_device(&j, NULL, &devs[i]);
            json_installed(&j, &in[i]);
            cli_json_end(&j);
        }
        cli_doc_end(&j);
        free(in);
        free(devs);
        return H7_EXIT_OK;
    }
    if (n == 0) {
        printf("no DFU devices found\n");
    }
    for (int i = 0; i < n; i++) {
        const h7_usb_device_t *d = &devs[i];
        printf("%04x:%04x %-8s path=%s devnum=%u serial=\"%s\" \"%s\"", d->vid, d->pid,
               d->dfu_mode ? "DFU" : "runtime", d->path, d->devnum, d->serial, d->product);
        if (in[i].has_app) {
            printf(" version %s", in[i].app.text);
        }
        printf("\n");
        if (in[i].has_bs) {
            char t[128];
            slot_text(&in[i].bs, t, sizeof(t));
            printf("    slot: %s\n", t);
        }
        for (unsigned a = 0; a < d->n_alts; a++) {
            printf("    alt=%u name=\"%s\"\n", d->alts[a].alt, d->alts[a].name);
        }
    }
    free(in);
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
    "Shows the one device selected by the options. In DFU mode: IDs, strings,\n"
    "DFU functional descriptor, each alternate setting's memory layout, its DFU\n"
    "state and status (decoded), and on the h7dfu bootloader why it is in DFU\n"
    "mode (its boot decision, the slot check, the installed image's version).\n"
    "A running application (and no board in DFU mode): its IDs, strings and\n"
    "version; the rest needs DFU mode (`h7dfu detach`).\n"
    "Global options may also come after the command (`h7dfu --help`).\n";

static void print_ids(const h7_usb_device_t *i)
{
    printf("device      %04x:%04x (bcdDevice %04x) at %s, devnum %u\n", i->vid, i->pid,
           i->bcd_device, i->path, i->devnum);
    printf("product     %s\nmanufacturer %s\nserial      %s\n", i->product, i->manufacturer,
           i->serial);
}

/* A running application: who it is and what it runs. */
static int app_info(const cli_opts_t *o, const h7_usb_device_t *app)
{
    installed_t in;
    look(app, &in);
    cli_json_t j;
    if (cli_doc_begin(o, &j, H7_EXIT_OK)) {
        cli_doc_device(&j, app);
        cli_json_string(&j, "mode", "runtime");
        json_device(&j, "device", app);
        cli_json_end(&j);
        json_installed(&j, &in);
        cli_json_null(&j, "state");
        cli_json_null(&j, "status");
        cli_json_bool(&j, "needs_dfu_mode", true);
        cli_doc_end(&j);
        return H7_EXIT_OK;
    }
    if (o->json) {
        return H7_EXIT_OK;
    }
    print_ids(app);
    printf("mode        application (DFU runtime interface, detach timeout %u ms)\n",
           app->detach_timeout_ms);
    if (in.has_app) {
        printf("version     %s (%u.%u.%u)\n", in.app.text, in.app.major, in.app.minor,
               in.app.patch);
    } else {
        printf("version     not reported (no HID version report)\n");
    }
    printf("DFU mode    needed for the memory layout, the DFU state and the boot status:\n"
           "            `h7dfu detach` switches the board, `h7dfu update FILE` updates it\n");
    return H7_EXIT_OK;
}

int cmd_info(cli_opts_t *o, int argc, char **argv)
{
    static const cli_cmd_t cmd = {"info", info_help, "", NULL, CLI_G_ALT};
    int ec = H7_EXIT_OK;
    if (cli_getopt(o, argc, argv, &cmd, &ec) != CLI_OPT_END) {
        return ec;
    }
    if (cli_want_args(o, argc, argv, &cmd, 0, 0, "") != H7_EXIT_OK) {
        return H7_EXIT_USAGE;
    }
    /* Only a running application matches: show it. Otherwise the one
     * DFU-mode device, or why there is none. */
    h7_usb_device_t *devs;
    int rc;
    int n = find_all_now(o, &devs, &rc);
    if (rc != H7_EXIT_OK) {
        return rc;
    }
    if (n == 1 && !devs[0].dfu_mode) {
        h7_usb_device_t app = devs[0];
        free(devs);
        cli_note_device(&app);
        return app_info(o, &app);
    }
    free(devs);
    /* The wait (-w) for a device is over when none came. */
    cli_opts_t oo = *o;
    if (n <= 0) {
        oo.timeout_ms = 0;
    }
    cli_dev_t d;
    rc = cli_open_dfu(&oo, &d);
    if (rc != H7_EXIT_OK) {
        return rc;
    }
    h7_dfu_status_rec_t st;
    if (h7_dfu_get_status(&d.dfu, &st) < 0) {
        rc = cli_fail_dfu(o, &d.dfu, "GETSTATUS");
        cli_close(&d);
        return rc;
    }
    /* the h7dfu bootloader says why it is in DFU mode (docs/protocol.md) */
    installed_t in;
    memset(&in, 0, sizeof(in));
    in.has_bs = st.state == H7_ST_IDLE && h7_dfuse_has_command(&d.dfu, H7_DFUSE_BOOT_STATUS) &&
                h7_dfuse_boot_status(&d.dfu, &in.bs) == 0;
    const h7_boot_status_t *bs = &in.bs;
    cli_json_t j;
    if (cli_doc_begin(o, &j, H7_EXIT_OK)) {
        cli_doc_device(&j, &d.info);
        cli_json_string(&j, "mode", "dfu");
        json_device(&j, "device", &d.info);
        cli_json_end(&j);
        json_installed(&j, &in);
        cli_json_string(&j, "state", h7_dfu_state_name(st.state));
        cli_json_string(&j, "status", h7_dfu_status_name(st.status));
        cli_json_bool(&j, "needs_dfu_mode", false);
        cli_doc_end(&j);
    } else if (!o->json) {
        const h7_usb_device_t *i = &d.info;
        print_ids(i);
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
        printf("state       %s: %s\nstatus      %s: %s\n", h7_dfu_state_name(st.state),
               h7_dfu_state_text(st.state), h7_dfu_status_name(st.status),
               h7_dfu_status_text(st.status));
        if (in.has_bs) {
            printf("boot        %s at the last reset: %s; slot: %s", boot_action_name(bs->action),
                   boot_why_name(bs->why), boot_validate_reason_name(bs->validation));
            if (has_record(bs)) {
                printf("; newest record v%u.%u.%u+%lu", bs->major, bs->minor, bs->patch,
                       (unsigned long)bs->build);
            }
            printf("\n");
            char t[128];
            slot_text(bs, t, sizeof(t));
            printf("slot        %s\n", t);
        }
    }
    cli_close(&d);
    return H7_EXIT_OK;
}
