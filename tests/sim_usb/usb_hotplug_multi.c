/*
 * usb_hotplug_multi: one long-running libusb program on a bus with several
 * boards (h7dfu-sim --board). It watches every ST device with a hotplug
 * callback, then sends requests to the board on port CYCLES (set up with
 * unplug=N) until that board drops off the bus; it must see that board leave
 * and arrive again, and nothing at all of the board on port STAYS, which
 * answers a request once more at the end. For sim_usb_multi_board_hotplug.
 *
 * usage: usb_hotplug_multi STAYS CYCLES   (port numbers on bus 1)
 * Prints each event ("arrived 0483:df11 1-2" / "left 0483:df11 1-2"); exit 0
 * when all was seen within 10 s.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libusb.h>

#define ST_VID 0x0483u

static struct {
    int stays, cycles;            /* port numbers */
    libusb_device *dev_stays;     /* referenced once it arrived */
    libusb_device *dev_cycles;    /* the first arrival of the cycling board */
    int stays_events;             /* events of the board that stays, arrival included */
    int cycles_left, cycles_back; /* the cycling board's leave and comeback */
} g;

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int port_of(libusb_device *dev)
{
    uint8_t ports[8];
    int n = libusb_get_port_numbers(dev, ports, (int)sizeof(ports));
    return libusb_get_bus_number(dev) == 1 && n == 1 ? ports[0] : -1;
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
    int port = port_of(dev);
    printf("%s %04x:%04x 1-%d\n", arrived ? "arrived" : "left", dd.idVendor, dd.idProduct, port);
    fflush(stdout);
    if (port == g.stays) {
        g.stays_events++;
        if (arrived && !g.dev_stays) {
            g.dev_stays = libusb_ref_device(dev);
        }
    } else if (port == g.cycles) {
        if (arrived && !g.dev_cycles) {
            g.dev_cycles = libusb_ref_device(dev);
        } else if (!arrived && g.dev_cycles) {
            g.cycles_left = 1;
        } else if (arrived && g.cycles_left) {
            g.cycles_back = 1;
        }
    }
    return 0;
}

/* A standard GET_DESCRIPTOR (device) on dev: 0 when it was answered. */
static int ask(libusb_device_handle *h)
{
    unsigned char d[18];
    int r = libusb_control_transfer(h, 0x80, LIBUSB_REQUEST_GET_DESCRIPTOR, 0x0100, 0, d, sizeof(d),
                                    1000);
    return r == (int)sizeof(d) ? 0 : r < 0 ? r : -1;
}

/* Requests to the cycling board until it is gone (its unplug fault). */
static int drive_off(libusb_device *dev)
{
    libusb_device_handle *h;
    int r = libusb_open(dev, &h);
    if (r != 0) {
        fprintf(stderr, "open the cycling board: %s\n", libusb_error_name(r));
        return -1;
    }
    for (int i = 0; i < 1000 && (r = ask(h)) == 0; i++)
        ;
    libusb_close(h);
    if (r == 0) {
        fprintf(stderr, "the cycling board stayed on the bus\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        return 2;
    }
    g.stays = atoi(argv[1]);
    g.cycles = atoi(argv[2]);
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
    int driven = 0, rc = 1;
    while (now_ms() < deadline) {
        struct timeval tv = {0, 100000};
        libusb_handle_events_timeout_completed(ctx, &tv, NULL);
        if (g.dev_stays && g.dev_cycles && !driven) {
            driven = 1;
            if (drive_off(g.dev_cycles) != 0) {
                break;
            }
        }
        if (g.cycles_back) {
            /* a little longer: a late event of the other board would show */
            libusb_handle_events_timeout_completed(ctx, &(struct timeval){0, 300000}, NULL);
            rc = 0;
            break;
        }
    }
    if (rc == 0 && g.stays_events != 1) {
        fprintf(stderr, "the board on port %d had %d events (want its arrival only)\n", g.stays,
                g.stays_events);
        rc = 1;
    }
    if (rc == 0) {
        libusb_device_handle *h;
        if (libusb_open(g.dev_stays, &h) != 0 || ask(h) != 0) {
            fprintf(stderr, "the board on port %d does not answer any more\n", g.stays);
            rc = 1;
        } else {
            libusb_close(h);
        }
    } else if (rc != 0) {
        fprintf(stderr, "events: port %d arrived %d; port %d arrived %d, left %d, back %d\n",
                g.stays, g.dev_stays != NULL, g.cycles, g.dev_cycles != NULL, g.cycles_left,
                g.cycles_back);
    }
    libusb_hotplug_deregister_callback(ctx, cb);
    if (g.dev_stays) {
        libusb_unref_device(g.dev_stays);
    }
    if (g.dev_cycles) {
        libusb_unref_device(g.dev_cycles);
    }
    libusb_exit(ctx);
    return rc;
}
