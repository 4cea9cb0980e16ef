/* Finding, waiting for and opening the device the user means. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "boot.h"
#include "h7_hidapp.h"
#include "h7_layout.h"

uint64_t cli_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void cli_sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
    nanosleep(&ts, NULL);
}

static void describe_short(const h7_usb_device_t *d, char *buf, size_t len)
{
    snprintf(buf, len, "%04x:%04x %s serial=\"%s\" path=%s (%s)", d->vid, d->pid,
             d->product[0] ? d->product : "?", d->serial, d->path,
             d->dfu_mode ? "DFU mode" : "DFU runtime");
}

/* A device whose strings could all not be read was listed while it was being
 * added (or removed): the node could not be opened yet. Not ready: wait. */
bool cli_dev_half_seen(const h7_usb_device_t *d)
{
    if (d->manufacturer[0] || d->product[0] || d->serial[0]) {
        return false;
    }
    for (unsigned i = 0; i < d->n_alts; i++) {
        if (d->alts[i].name[0]) {
            return false;
        }
    }
    return true;
}

static bool any_half_seen(const h7_usb_device_t *d, int n)
{
    for (int i = 0; i < n; i++) {
        if (cli_dev_half_seen(&d[i])) {
            return true;
        }
    }
    return false;
}

int cli_one_serial(const cli_opts_t *o)
{
    if (o->n_serial_args <= 1 && !(o->filter.serial && strchr(o->filter.serial, ','))) {
        return H7_EXIT_OK;
    }
    cli_error(o, H7_EXIT_USAGE,
              "several serial numbers given (-S): only `update` works on several boards; "
              "choose one here");
    return H7_EXIT_USAGE;
}

int cli_find_all(h7_usb_t *usb, const cli_opts_t *o, h7_usb_device_t **out)
{
    uint64_t deadline = cli_now_ms() + o->timeout_ms;
    for (;;) {
        int n = h7_usb_find_all(usb, &o->filter, out);
        if (n < 0 || (n > 0 && !any_half_seen(*out, n)) || cli_now_ms() >= deadline) {
            return n;
        }
        free(*out);
        *out = NULL;
        cli_sleep_ms(100u);
        h7_usb_refresh(usb);
    }
}

/* Keep the devices keep() accepts, in order; returns how many. *rejected
 * counts the others. */
static int keep_only(h7_usb_device_t *d, int n,
                     bool (*keep)(const cli_opts_t *, const void *, const h7_usb_device_t *),
                     const cli_opts_t *o, const void *arg, int *rejected)
{
    int kept = 0;
    *rejected = 0;
    for (int i = 0; i < n; i++) {
        if (!keep(o, arg, &d[i])) {
            (*rejected)++;
            continue;
        }
        if (kept != i) {
            d[kept] = d[i];
        }
        kept++;
    }
    return kept;
}

static bool in_mode(const cli_opts_t *o, const void *want_dfu_mode, const h7_usb_device_t *d)
{
    (void)o;
    return d->dfu_mode == *(const bool *)want_dfu_mode;
}

/* Scan until a device in the wanted mode is there and every device is
 * whole, or the wait is over. Returns how many devices are kept (< 0: a
 * libusb error), *out to free(). */
static int scan_until(h7_usb_t *usb, const cli_opts_t *o,
                      bool (*keep)(const cli_opts_t *, const void *, const h7_usb_device_t *),
                      const void *arg, h7_usb_device_t **out, int *rejected)
{
    uint64_t deadline = cli_now_ms() + o->timeout_ms;
    for (;;) {
        int n = h7_usb_find_all(usb, &o->filter, out);
        if (n < 0) {
            return n;
        }
        bool half = any_half_seen(*out, n);
        int kept = keep_only(*out, n, keep, o, arg, rejected);
        if ((kept != 0 && !half) || cli_now_ms() >= deadline) {
            return kept;
        }
        free(*out);
        *out = NULL;
        cli_sleep_ms(100u);
        h7_usb_refresh(usb);
    }
}

