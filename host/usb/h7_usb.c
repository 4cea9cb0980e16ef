/* libusb discovery and transport for libh7dfu. */
#include "h7_usb.h"

#include "h7_app_id.h"

#include <errno.h>
#include <libusb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* DFU interface: class 0xFE application specific, subclass 1 (DFU 1.1 4.2.3);
 * protocol 1 = runtime, 2 = DFU mode. HID interface class 3 (HID 1.11 4.1). */
#define DFU_CLASS         0xfe
#define DFU_SUBCLASS      0x01
#define DFU_PROTO_RUNTIME 0x01
#define DFU_PROTO_MODE    0x02
#define HID_CLASS         0x03
#define DFU_FUNC_DT       0x21
#define DFU_FUNC_LEN      9

struct h7_usb {
    libusb_context *ctx;
};

struct h7_usb_handle {
    libusb_device_handle *dev;
    uint8_t itf;
};

int h7_usb_init(h7_usb_t **usb)
{
    h7_usb_t *u = calloc(1, sizeof(*u));
    if (!u) {
        return LIBUSB_ERROR_NO_MEM;
    }
    int rc = libusb_init(&u->ctx);
    if (rc != 0) {
        free(u);
        return rc;
    }
    *usb = u;
    return 0;
}

int h7_usb_refresh(h7_usb_t *usb)
{
    libusb_context *fresh = NULL;
    int rc = libusb_init(&fresh);
    if (rc != 0) {
        return rc;
    }
    libusb_exit(usb->ctx);
    usb->ctx = fresh;
    return 0;
}

void h7_usb_exit(h7_usb_t *usb)
{
    if (!usb) {
        return;
    }
    /* Hand libusb the device arrivals and departures it has queued (a board
     * that just detached or restarted): libusb_exit frees only the devices
     * no such event still holds, so without this one leaks now and then. */
    struct timeval zero = {0, 0};
    libusb_handle_events_timeout_completed(usb->ctx, &zero, NULL);
    libusb_exit(usb->ctx);
    free(usb);
}

static void port_path(libusb_device *dev, char *out, size_t len)
{
    uint8_t ports[8];
    int n = libusb_get_port_numbers(dev, ports, sizeof(ports));
    size_t pos = (size_t)snprintf(out, len, "%u", libusb_get_bus_number(dev));
    for (int i = 0; i < n && pos < len; i++) {
        pos += (size_t)snprintf(out + pos, len - pos, "%c%u", i == 0 ? '-' : '.', ports[i]);
    }
}

static void read_string(libusb_device_handle *h, uint8_t index, char *out)
{
    out[0] = '\0';
    if (!h || index == 0) {
        return;
    }
    int n = libusb_get_string_descriptor_ascii(h, index, (unsigned char *)out, H7_USB_STR_MAX);
    out[n > 0 ? n : 0] = '\0';
}

/* The DFU functional descriptor may sit in any alt setting's extra bytes or in
 * the configuration's (DFU 1.1 4.2.4 puts it after the interface descriptors). */
static void parse_functional(const unsigned char *extra, int len, h7_usb_device_t *d)
{
    for (int i = 0; i + 2 <= len && extra[i] >= 2; i += extra[i]) {
        if (extra[i + 1] == DFU_FUNC_DT && extra[i] >= DFU_FUNC_LEN && i + DFU_FUNC_LEN <= len) {
            const unsigned char *f = extra + i;
            d->dfu_attributes = f[2];
            d->detach_timeout_ms = (uint16_t)(f[3] | f[4] << 8);
            d->transfer_size = (uint16_t)(f[5] | f[6] << 8);
            d->bcd_dfu = (uint16_t)(f[7] | f[8] << 8);
        }
    }
}

