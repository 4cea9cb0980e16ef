/*
 * h7dfu-sim: the virtual STM32H743 board, served on a fake USB bus to
 * unmodified libusb programs.
 *
 *   h7dfu-sim [--flash FILE] [--serial S] [--fast] [-v] run -- COMMAND...
 *
 * The board is the device core (core/usb) with the DFU/DfuSe class driver
 * (core/dfu) over the flash model (sim/flash): our bootloader's personality.
 * COMMAND runs under umockdev with the board on bus 1 (sim/usb); h7dfu-sim
 * exits with COMMAND's status and saves the flash to FILE.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfu.h"
#include "sim_clock.h"
#include "sim_flash.h"
#include "sim_usb_bridge.h"
#include "usbd.h"

#define VID 0x0483u /* STMicroelectronics: what DfuSe tools look for */
#define PID 0xdf11u /* DFU mode (AN3156) */

typedef struct board {
    sim_clock_t clock;
    sim_flash_t *flash;
    flash_dev_t fdev;
    dfu_t dfu;
    usbd_class_driver_t drv;
    char alt_name[128];
    uint8_t func_desc[DFU_FUNC_DESC_LEN];
    usbd_alt_desc_t alt;
    usbd_interface_desc_t itf;
    usbd_device_desc_t dev;
    uint8_t ctrl_buf[H7_DFU_XFER_MAX];
    const char *serial;
    bool fast;
    bool reset_pending; /* the bootloader asked for a system reset */
    unsigned resets;
} board_t;

static void on_manifest(void *user, uint32_t addr)
{
    board_t *b = user;
    (void)addr;
    /* The boot layer (core/boot) is not in the sim yet: leaving DFU mode
     * resets the board, which comes back as the bootloader. */
    b->reset_pending = true;
}

/* Power-on or system reset: everything but the flash starts again. */
static bool board_boot(board_t *b)
{
    dfu_config_t cfg = {
        .flash = &b->fdev,
        .itf_num = 0,
        .manifest = on_manifest,
        .user = b,
    };
    if (b->fast) {
        /* bwPollTimeout only: the virtual clock still charges DS12110 times. */
        cfg.erase_sector_ms = 1;
        cfg.program_word_us = 1;
    }
    if (!dfu_init(&b->dfu, &cfg))
        return false;
    b->drv = dfu_class_driver(&b->dfu);
    if (dfu_alt_string(&b->dfu, 0, b->alt_name, sizeof(b->alt_name)) == 0)
        return false;
    if (dfu_functional_descriptor(b->func_desc, sizeof(b->func_desc), b->dfu.cfg.attributes,
                                  b->dfu.cfg.detach_timeout_ms,
                                  dfu_transfer_size(&b->dfu)) != DFU_FUNC_DESC_LEN)
        return false;
    b->alt = (usbd_alt_desc_t){
        .cls = 0xfe, /* application specific: DFU (DFU 1.1 4.2.3) */
        .subclass = 0x01,
        .protocol = 0x02, /* DFU mode */
        .name = b->alt_name,
        .extra = b->func_desc,
        .extra_len = DFU_FUNC_DESC_LEN,
    };
    b->itf = (usbd_interface_desc_t){.alts = &b->alt, .num_alts = 1, .driver = &b->drv};
    b->dev = (usbd_device_desc_t){
        .vid = VID,
        .pid = PID,
        .bcd_device = 0x0200,
        .manufacturer = "h7dfu",
        .product = "h7dfu bootloader (virtual H743)",
        .serial = b->serial,
        .max_power_ma = 100,
        .itfs = &b->itf,
        .num_itfs = 1,
        .ctrl_buf = b->ctrl_buf,
        .ctrl_buf_size = sizeof(b->ctrl_buf),
    };
    if (!usbd_init(&b->dev))
        return false;
    usbd_connect();
    return true;
}

static void board_step(void *user)
{
    board_t *b = user;
    usbd_task();
    if (b->reset_pending) {
        b->reset_pending = false;
        b->resets++;
        usbd_disconnect();
        if (!board_boot(b)) {
            fprintf(stderr, "h7dfu-sim: board does not boot after reset\n");
            exit(70);
        }
    }
}

static int usage(FILE *f, int code)
{
    fprintf(f,
            "usage: h7dfu-sim [--flash FILE] [--serial S] [--fast] [-v] run -- COMMAND...\n"
            "  --flash FILE  flash contents, loaded at start (erased if missing), saved at exit\n"
            "  --serial S    USB serial number (default H7SIM0001)\n"
            "  --fast        tiny bwPollTimeout, so hosts do not wait the real flash times\n"
            "  -v            log enumeration and usbfs requests\n"
            "Runs COMMAND with the virtual board on a fake USB bus (umockdev) and exits\n"
            "with COMMAND's status.\n");
    return code;
}

int main(int argc, char **argv)
{
    const char *flash_file = NULL;
    board_t *b = calloc(1, sizeof(*b));
    if (!b)
        return 70;
    b->serial = "H7SIM0001";
    bool verbose = false;
    int i = 1;
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--flash") && i + 1 < argc)
            flash_file = argv[++i];
        else if (!strcmp(argv[i], "--serial") && i + 1 < argc)
            b->serial = argv[++i];
        else if (!strcmp(argv[i], "--fast"))
            b->fast = true;
        else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
            verbose = true;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            free(b);
            return usage(stdout, 0);
        } else
            break;
    }
    if (i >= argc || strcmp(argv[i], "run") != 0) {
        free(b);
        return usage(stderr, 2);
    }
    i++;
    if (i < argc && !strcmp(argv[i], "--"))
        i++;
    if (i >= argc) {
        free(b);
        return usage(stderr, 2);
    }

    sim_clock_init(&b->clock);
    b->flash = sim_flash_new(&b->clock);
    if (!b->flash) {
        free(b);
        return 70;
    }
    if (flash_file && sim_flash_load(b->flash, flash_file) != 0) {
        fprintf(stderr, "h7dfu-sim: %s: %s\n", flash_file, strerror(errno));
        sim_flash_free(b->flash);
        free(b);
        return 66;
    }
    b->fdev = sim_flash_dev(b->flash);
    int status = 70;
    if (!board_boot(b)) {
        fprintf(stderr, "h7dfu-sim: the board does not boot\n");
    } else {
        sim_usb_bridge_config_t cfg = {.step = board_step, .user = b, .verbose = verbose};
        sim_usb_bridge_t *br = sim_usb_bridge_new(&cfg);
        if (br) {
            status = sim_usb_bridge_run(br, &argv[i]);
            if (status < 0)
                status = 127;
            sim_usb_bridge_free(br);
        }
    }
    if (flash_file && sim_flash_save(b->flash, flash_file) != 0) {
        fprintf(stderr, "h7dfu-sim: saving %s: %s\n", flash_file, strerror(errno));
        if (status == 0)
            status = 74;
    }
    sim_flash_free(b->flash);
    free(b);
    return status;
}
