/* Finding, waiting for and opening the device the user means. */
#include "cli.h"

#include <string.h>
#include <time.h>

#include "boot.h"
#include "h7_hidapp.h"
#include "h7_layout.h"

#define MAX_DEVICES 16

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
    if (d->manufacturer[0] || d->product[0] || d->serial[0])
        return false;
    for (unsigned i = 0; i < d->n_alts; i++)
        if (d->alts[i].name[0])
            return false;
    return true;
}

static bool any_half_seen(const h7_usb_device_t *d, int n)
{
    for (int i = 0; i < n && i < MAX_DEVICES; i++)
        if (cli_dev_half_seen(&d[i]))
            return true;
    return false;
}

/* One scan. Returns how many devices match (and are in the wanted mode). */
static int scan(h7_usb_t *usb, const cli_opts_t *o, bool want_dfu_mode, h7_usb_device_t *out,
                size_t max, int *other_mode)
{
    h7_usb_device_t all[MAX_DEVICES];
    int n = h7_usb_find(usb, &o->filter, all, MAX_DEVICES);
    if (n < 0)
        return n;
    int count = 0;
    *other_mode = 0;
    for (int i = 0; i < n && i < MAX_DEVICES; i++) {
        if (all[i].dfu_mode != want_dfu_mode) {
            (*other_mode)++;
            continue;
        }
        if ((size_t)count < max)
            out[count] = all[i];
        count++;
    }
    return count;
}

int cli_find_all(h7_usb_t *usb, const cli_opts_t *o, h7_usb_device_t *out, size_t max)
{
    uint64_t deadline = cli_now_ms() + o->timeout_ms;
    for (;;) {
        int n = h7_usb_find(usb, &o->filter, out, max);
        bool half = false;
        for (int i = 0; i < n && (size_t)i < max; i++)
            half = half || cli_dev_half_seen(&out[i]);
        if (n < 0 || (n > 0 && !half) || cli_now_ms() >= deadline)
            return n;
        cli_sleep_ms(100u);
        h7_usb_refresh(usb);
    }
}

int cli_find_one(h7_usb_t *usb, const cli_opts_t *o, bool want_dfu_mode, h7_usb_device_t *out)
{
    h7_usb_device_t found[MAX_DEVICES];
    int other = 0;
    uint64_t deadline = cli_now_ms() + o->timeout_ms;
    int n;
    for (;;) {
        n = scan(usb, o, want_dfu_mode, found, MAX_DEVICES, &other);
        if ((n != 0 && !any_half_seen(found, n)) || cli_now_ms() >= deadline)
            break;
        cli_sleep_ms(100u);
        h7_usb_refresh(usb);
    }
    if (n < 0) {
        cli_error(o, H7_EXIT_USB, "cannot list USB devices: %s", h7_usb_strerror(n));
        return H7_EXIT_USB;
    }
    if (n == 0) {
        if (want_dfu_mode && other)
            cli_error(o, H7_EXIT_NO_DEVICE,
                      "no device in DFU mode; %d application(s) with a DFU runtime interface "
                      "found: run `h7dfu detach` first, or use `h7dfu update FILE`",
                      other);
        else
            cli_error(o, H7_EXIT_NO_DEVICE,
                      "no %s device found%s: check the cable, `h7dfu list`, and the "
                      "-d/-S/-p filters",
                      want_dfu_mode ? "DFU-mode" : "DFU-runtime",
                      o->timeout_ms ? " within the wait time" : "");
        return H7_EXIT_NO_DEVICE;
    }
    if (n > 1) {
        char line[512];
        fprintf(stderr, "h7dfu: %d devices match:\n", n);
        for (int i = 0; i < n && i < MAX_DEVICES; i++) {
            describe_short(&found[i], line, sizeof(line));
            fprintf(stderr, "  %s\n", line);
        }
        cli_error(o, H7_EXIT_NO_DEVICE,
                  "more than one device matches: choose with -S SERIAL or "
                  "-p PATH");
        return H7_EXIT_NO_DEVICE;
    }
    *out = found[0];
    return H7_EXIT_OK;
}

int cli_usb_init(const cli_opts_t *o, h7_usb_t **usb)
{
    int rc = h7_usb_init(usb);
    if (rc == 0)
        return H7_EXIT_OK;
    cli_error(o, H7_EXIT_USB, "cannot start libusb: %s", h7_usb_strerror(rc));
    return H7_EXIT_USB;
}

