/* `h7dfu detach`: switch a running application into its DFU bootloader. */
#include "cmd.h"

#include <string.h>

int cmd_detach(const cli_opts_t *o, int argc, char **argv)
{
    if (cli_want_help(argc, argv,
                      "usage: h7dfu [OPTIONS] detach\n\n"
                      "Sends DFU_DETACH to the application's DFU runtime interface; the device\n"
                      "restarts into its bootloader (DFU mode). If the device does not detach\n"
                      "by itself (no will-detach attribute), h7dfu resets the port.\n"))
        return H7_EXIT_OK;
    h7_usb_t *usb = NULL;
    int rc = cli_usb_init(o, &usb);
    if (rc != H7_EXIT_OK)
        return rc;
    h7_usb_device_t dev;
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
        if (o->json)
            printf("{\"ok\":true,\"command\":\"detach\"}\n");
        rc = H7_EXIT_OK;
    }
    h7_usb_close(h);
    h7_usb_exit(usb);
    return rc;
}