static void list_devices(const h7_usb_device_t *d, int n)
{
    char line[1024];
    for (int i = 0; i < n; i++) {
        describe_short(&d[i], line, sizeof(line));
        fprintf(stderr, "  %s\n", line);
    }
}

int cli_find_one(h7_usb_t *usb, const cli_opts_t *o, bool want_dfu_mode, h7_usb_device_t *out)
{
    h7_usb_device_t *found = NULL;
    int other = 0;
    int n = scan_until(usb, o, in_mode, &want_dfu_mode, &found, &other);
    if (n < 0) {
        cli_error(o, H7_EXIT_USB, "cannot list USB devices: %s", h7_usb_strerror(n));
        return H7_EXIT_USB;
    }
    if (n == 0) {
        if (want_dfu_mode && other) {
            cli_error_hint(o, H7_EXIT_NO_DEVICE,
                           "run `h7dfu detach` first, or use `h7dfu update FILE`", NULL,
                           "no device in DFU mode; %d application(s) with a DFU runtime interface "
                           "found: run `h7dfu detach` first, or use `h7dfu update FILE`",
                           other);
        } else {
            cli_error(o, H7_EXIT_NO_DEVICE,
                      "no %s device found%s: check the cable, `h7dfu list`, and the "
                      "-d/-S/-p filters",
                      want_dfu_mode ? "DFU-mode" : "DFU-runtime",
                      o->timeout_ms ? " within the wait time" : "");
        }
        free(found);
        return H7_EXIT_NO_DEVICE;
    }
    if (n > 1) {
        fprintf(stderr, "h7dfu: %d devices match:\n", n);
        list_devices(found, n);
        cli_error(o, H7_EXIT_NO_DEVICE,
                  "more than one device matches: choose with -S SERIAL or "
                  "-p PATH");
        free(found);
        return H7_EXIT_NO_DEVICE;
    }
    *out = found[0];
    cli_note_device(out);
    free(found);
    return H7_EXIT_OK;
}

bool cli_selected(const cli_opts_t *o)
{
    const h7_usb_filter_t *f = &o->filter;
    return f->vid || f->pid || (f->serial && *f->serial) || (f->path && *f->path);
}

static bool listed(const cli_opts_t *o, const h7_usb_device_t *d)
{
    for (unsigned i = 0; i < o->ids.n; i++) {
        if (o->ids.vid[i] == d->vid && o->ids.pid[i] == d->pid) {
            return true;
        }
    }
    return false;
}

/* What update and detach may touch: the user's choice, or, without one, a
 * board of h7dfu's own or one the user listed. */
static bool candidate(const cli_opts_t *o, const void *arg, const h7_usb_device_t *d)
{
    (void)arg;
    if (cli_selected(o) || listed(o, d)) {
        return true;
    }
    if (d->dfu_mode) {
        return h7_usb_is_h7dfu_bootloader(d) || h7_usb_is_st_rom(d);
    }
    return h7_usb_is_h7dfu_app(d);
}

/* A board of h7dfu's own, or listed, for --all. */
static bool any_board(const cli_opts_t *o, const void *arg, const h7_usb_device_t *d)
{
    (void)arg;
    if (listed(o, d)) {
        return true;
    }
    return d->dfu_mode ? h7_usb_is_h7dfu_bootloader(d) : h7_usb_is_h7dfu_app(d);
}

int cli_find_boards(h7_usb_t *usb, const cli_opts_t *o, h7_usb_device_t **out)
{
    cli_opts_t all = *o;
    all.filter.serial = NULL;
    all.filter.path = NULL;
    int others = 0;
    *out = NULL;
    return scan_until(usb, &all, any_board, NULL, out, &others);
}