static bool describe(libusb_device *dev, h7_usb_device_t *d)
{
    struct libusb_device_descriptor dd;
    struct libusb_config_descriptor *cfg = NULL;
    if (libusb_get_device_descriptor(dev, &dd) != 0) {
        return false;
    }
    if (libusb_get_active_config_descriptor(dev, &cfg) != 0 &&
        libusb_get_config_descriptor(dev, 0, &cfg) != 0) {
        return false;
    }

    memset(d, 0, sizeof(*d));
    bool found = false;
    uint8_t alt_idx[H7_USB_MAX_ALTS] = {0};
    parse_functional(cfg->extra, cfg->extra_length, d);
    for (int i = 0; i < cfg->bNumInterfaces; i++) {
        const struct libusb_interface *itf = &cfg->interface[i];
        for (int a = 0; a < itf->num_altsetting; a++) {
            const struct libusb_interface_descriptor *id = &itf->altsetting[a];
            if (id->bInterfaceClass == HID_CLASS && !d->has_hid) {
                d->has_hid = true;
                d->hid_interface = id->bInterfaceNumber;
            }
            if (id->bInterfaceClass != DFU_CLASS || id->bInterfaceSubClass != DFU_SUBCLASS) {
                continue;
            }
            if (found && id->bInterfaceNumber != d->interface) {
                continue;
            }
            found = true;
            d->interface = id->bInterfaceNumber;
            d->dfu_mode = id->bInterfaceProtocol == DFU_PROTO_MODE;
            parse_functional(id->extra, id->extra_length, d);
            if (d->n_alts < H7_USB_MAX_ALTS) {
                alt_idx[d->n_alts] = id->iInterface;
                d->alts[d->n_alts++].alt = id->bAlternateSetting;
            }
        }
    }
    libusb_free_config_descriptor(cfg);
    if (!found) {
        return false;
    }

    d->vid = dd.idVendor;
    d->pid = dd.idProduct;
    d->bcd_device = dd.bcdDevice;
    d->bus = libusb_get_bus_number(dev);
    d->devnum = libusb_get_device_address(dev);
    port_path(dev, d->path, sizeof(d->path));

    libusb_device_handle *h = NULL;
    if (libusb_open(dev, &h) == 0) {
        read_string(h, dd.iManufacturer, d->manufacturer);
        read_string(h, dd.iProduct, d->product);
        read_string(h, dd.iSerialNumber, d->serial);
        for (unsigned i = 0; i < d->n_alts; i++) {
            read_string(h, alt_idx[i], d->alts[i].name);
        }
        libusb_close(h);
    }
    return true;
}

static bool matches(const h7_usb_filter_t *f, const h7_usb_device_t *d)
{
    if (!f) {
        return true;
    }
    if (f->vid && f->vid != d->vid) {
        return false;
    }
    if (f->pid && f->pid != d->pid) {
        return false;
    }
    if (f->serial && *f->serial && strcmp(f->serial, d->serial) != 0) {
        return false;
    }
    if (f->path && *f->path && strcmp(f->path, d->path) != 0) {
        return false;
    }
    return true;
}

int h7_usb_find_all(h7_usb_t *usb, const h7_usb_filter_t *filter, h7_usb_device_t **out)
{
    *out = NULL;
    libusb_device **list = NULL;
    ssize_t n = libusb_get_device_list(usb->ctx, &list);
    if (n < 0) {
        return (int)n;
    }
    /* At most one entry per device on the bus: room for all, by construction. */
    h7_usb_device_t *devs = n > 0 ? calloc((size_t)n, sizeof(*devs)) : NULL;
    if (n > 0 && !devs) {
        libusb_free_device_list(list, 1);
        return LIBUSB_ERROR_NO_MEM;
    }
    int count = 0;
    for (ssize_t i = 0; i < n; i++) {
        if (describe(list[i], &devs[count]) && matches(filter, &devs[count])) {
            count++;
        }
    }
    libusb_free_device_list(list, 1);
    if (count == 0) {
        free(devs);
        devs = NULL;
    }
    *out = devs;
    return count;
}

static bool has_alt_prefix(const h7_usb_device_t *d, const char *prefix)
{
    for (unsigned i = 0; i < d->n_alts; i++) {
        if (strncmp(d->alts[i].name, prefix, strlen(prefix)) == 0) {
            return true;
        }
    }
    return false;
}

bool h7_usb_is_h7dfu_app(const h7_usb_device_t *d)
{
    /* The prefix ends at the string's end or at a space: "h7dfu runtimeX" is
     * someone else's name. */
    const size_t len = strlen(H7_APP_DFU_ITF_NAME);
    if (d->dfu_mode || d->n_alts == 0) {
        return false;
    }
    const char *name = d->alts[0].name;
    return strncmp(name, H7_APP_DFU_ITF_NAME, len) == 0 && (name[len] == '\0' || name[len] == ' ');
}

bool h7_usb_is_st_rom(const h7_usb_device_t *d)
{
    return d->dfu_mode && d->vid == 0x0483 && d->pid == 0xdf11 &&
           has_alt_prefix(d, "@Option Bytes");
}

