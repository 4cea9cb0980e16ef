/* `h7dfu detach`: switch a running application into its DFU bootloader. */
#include "cmd.h"

#include <string.h>

static const char detach_help[] =
    "usage: h7dfu [OPTIONS] detach [-d VID:PID] [-S SERIAL] [-p PATH] [-w SECONDS]\n"
    "                              [--id VID:PID]\n\n"
    "Sends DFU_DETACH to the application's DFU runtime interface; the device\n"
    "restarts into its bootloader (DFU mode). If the device does not detach\n"
    "by itself (no will-detach attribute), h7dfu resets the port.\n"
    "A board already in DFU mode is left as it is: exit 0, and it says so.\n\n"
    "Without -d, -S or -p only h7dfu's own boards are considered: applications\n"
    "whose DFU runtime interface is named \"h7dfu runtime...\" (the h7dfu\n"
    "application library), the h7dfu bootloader or ST's ROM bootloader in DFU\n"
    "mode, and devices listed with --id or H7DFU_IDS. Other devices with a DFU\n"
    "runtime interface (docks, keyboards) are never detached. More than one such\n"
    "board is exit 2, with each listed: choose one with -S SERIAL.\n"
    "A device selected with -d, -S or -p is the user's choice: it is detached\n"
    "even when it is not an h7dfu application.\n\n"
    "  --id VID:PID     also consider devices with this VID:PID (hex; repeatable,\n"
    "                   or a comma-separated list); H7DFU_IDS=\"VID:PID,...\" in\n"
    "                   the environment adds to it\n"
    "Global options may also come after the command (`h7dfu --help`).\n";

enum { OPT_ID = 256 };

static void say_done(const cli_opts_t *o, const h7_usb_device_t *dev, bool already)
{
    cli_json_t j;
    if (cli_doc_begin(o, &j, H7_EXIT_OK)) {
        cli_doc_device(&j, dev);
        cli_json_bool(&j, "already_dfu", already);
        cli_doc_end(&j);
    }
}

int cmd_detach(cli_opts_t *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"id", required_argument, NULL, OPT_ID},
        {NULL, 0, NULL, 0},
    };
    static const cli_cmd_t cmd = {"detach", detach_help, "", longopts, CLI_G_ALT};
    int c, ec = H7_EXIT_OK;
    while ((c = cli_getopt(o, argc, argv, &cmd, &ec)) >= 0) {
        if (c == OPT_ID && cli_add_ids(o, optarg) != H7_EXIT_OK) {
            return H7_EXIT_USAGE;
        }
    }
    if (c == CLI_OPT_EXIT) {
        return ec;
    }
    if (cli_want_args(o, argc, argv, &cmd, 0, 0, "") != H7_EXIT_OK ||
        cli_add_ids(o, NULL) != H7_EXIT_OK) {
        return H7_EXIT_USAGE;
    }
    h7_usb_t *usb = NULL;
    int rc = cli_usb_init(o, &usb);
    if (rc != H7_EXIT_OK) {
        return rc;
    }
    h7_usb_device_t dev;
    rc = cli_find_target(usb, o, &dev);
    if (rc != H7_EXIT_OK) {
        h7_usb_exit(usb);
        return rc;
    }
    if (dev.dfu_mode) {
        cli_info(o, "%04x:%04x serial %s is already in DFU mode: nothing to detach", dev.vid,
                 dev.pid, dev.serial);
        say_done(o, &dev, true);
        h7_usb_exit(usb);
        return H7_EXIT_OK;
    }
    h7_usb_handle_t *h = NULL;
    int urc = h7_usb_open(usb, &dev, dev.interface, -1, &h);
    if (urc != 0) {
        cli_error(o, H7_EXIT_USB, "cannot open %04x:%04x at %s: %s", dev.vid, dev.pid, dev.path,
                  h7_usb_strerror(urc));
        h7_usb_exit(usb);
        return H7_EXIT_USB;
    }
    h7_transport_t t = h7_usb_transport(h);
    h7_dfu_client_t dfu;
    h7_dfu_init(&dfu, &t, dev.interface, dev.transfer_size);
    uint16_t timeout = dev.detach_timeout_ms ? dev.detach_timeout_ms : 1000;
    if (h7_dfu_detach(&dfu, timeout) != 0 && dfu.err.xfer != H7_XFER_NO_DEVICE) {
        rc = cli_fail_dfu(o, &dfu, "DFU_DETACH failed");
    } else {
        /* DFU 1.1 5.1: without bitWillDetach the host resets the bus. */
        if (!(dev.dfu_attributes & 0x08)) {
            h7_usb_reset(h);
        }
        cli_info(o, "detached %04x:%04x serial %s: it restarts in DFU mode", dev.vid, dev.pid,
                 dev.serial);
        say_done(o, &dev, false);
        rc = H7_EXIT_OK;
    }
    h7_usb_close(h);
    h7_usb_exit(usb);
    return rc;
}
