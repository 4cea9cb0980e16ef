/* `h7dfu detach`: switch a running application into its DFU bootloader. */
#include "cmd.h"

#include <string.h>

static const char detach_help[] =
    "usage: h7dfu [OPTIONS] detach [-d VID:PID] [-S SERIAL] [-p PATH] [-w SECONDS]\n\n"
    "Sends DFU_DETACH to the application's DFU runtime interface; the device\n"
    "restarts into its bootloader (DFU mode). If the device does not detach\n"
    "by itself (no will-detach attribute), h7dfu resets the port.\n"
    "A board already in DFU mode is left as it is: exit 0, and it says so.\n"
    "Global options may also come after the command (`h7dfu --help`).\n";

/* The board the filters select is in DFU mode already (and no application
 * matches): nothing to do. */
static bool already_dfu(h7_usb_t *usb, const cli_opts_t *o, h7_usb_device_t *out)
{
    h7_usb_device_t all[16];
    int n = h7_usb_find(usb, &o->filter, all, 16);
    int n_dfu = 0, n_app = 0;
    for (int i = 0; i < n && i < 16; i++) {
        if (all[i].dfu_mode) {
            if (n_dfu++ == 0)
                *out = all[i];
        } else {
            n_app++;
        }
    }
    return n_dfu == 1 && n_app == 0;
}

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
    static const cli_cmd_t cmd = {"detach", detach_help, "", NULL, CLI_G_ALT};
    int ec = H7_EXIT_OK;
    if (cli_getopt(o, argc, argv, &cmd, &ec) != CLI_OPT_END)
        return ec;
    if (cli_want_args(o, argc, argv, &cmd, 0, 0, "") != H7_EXIT_OK)
        return H7_EXIT_USAGE;
    h7_usb_t *usb = NULL;
    int rc = cli_usb_init(o, &usb);
    if (rc != H7_EXIT_OK)
        return rc;
    h7_usb_device_t dev;
    if (already_dfu(usb, o, &dev)) {
        cli_info(o, "%04x:%04x serial %s is already in DFU mode: nothing to detach", dev.vid,
                 dev.pid, dev.serial);
        say_done(o, &dev, true);
        h7_usb_exit(usb);
        return H7_EXIT_OK;
    }
    rc = cli_find_one(usb, o, false, &dev);
    if (rc != H7_EXIT_OK) {
        h7_usb_exit(usb);
        return rc;
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
    h7_dfu_t dfu;
    h7_dfu_init(&dfu, &t, dev.interface, dev.transfer_size);
    uint16_t timeout = dev.detach_timeout_ms ? dev.detach_timeout_ms : 1000;
    if (h7_dfu_detach(&dfu, timeout) != 0 && dfu.err.xfer != H7_XFER_NO_DEVICE) {
        rc = cli_fail_dfu(o, &dfu, "DFU_DETACH failed");
    } else {
        /* DFU 1.1 5.1: without bitWillDetach the host resets the bus. */
        if (!(dev.dfu_attributes & 0x08))
            h7_usb_reset(h);
        cli_info(o, "detached %04x:%04x serial %s: it restarts in DFU mode", dev.vid, dev.pid,
                 dev.serial);
        say_done(o, &dev, false);
        rc = H7_EXIT_OK;
    }
    h7_usb_close(h);
    h7_usb_exit(usb);
    return rc;
}
