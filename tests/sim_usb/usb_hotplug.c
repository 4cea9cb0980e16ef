/*
 * usb_hotplug: one long-running libusb program that watches the virtual board
 * with a hotplug callback (libusb 1.0.16+, udev events on Linux) while it
 * asks the application to detach: it must see the application (0483:5750)
 * arrive, leave after DFU_DETACH, and the bootloader (0483:df11) arrive, in
 * that order, without re-initialising libusb. For sim_usb_hotplug.
 *
 * usage: usb_hotplug
 * Prints each event ("arrived 0483:5750" / "left 0483:5750" / ...); exit 0
 * when the three were seen within 10 s.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libusb.h>

#define ST_VID     0x0483u
#define APP_PID    0x5750u /* firmware/demo-app/demo_app.h */
#define BL_PID     0xdf11u
#define DFU_DETACH 0x00u /* DFU 1.1 Table 3.2 */

static struct {
    int arrived_app, left_app, arrived_bl;
    libusb_device *app; /* referenced while it is on the bus */
} g;

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int LIBUSB_CALL on_event(libusb_context *ctx, libusb_device *dev, libusb_hotplug_event ev,
                                void *user)
{
    (void)ctx;
    (void)user;
    struct libusb_device_descriptor dd;
    if (libusb_get_device_descriptor(dev, &dd) != 0) {
        return 0;
    }
    bool arrived = ev == LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED;
    printf("%s %04x:%04x\n", arrived ? "arrived" : "left", dd.idVendor, dd.idProduct);
    fflush(stdout);
    if (dd.idProduct == APP_PID && arrived && !g.arrived_app) {
        g.arrived_app = 1;
        g.app = libusb_ref_device(dev);
    } else if (dd.idProduct == APP_PID && !arrived && g.arrived_app) {
        g.left_app = 1;
    } else if (dd.idProduct == BL_PID && arrived && g.left_app) {
        g.arrived_bl = 1;
    }
    return 0;
}

/* The interface number of the DFU run-time interface (class 0xFE, subclass
 * 1, protocol 1: DFU 1.1 4.2.1), or -1. */
static int runtime_interface(libusb_device *dev)
{
    struct libusb_config_descriptor *cfg;
    if (libusb_get_active_config_descriptor(dev, &cfg) != 0) {
        return -1;
    }
    int found = -1;
    for (int i = 0; i < cfg->bNumInterfaces && found < 0; i++) {
        const struct libusb_interface_descriptor *a = &cfg->interface[i].altsetting[0];
        if (a->bInterfaceClass == 0xFE && a->bInterfaceSubClass == 1 &&
            a->bInterfaceProtocol == 1) {
            found = a->bInterfaceNumber;
        }
    }
    libusb_free_config_descriptor(cfg);
    return found;
}

static int detach(libusb_device *dev)
{
    libusb_device_handle *h;
    int r = libusb_open(dev, &h);
    if (r != 0) {
        fprintf(stderr, "open: %s\n", libusb_error_name(r));
        return -1;
    }
    int itf = runtime_interface(dev);
    if (itf < 0 || libusb_claim_interface(h, itf) != 0) {
        fprintf(stderr, "no DFU run-time interface to claim\n");
        libusb_close(h);
        return -1;
    }
    /* Class request to the interface, host to device; wValue wTimeout ms. */
    r = libusb_control_transfer(h, 0x21, DFU_DETACH, 1000, (uint16_t)itf, NULL, 0, 1000);
    /* The board may drop off the bus before the status stage completes. */
    if (r < 0 && r != LIBUSB_ERROR_NO_DEVICE && r != LIBUSB_ERROR_PIPE && r != LIBUSB_ERROR_IO) {
        fprintf(stderr, "DFU_DETACH: %s\n", libusb_error_name(r));
    }
    libusb_release_interface(h, itf);
    libusb_close(h);
    return 0;
}

int main(void)
{
    libusb_context *ctx;
    if (libusb_init(&ctx) != 0) {
        return 1;
    }
    if (!libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG)) {
        fprintf(stderr, "libusb has no hotplug support\n");
        libusb_exit(ctx);
        return 77;
    }
    libusb_hotplug_callback_handle cb;
    if (libusb_hotplug_register_callback(
            ctx, LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED | LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT,
            LIBUSB_HOTPLUG_ENUMERATE, (int)ST_VID, LIBUSB_HOTPLUG_MATCH_ANY,
            LIBUSB_HOTPLUG_MATCH_ANY, on_event, NULL, &cb) != 0) {
        fprintf(stderr, "hotplug registration failed\n");
        libusb_exit(ctx);
        return 1;
    }
    long deadline = now_ms() + 10000;
    int detached = 0, rc = 1;
    while (now_ms() < deadline) {
        struct timeval tv = {0, 100000};
        libusb_handle_events_timeout_completed(ctx, &tv, NULL);
        if (g.app && !detached) {
            detached = 1;
            if (detach(g.app) != 0) {
                break;
            }
        }
        if (g.arrived_bl) {
            rc = 0;
            break;
        }
    }
    if (rc != 0) {
        fprintf(stderr, "events: application arrived %d, left %d; bootloader arrived %d\n",
                g.arrived_app, g.left_app, g.arrived_bl);
    }
    libusb_hotplug_deregister_callback(ctx, cb);
    if (g.app) {
        libusb_unref_device(g.app);
    }
    libusb_exit(ctx);
    return rc;
}