int cli_find_target(h7_usb_t *usb, const cli_opts_t *o, h7_usb_device_t *out)
{
    h7_usb_device_t *found = NULL;
    int others = 0;
    int n = scan_until(usb, o, candidate, NULL, &found, &others);
    int rc = H7_EXIT_OK;
    if (n < 0) {
        cli_error(o, H7_EXIT_USB, "cannot list USB devices: %s", h7_usb_strerror(n));
        return H7_EXIT_USB;
    }
    if (n == 0 && others > 0) {
        rc = H7_EXIT_NO_DEVICE;
        cli_error(o, rc,
                  "no h7dfu application or bootloader found%s; %d other device(s) with a DFU "
                  "interface left alone (`h7dfu list`): select one with -S SERIAL, -p PATH or "
                  "-d VID:PID, or allow its VID:PID with --id or H7DFU_IDS",
                  o->timeout_ms ? " within the wait time" : "", others);
    } else if (n == 0) {
        rc = H7_EXIT_NO_DEVICE;
        cli_error(o, rc, "no %sdevice found%s: check the cable and `h7dfu list`",
                  cli_selected(o) ? "matching " : "h7dfu ",
                  o->timeout_ms ? " within the wait time" : "");
    } else if (n > 1 && cli_selected(o)) {
        rc = H7_EXIT_NO_DEVICE;
        fprintf(stderr, "h7dfu: %d devices match:\n", n);
        list_devices(found, n);
        cli_error(o, rc, "more than one device matches: choose with -S SERIAL or -p PATH");
    } else if (n > 1) {
        rc = H7_EXIT_USAGE;
        fprintf(stderr, "h7dfu: %d boards could be meant:\n", n);
        list_devices(found, n);
        cli_error(o, rc,
                  "more than one board and none selected: choose one with -S SERIAL (or "
                  "-p PATH); nothing was touched");
    } else {
        *out = found[0];
    }
    free(found);
    return rc;
}

int cli_usb_init(const cli_opts_t *o, h7_usb_t **usb)
{
    int rc = h7_usb_init(usb);
    if (rc == 0) {
        return H7_EXIT_OK;
    }
    cli_error(o, H7_EXIT_USB, "cannot start libusb: %s", h7_usb_strerror(rc));
    return H7_EXIT_USB;
}

int cli_open_dfu(const cli_opts_t *o, cli_dev_t *d)
{
    memset(d, 0, sizeof(*d));
    int rc = cli_usb_init(o, &d->usb);
    if (rc != H7_EXIT_OK) {
        return rc;
    }
    rc = cli_find_one(d->usb, o, true, &d->info);
    if (rc != H7_EXIT_OK) {
        cli_close(d);
        return rc;
    }
    d->alt_index = 0;
    if (o->alt >= 0) {
        d->alt_index = -1;
        for (int i = 0; i < d->info.n_alts; i++) {
            if (d->info.alts[i].alt == o->alt) {
                d->alt_index = i;
            }
        }
        if (d->alt_index < 0) {
            cli_error(o, H7_EXIT_USAGE, "the device has no alternate setting %d (see `h7dfu list`)",
                      o->alt);
            cli_close(d);
            return H7_EXIT_USAGE;
        }
    }
    rc = h7_usb_open(d->usb, &d->info, d->info.interface, d->info.alts[d->alt_index].alt,
                     &d->handle);
    if (rc != 0) {
        cli_error(o, H7_EXIT_USB, "cannot open %04x:%04x at %s: %s%s", d->info.vid, d->info.pid,
                  d->info.path, h7_usb_strerror(rc),
                  rc == -3 ? " (permission: add a udev rule or run as root)" : "");
        cli_close(d);
        return H7_EXIT_USB;
    }
    d->transport = h7_usb_transport(d->handle);
    uint16_t xfer = d->info.transfer_size ? d->info.transfer_size : 1024;
    h7_dfu_init(&d->dfu, &d->transport, d->info.interface, xfer);
    return H7_EXIT_OK;
}