bool h7_usb_is_h7dfu_bootloader(const h7_usb_device_t *d)
{
    return d->dfu_mode && d->vid == 0x0483 && d->pid == 0xdf11 &&
           strcmp(d->manufacturer, "h7dfu") == 0 && has_alt_prefix(d, "@Internal Flash") &&
           !h7_usb_is_st_rom(d);
}

static int open_claim(h7_usb_t *usb, const h7_usb_device_t *want, uint8_t itf, int alt,
                      h7_usb_handle_t **handle, int busy_tries)
{
    libusb_device **list = NULL;
    ssize_t n = libusb_get_device_list(usb->ctx, &list);
    if (n < 0) {
        return (int)n;
    }
    libusb_device_handle *h = NULL;
    int rc = LIBUSB_ERROR_NO_DEVICE;
    for (ssize_t i = 0; i < n; i++) {
        if (libusb_get_bus_number(list[i]) == want->bus &&
            libusb_get_device_address(list[i]) == want->devnum) {
            rc = libusb_open(list[i], &h);
            break;
        }
    }
    libusb_free_device_list(list, 1);
    if (rc != 0) {
        return rc;
    }

    /* A kernel driver (usbhid for the app's HID interface) must let go first;
     * not supported everywhere, so failure here is not fatal. */
    libusb_set_auto_detach_kernel_driver(h, 1);
    /* BUSY can be brief: a program that just exited (or was killed) still
     * holds the interface until its file is closed, and udev helpers probe
     * new devices. Retry for up to a second before giving up. */
    for (int tries = 0;; tries++) {
        rc = libusb_claim_interface(h, itf);
        if (rc != LIBUSB_ERROR_BUSY || tries >= busy_tries) {
            break;
        }
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (rc == 0 && alt >= 0) {
        rc = libusb_set_interface_alt_setting(h, itf, alt);
    }
    if (rc != 0) {
        libusb_close(h);
        return rc;
    }
    h7_usb_handle_t *hd = calloc(1, sizeof(*hd));
    if (!hd) {
        libusb_release_interface(h, itf);
        libusb_close(h);
        return LIBUSB_ERROR_NO_MEM;
    }
    hd->dev = h;
    hd->itf = itf;
    *handle = hd;
    return 0;
}

int h7_usb_open(h7_usb_t *usb, const h7_usb_device_t *want, uint8_t itf, int alt,
                h7_usb_handle_t **handle)
{
    return open_claim(usb, want, itf, alt, handle, 20);
}

int h7_usb_open_now(h7_usb_t *usb, const h7_usb_device_t *want, uint8_t itf, int alt,
                    h7_usb_handle_t **handle)
{
    return open_claim(usb, want, itf, alt, handle, 0);
}

void h7_usb_close(h7_usb_handle_t *handle)
{
    if (!handle) {
        return;
    }
    libusb_release_interface(handle->dev, handle->itf);
    libusb_close(handle->dev);
    free(handle);
}

static int usb_control(void *ctx, uint8_t bmRequestType, uint8_t bRequest, uint16_t wValue,
                       uint16_t wIndex, uint8_t *data, uint16_t wLength, unsigned timeout_ms)
{
    h7_usb_handle_t *h = ctx;
    int rc = libusb_control_transfer(h->dev, bmRequestType, bRequest, wValue, wIndex, data, wLength,
                                     timeout_ms);
    if (rc >= 0) {
        return rc;
    }
    switch (rc) {
    case LIBUSB_ERROR_PIPE:
        return H7_XFER_STALL;
    case LIBUSB_ERROR_NO_DEVICE:
        return H7_XFER_NO_DEVICE;
    case LIBUSB_ERROR_TIMEOUT:
        return H7_XFER_TIMEOUT;
    default:
        return H7_XFER_IO;
    }
}

static void usb_sleep_ms(void *ctx, unsigned ms)
{
    (void)ctx;
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

h7_transport_t h7_usb_transport(h7_usb_handle_t *handle)
{
    h7_transport_t t = {.control = usb_control, .sleep_ms = usb_sleep_ms, .ctx = handle};
    return t;
}

int h7_usb_reset(h7_usb_handle_t *handle)
{
    int rc = libusb_reset_device(handle->dev);
    /* A device that re-enumerates as something else reports NOT_FOUND: expected. */
    return rc == LIBUSB_ERROR_NOT_FOUND || rc == LIBUSB_ERROR_NO_DEVICE ? 0 : rc;
}

const char *h7_usb_strerror(int err)
{
    return libusb_strerror(err);
}
