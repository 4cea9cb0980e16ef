/*
 * ms_os20_check VID:PID [GUID]: reads a device's Microsoft OS 2.0 descriptors
 * the way Windows does (device descriptor, BOS, then the descriptor set by
 * the vendor request the BOS names) through libusb, and checks them with the
 * reader written from the specification (tests/usb/ms_os20_parse.c):
 * bcdUSB 0x0201, the BOS and its MS OS 2.0 platform capability, the set's
 * length as announced, WINUSB for the whole device (one DFU interface) or for
 * a DFU interface of a composite device, and the DeviceInterfaceGUIDs
 * property (GUID, if given, compared without regard to case). Prints what it
 * found; exit status 0 when all is well.
 */
#include <libusb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ms_os20_parse.h"

static int fail(const char *what)
{
    printf("FAIL: %s\n", what);
    return 1;
}

/* bmRequestType 0xC0, bRequest vendor code, wValue 0, wIndex 7
 * (MS_OS_20_DESCRIPTOR_INDEX, MS OS 2.0 Table 8). */
static int read_set(libusb_device_handle *h, uint8_t code, uint8_t *buf, uint16_t len)
{
    return libusb_control_transfer(h, 0xC0, code, 0, 7, buf, len, 1000);
}

static int check(libusb_device_handle *h, const char *want_guid)
{
    libusb_device *dev = libusb_get_device(h);
    struct libusb_device_descriptor dd;
    if (libusb_get_device_descriptor(dev, &dd) != 0) {
        return fail("device descriptor");
    }
    printf("bcdUSB %04x\n", dd.bcdUSB);
    if (dd.bcdUSB != 0x0201) {
        return fail("bcdUSB is not 0x0201: a host would not ask for the BOS");
    }

    /* The BOS as hosts read it: the 5-byte header, then wTotalLength bytes;
     * asked for more, the device must still send only wTotalLength. */
    uint8_t bos[256];
    int n = libusb_get_descriptor(h, 0x0F, 0, bos, 5);
    if (n != 5) {
        return fail("GET_DESCRIPTOR(BOS, 5)");
    }
    unsigned total = bos[2] | bos[3] << 8;
    n = libusb_get_descriptor(h, 0x0F, 0, bos, sizeof bos);
    if (n < 0 || (unsigned)n != total) {
        return fail("GET_DESCRIPTOR(BOS) returned other than wTotalLength bytes");
    }
    ms20_bos_info_t bi;
    const char *e = ms20_parse_bos(bos, (size_t)n, &bi);
    if (e != NULL) {
        return fail(e);
    }
    printf("BOS %u bytes, %u capability, MS OS 2.0 platform capability "
           "{D8DD60DF-4589-4CC7-9CD2-659D9E648A9F}\n",
           bi.bos_len, bi.num_caps);
    printf("dwWindowsVersion 0x%08x, wMSOSDescriptorSetTotalLength %u, bMS_VendorCode 0x%02x, "
           "bAltEnumCode %u\n",
           (unsigned)bi.win_version, bi.set_len, bi.vendor_code, bi.alt_enum);
    if (bi.alt_enum != 0) {
        return fail("bAltEnumCode is not 0");
    }
    /* libusb's own reading of the BOS agrees */
    struct libusb_bos_descriptor *lb = NULL;
    if (libusb_get_bos_descriptor(h, &lb) != 0 || lb->wTotalLength != bi.bos_len ||
        lb->bNumDeviceCaps != bi.num_caps) {
        libusb_free_bos_descriptor(lb);
        return fail("libusb_get_bos_descriptor disagrees");
    }
    libusb_free_bos_descriptor(lb);

    /* The set: asked for more than announced, exactly the announced length
     * comes back; asked for less, its first bytes. */
    uint8_t *set = calloc(1, (size_t)bi.set_len + 64u);
    uint8_t head[16];
    if (set == NULL) {
        return fail("out of memory");
    }
    n = read_set(h, bi.vendor_code, set, (uint16_t)(bi.set_len + 64u));
    if (n < 0 || (unsigned)n != bi.set_len) {
        free(set);
        return fail("vendor request: length differs from wMSOSDescriptorSetTotalLength");
    }
    if (read_set(h, bi.vendor_code, head, sizeof head) != (int)sizeof head ||
        memcmp(head, set, sizeof head) != 0) {
        free(set);
        return fail("vendor request with a short wLength");
    }
    ms20_set_info_t si;
    e = ms20_parse_set(set, (size_t)n, &si);
    free(set);
    if (e != NULL) {
        return fail(e);
    }

    /* The WINUSB function must be a DFU interface (class 0xFE, subclass 1). */
    struct libusb_config_descriptor *cfg = NULL;
    if (libusb_get_config_descriptor(dev, 0, &cfg) != 0) {
        return fail("configuration descriptor");
    }
    int itf = si.function_itf < 0 ? 0 : si.function_itf;
    int ok = itf < cfg->bNumInterfaces && cfg->interface[itf].num_altsetting > 0 &&
             cfg->interface[itf].altsetting[0].bInterfaceClass == 0xFE &&
             cfg->interface[itf].altsetting[0].bInterfaceSubClass == 0x01 &&
             (si.function_itf >= 0 || cfg->bNumInterfaces == 1);
    libusb_free_config_descriptor(cfg);
    if (!ok) {
        return fail("WINUSB is not bound to a DFU interface (or to a one-interface device)");
    }
    if (si.function_itf < 0) {
        printf("descriptor set %u bytes: WINUSB for the whole device\n", bi.set_len);
    } else {
        printf("descriptor set %u bytes: WINUSB for the function at interface %d\n", bi.set_len,
               si.function_itf);
    }
    printf("DeviceInterfaceGUIDs %s\n", si.guid);
    if (want_guid != NULL && strcasecmp(want_guid, si.guid) != 0) {
        return fail("DeviceInterfaceGUIDs is not the expected GUID");
    }
    /* A wrong wIndex or vendor code is not answered with the set. */
    if (libusb_control_transfer(h, 0xC0, bi.vendor_code, 0, 6, head, sizeof head, 1000) >= 0 ||
        libusb_control_transfer(h, 0xC0, (uint8_t)(bi.vendor_code ^ 0x01), 0, 7, head, sizeof head,
                                1000) >= 0) {
        return fail("a request that is not the descriptor set's was answered");
    }
    printf("MS OS 2.0 descriptors OK\n");
    return 0;
}

int main(int argc, char **argv)
{
    unsigned vid, pid;
    if (argc < 2 || sscanf(argv[1], "%x:%x", &vid, &pid) != 2) {
        fprintf(stderr, "usage: %s VID:PID [GUID]\n", argv[0]);
        return 2;
    }
    libusb_context *ctx = NULL;
    if (libusb_init(&ctx) != 0) {
        return fail("libusb_init");
    }
    libusb_device_handle *h = libusb_open_device_with_vid_pid(ctx, (uint16_t)vid, (uint16_t)pid);
    int rc = h == NULL ? fail("device not found") : check(h, argc > 2 ? argv[2] : NULL);
    if (h != NULL) {
        libusb_close(h);
    }
    libusb_exit(ctx);
    return rc;
}