void cli_close(cli_dev_t *d)
{
    h7_usb_close(d->handle);
    d->handle = NULL;
    h7_usb_exit(d->usb);
    d->usb = NULL;
}

uint32_t cli_default_start(const cli_dev_t *d)
{
    h7_layout_t l;
    char err[64];
    if (h7_layout_parse(d->info.alts[d->alt_index].name, &l, err, sizeof(err)) != 0) {
        return 0x08000000u; /* not a DfuSe layout: the STM32 flash base */
    }
    /* The lowest writable address, else the lowest address: zones may be
     * listed in any order (h7dfu's bootloader lists the highest first). */
    uint64_t best = UINT64_MAX, any = UINT64_MAX;
    for (size_t g = 0; g < l.ngroups; g++) {
        if (l.group[g].addr < any) {
            any = l.group[g].addr;
        }
        if ((l.group[g].attr & H7_MEM_WRITE) && l.group[g].addr < best) {
            best = l.group[g].addr;
        }
    }
    if (best != UINT64_MAX) {
        return (uint32_t)best;
    }
    return any != UINT64_MAX ? (uint32_t)any : 0x08000000u;
}

int cli_fail_dfu(const cli_opts_t *o, const h7_dfu_client_t *dfu, const char *what)
{
    char msg[1024];
    h7_error_format(&dfu->err, msg, sizeof(msg));
    int code;
    switch (dfu->err.code) {
    case H7_E_DEVICE:
    case H7_E_PROTOCOL:
        code = H7_EXIT_DEVICE;
        break;
    case H7_E_VERIFY:
        code = H7_EXIT_VERIFY;
        break;
    case H7_E_PLAN:
        code = H7_EXIT_REFUSED;
        break;
    case H7_E_ARG:
        code = H7_EXIT_USAGE;
        break;
    case H7_E_TRANSPORT:
    case H7_E_TIMEOUT:
        code = H7_EXIT_USB;
        break;
    case H7_E_CANCELLED:
        code = H7_EXIT_INTERRUPTED;
        break;
    default:
        code = H7_EXIT_FAIL;
        break;
    }
    cli_error_hint(o, code, NULL, &dfu->err, "%s: %s", what, msg);
    return code;
}

/* ---- after a leave: what the board did ---- */

/* The application's HID version report; now: do not wait for an interface
 * another program holds. */
static int app_version(const h7_usb_device_t *app, bool now, h7_app_version_t *v)
{
    if (!app->has_hid) {
        return -1;
    }
    h7_usb_t *usb = NULL;
    if (h7_usb_init(&usb) != 0) {
        return -1;
    }
    h7_usb_handle_t *h = NULL;
    int rc = now ? h7_usb_open_now(usb, app, app->hid_interface, -1, &h)
                 : h7_usb_open(usb, app, app->hid_interface, -1, &h);
    if (rc == 0) {
        h7_transport_t t = h7_usb_transport(h);
        rc = h7_app_read_version(&t, app->hid_interface, v);
        h7_usb_close(h);
    }
    h7_usb_exit(usb);
    return rc;
}

int cli_app_version(const h7_usb_device_t *app, h7_app_version_t *v)
{
    return app_version(app, false, v);
}

int cli_look_app_version(const h7_usb_device_t *app, h7_app_version_t *v)
{
    return app_version(app, true, v);
}