int cli_open_dfu(const cli_opts_t *o, cli_dev_t *d)
{
    memset(d, 0, sizeof(*d));
    int rc = cli_usb_init(o, &d->usb);
    if (rc != H7_EXIT_OK)
        return rc;
    rc = cli_find_one(d->usb, o, true, &d->info);
    if (rc != H7_EXIT_OK) {
        cli_close(d);
        return rc;
    }
    d->alt_index = 0;
    if (o->alt >= 0) {
        d->alt_index = -1;
        for (int i = 0; i < d->info.n_alts; i++)
            if (d->info.alts[i].alt == o->alt)
                d->alt_index = i;
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
    if (h7_layout_parse(d->info.alts[d->alt_index].name, &l, err, sizeof(err)) != 0)
        return 0x08000000u; /* not a DfuSe layout: the STM32 flash base */
    /* The lowest writable address, else the lowest address: zones may be
     * listed in any order (h7dfu's bootloader lists the highest first). */
    uint64_t best = UINT64_MAX, any = UINT64_MAX;
    for (size_t g = 0; g < l.ngroups; g++) {
        if (l.group[g].addr < any)
            any = l.group[g].addr;
        if ((l.group[g].attr & H7_MEM_WRITE) && l.group[g].addr < best)
            best = l.group[g].addr;
    }
    if (best != UINT64_MAX)
        return (uint32_t)best;
    return any != UINT64_MAX ? (uint32_t)any : 0x08000000u;
}

int cli_fail_dfu(const cli_opts_t *o, const h7_dfu_t *dfu, const char *what)
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
    default:
        code = H7_EXIT_FAIL;
        break;
    }
    cli_error(o, code, "%s: %s", what, msg);
    return code;
}

/* ---- after a leave: what the board did ---- */

int cli_app_version(const h7_usb_device_t *app, h7_app_version_t *v)
{
    if (!app->has_hid)
        return -1;
    h7_usb_t *usb = NULL;
    if (h7_usb_init(&usb) != 0)
        return -1;
    h7_usb_handle_t *h = NULL;
    int rc = h7_usb_open(usb, app, app->hid_interface, -1, &h);
    if (rc == 0) {
        h7_transport_t t = h7_usb_transport(h);
        rc = h7_app_read_version(&t, app->hid_interface, v);
        h7_usb_close(h);
    }
    h7_usb_exit(usb);
    return rc;
}

/* The bootloader back in DFU mode: why it did not start the image. */
static void say_why_dfu(const cli_opts_t *o, const h7_usb_device_t *bl, char *buf, size_t len)
{
    buf[0] = '\0';
    h7_usb_t *usb = NULL;
    if (h7_usb_init(&usb) != 0)
        return;
    h7_usb_handle_t *h = NULL;
    if (bl->n_alts > 0 && h7_usb_open(usb, bl, bl->interface, bl->alts[0].alt, &h) == 0) {
        h7_transport_t t = h7_usb_transport(h);
        h7_dfu_t dfu;
        h7_dfu_init(&dfu, &t, bl->interface, bl->transfer_size);
        h7_boot_status_t bs;
        if (h7_dfu_recover(&dfu) == 0 && h7_dfuse_boot_status(&dfu, &bs) == 0)
            snprintf(buf, len, "%s; slot: %s", boot_why_name((boot_why_t)bs.why),
                     boot_validate_reason_name((boot_validate_t)bs.validation));
        h7_usb_close(h);
    }
    h7_usb_exit(usb);
    (void)o;
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
        if (h7_usb_init(&usb) != 0)
            continue;
        h7_usb_filter_t f = {.serial = serial};
        h7_usb_device_t found[8];
        int n = h7_usb_find(usb, &f, found, 8);
        h7_usb_exit(usb);
        for (int i = 0; i < n && i < 8; i++) {
            const h7_usb_device_t *x = &found[i];
            if (cli_dev_half_seen(x) || (x->dfu_mode && x->devnum == old_devnum))
                continue; /* still the one that was told to leave */
            if (!x->dfu_mode) {
                h7_app_version_t v;
                if (cli_app_version(x, &v) == 0)
                    cli_info(o, "the application started: %04x:%04x serial %s, version %s", x->vid,
                             x->pid, x->serial, v.text);
                else
                    cli_info(o, "the application started: %04x:%04x serial %s", x->vid, x->pid,
                             x->serial);
                return H7_EXIT_OK;
            }
            char why[160];
            say_why_dfu(o, x, why, sizeof(why));
            cli_error(o, H7_EXIT_DEVICE,
                      "the board is back in DFU mode: its bootloader did not start the image%s%s",
                      why[0] ? ": " : "", why);
            return H7_EXIT_DEVICE;
        }
    }
    cli_error(o, H7_EXIT_DEVICE,
              "the board did not come back on USB within %u s after the leave; check the "
              "cable and reset it",
              wait_ms / 1000u);
    return H7_EXIT_DEVICE;
}
