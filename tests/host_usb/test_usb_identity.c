/* h7_usb_is_h7dfu_app / _bootloader / _st_rom on described devices. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "h7_usb.h"

static h7_usb_device_t runtime(const char *itf_name)
{
    h7_usb_device_t d;
    memset(&d, 0, sizeof d);
    d.vid = 0x0483;
    d.pid = 0x5750;
    d.n_alts = 1;
    snprintf(d.alts[0].name, sizeof d.alts[0].name, "%s", itf_name);
    return d;
}

static h7_usb_device_t dfu_mode(const char *manufacturer, const char *alt0, const char *alt1)
{
    h7_usb_device_t d;
    memset(&d, 0, sizeof d);
    d.vid = 0x0483;
    d.pid = 0xdf11;
    d.dfu_mode = true;
    snprintf(d.manufacturer, sizeof d.manufacturer, "%s", manufacturer);
    snprintf(d.alts[d.n_alts++].name, sizeof d.alts[0].name, "%s", alt0);
    if (alt1) {
        snprintf(d.alts[d.n_alts++].name, sizeof d.alts[0].name, "%s", alt1);
    }
    return d;
}

static void app_by_interface_string(void **state)
{
    (void)state;
    h7_usb_device_t d = runtime("h7dfu runtime");
    assert_true(h7_usb_is_h7dfu_app(&d));
    d = runtime("h7dfu runtime (pump controller)");
    assert_true(h7_usb_is_h7dfu_app(&d));
    /* another product's DFU run-time interface, whatever its VID:PID */
    d = runtime("dock firmware update");
    assert_false(h7_usb_is_h7dfu_app(&d));
    d = runtime("h7dfu runtimes");
    assert_false(h7_usb_is_h7dfu_app(&d));
    d = runtime("");
    assert_false(h7_usb_is_h7dfu_app(&d));
    d = runtime("h7dfu runtime");
    d.n_alts = 0;
    assert_false(h7_usb_is_h7dfu_app(&d));
    d = runtime("h7dfu runtime");
    d.dfu_mode = true;
    assert_false(h7_usb_is_h7dfu_app(&d));
}

static void bootloader_and_rom(void **state)
{
    (void)state;
    const char *flash =
        "@Internal Flash  /0x081E0000/01*128Kg/0x08020000/14*128Kg/0x08000000/01*128Ka";
    h7_usb_device_t d = dfu_mode("h7dfu", flash, NULL);
    assert_true(h7_usb_is_h7dfu_bootloader(&d));
    assert_false(h7_usb_is_st_rom(&d));
    assert_false(h7_usb_is_h7dfu_app(&d));

    d = dfu_mode("STMicroelectronics", flash, "@Option Bytes   /0x5200201C/01*128 e");
    assert_true(h7_usb_is_st_rom(&d));
    assert_false(h7_usb_is_h7dfu_bootloader(&d));

    /* another maker's DFU-mode device on ST's IDs */
    d = dfu_mode("Example Devices", flash, NULL);
    assert_false(h7_usb_is_h7dfu_bootloader(&d));
    assert_false(h7_usb_is_st_rom(&d));
    d = dfu_mode("h7dfu", flash, NULL);
    d.pid = 0xdf12;
    assert_false(h7_usb_is_h7dfu_bootloader(&d));
    d = dfu_mode("h7dfu", flash, NULL);
    d.dfu_mode = false;
    assert_false(h7_usb_is_h7dfu_bootloader(&d));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(app_by_interface_string),
        cmocka_unit_test(bootloader_and_rom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