int cli_look_boot_status(const h7_usb_device_t *bl, bool recover, h7_boot_status_t *bs)
{
    h7_usb_t *usb = NULL;
    if (bl->n_alts == 0 || h7_usb_init(&usb) != 0) {
        return -1;
    }
    h7_usb_handle_t *h = NULL;
    int rc = recover ? h7_usb_open(usb, bl, bl->interface, bl->alts[0].alt, &h)
                     : h7_usb_open_now(usb, bl, bl->interface, bl->alts[0].alt, &h);
    if (rc == 0) {
        h7_transport_t t = h7_usb_transport(h);
        h7_dfu_client_t dfu;
        h7_dfu_init(&dfu, &t, bl->interface, bl->transfer_size ? bl->transfer_size : 1024);
        h7_dfu_status_rec_t st;
        if (recover) {
            rc = h7_dfu_recover(&dfu);
        } else { /* a look: a device busy with something else is left to it */
            rc = h7_dfu_get_status(&dfu, &st) < 0 || st.state != H7_ST_IDLE ? -1 : 0;
        }
        if (rc == 0) {
            rc = h7_dfuse_has_command(&dfu, H7_DFUSE_BOOT_STATUS) ? 0 : -1;
        }
        if (rc == 0) {
            rc = h7_dfuse_boot_status(&dfu, bs);
        }
        h7_usb_close(h);
    }
    h7_usb_exit(usb);
    return rc;
}

/* The bootloader back in DFU mode: why it did not start the image. */
static void say_why_dfu(const h7_usb_device_t *bl, char *buf, size_t len)
{
    buf[0] = '\0';
    h7_boot_status_t bs;
    if (cli_look_boot_status(bl, true, &bs) == 0) {
        snprintf(buf, len, "%s; slot: %s", boot_why_name((boot_why_t)bs.why),
                 boot_validate_reason_name((boot_validate_t)bs.validation));
    }
}

int cli_after_leave(const cli_opts_t *o, const cli_dev_t *d)
{
    const uint8_t old_devnum = d->info.devnum;
    char serial[sizeof(d->info.serial)];
    snprintf(serial, sizeof(serial), "%s", d->info.serial);
    unsigned wait_ms = o->timeout_ms > 5000u ? o->timeout_ms : 5000u;
    for (unsigned t = 0; t < wait_ms; t += 100u) {
        cli_sleep_ms(100u);
        h7_usb_t *usb = NULL;
        if (h7_usb_init(&usb) != 0) {
            continue;
        }
        h7_usb_filter_t f = {.serial = serial};
        h7_usb_device_t *found = NULL;
        int n = h7_usb_find_all(usb, &f, &found);
        h7_usb_exit(usb);
        int rc = -1;
        for (int i = 0; i < n && rc < 0; i++) {
            const h7_usb_device_t *x = &found[i];
            if (cli_dev_half_seen(x) || (x->dfu_mode && x->devnum == old_devnum)) {
                continue; /* still the one that was told to leave */
            }
            if (!x->dfu_mode) {
                h7_app_version_t v;
                if (cli_app_version(x, &v) == 0) {
                    cli_info(o, "the application started: %04x:%04x serial %s, version %s", x->vid,
                             x->pid, x->serial, v.text);
                } else {
                    cli_info(o, "the application started: %04x:%04x serial %s", x->vid, x->pid,
                             x->serial);
                }
                rc = H7_EXIT_OK;
                break;
            }
            char why[160];
            say_why_dfu(x, why, sizeof(why));
            cli_error(o, H7_EXIT_DEVICE,
                      "the board is back in DFU mode: its bootloader did not start the image%s%s",
                      why[0] ? ": " : "", why);
            rc = H7_EXIT_DEVICE;
        }
        free(found);
        if (rc >= 0) {
            return rc;
        }
    }
    cli_error(o, H7_EXIT_DEVICE,
              "the board did not come back on USB within %u s after the leave; check the "
              "cable and reset it",
              wait_ms / 1000u);
    return H7_EXIT_DEVICE;
}

int cli_leave_and_report(const cli_opts_t *o, cli_dev_t *d, uint32_t addr, bool h7bl)
{
    if (h7_ops_leave(&d->dfu, true, addr) != 0) {
        return cli_fail_dfu(o, &d->dfu, "leave failed");
    }
    cli_info(o, "left DFU mode: the device restarts");
    return h7bl ? cli_after_leave(o, d) : H7_EXIT_OK;
}
