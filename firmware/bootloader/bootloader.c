/*
 * The bootloader's portable half (bootloader.h): boot decision and the DfuSe
 * device. Only core/ interfaces: the same file runs on the STM32H743
 * (main.c) and in the virtual board.
 */
#include "bootloader.h"

#include <stddef.h>

#if defined(H7_BOOT_SIGNED) && H7_BOOT_SIGNED
#include "boot_sig.h"
#endif
#include "dfu.h"
#include "ms_os20.h"
#include "usbd.h"

#define BL_BCD_DEVICE 0x0200u

/* Microsoft OS 2.0 descriptors: one function, so WinUSB for the whole device. */
static const ms_os20_device_set_t s_ms_set = MS_OS20_DEVICE_SET(BOOTLOADER_INTERFACE_GUID);
static const uint8_t s_ms_bos[MS_OS20_BOS_LEN] =
    MS_OS20_BOS(MS_OS20_DEVICE_SET_LEN, BOOTLOADER_MS_OS20_VENDOR_CODE);
static const usbd_ms_os20_t s_ms = {
    .bos = s_ms_bos,
    .set = &s_ms_set,
    .set_len = MS_OS20_DEVICE_SET_LEN,
    .vendor_code = BOOTLOADER_MS_OS20_VENDOR_CODE,
};

/* One device per program, like usbd itself. */
static struct {
    dfu_t dfu;
    usbd_class_driver_t drv;
    char alt_name[112]; /* the DfuSe layout string: 80 characters, 99 signed */
    uint8_t func_desc[DFU_FUNC_DESC_LEN];
    usbd_alt_desc_t alt;
    usbd_interface_desc_t itf;
    usbd_device_desc_t dev;
    volatile bool leave;
    bool to_rom; /* the leave was the host's 0xC5: restart into ST's ROM */
    uint8_t status[DFU_BOOT_STATUS_LEN];
} s_bl;

boot_decision_t bootloader_decide(volatile boot_request_block_t *req, const flash_dev_t *flash,
                                  boot_image_info_t *info)
{
    /* Taken and cleared first: whatever happens next, a request acts once. */
    boot_request_t r = boot_request_get(req);
    boot_request_clear(req);
#if defined(H7_BOOT_SIGNED) && H7_BOOT_SIGNED
    /* A signed bootloader never hands over to ST's ROM (dfu.h,
     * no_rom_handover): a request for it keeps the board in DFU mode. */
    if (r == BOOT_REQ_ENTER_ROM_BOOTLOADER && boot_sig_get_key() != NULL) {
        r = BOOT_REQ_STAY_IN_DFU;
    }
#endif
#if defined(H7_BOOT_SIGNED) && H7_BOOT_SIGNED
    boot_image_info_t local;
    if (info == NULL) {
        info = &local;
    }
#endif
    boot_validate_t v = boot_validate(flash, BOOT_APP_SLOT_ADDR, info);
#if defined(H7_BOOT_SIGNED) && H7_BOOT_SIGNED
    /* Downgrade protection: the image's security counter is stored before it
     * starts (boot_sig.h); an image that cannot be recorded does not start. */
    boot_decision_t d = boot_decide(r, v);
    if (d.action == BOOT_START_APP && !boot_counter_commit(flash, info)) {
        d = boot_decide(r, BOOT_ERR_COUNTER_STORE);
    }
    return d;
#else
    return boot_decide(r, v);
#endif
}

static void on_manifest(void *user, uint32_t addr)
{
    (void)user;
    s_bl.to_rom = addr == DFU_ROM_BOOT_ADDR;
    s_bl.leave = true;
}

bool bootloader_usb_init(const bootloader_config_t *cfg)
{
    if (cfg == NULL || cfg->flash == NULL || cfg->xfer_buf == NULL) {
        return false;
    }
    s_bl.leave = false;
    s_bl.to_rom = false;
    uint16_t div = cfg->poll_scale_div != 0u ? cfg->poll_scale_div : 1u;
    dfu_config_t dcfg = {
        .flash = cfg->flash,
        .itf_num = 0,
        .ops_in_poll = cfg->ops_in_poll,
        .now_us = cfg->now_us,
        .clock_user = cfg->clock_user,
        .bufs = cfg->block_bufs,
        .buf_count = cfg->block_buf_count,
        .manifest = on_manifest,
        /* bwPollTimeout is derived from these (dfu.h); at least 1 (0 means
         * "default" to dfu_init) */
        .erase_sector_ms = H7_DFU_ERASE_SECTOR_MS_DEFAULT / div,
        .program_word_us = H7_DFU_PROGRAM_WORD_US_DEFAULT / div,
        .crc_ns_per_byte = H7_DFU_CRC_NS_PER_BYTE_DEFAULT / div,
    };
#if defined(H7_BOOT_SIGNED) && H7_BOOT_SIGNED
    dcfg.no_rom_handover = boot_sig_get_key() != NULL; /* dfu.h: around the signature */
#endif
#if H7_DFU_UPLOAD_LIMIT
    dcfg.no_rom_handover = dcfg.no_rom_handover || cfg->locked; /* around the lock */
    dcfg.upload_limited = cfg->locked;
    dcfg.upload_base = BOOTLOADER_UPLOAD_BASE;
    dcfg.upload_size = BOOTLOADER_UPLOAD_SIZE;
    dcfg.crc_open_base = BOOT_REC_AREA_ADDR; /* records: what the host checks */
    dcfg.crc_open_size = BOOT_REC_AREA_SIZE;
#endif
    if (dcfg.crc_ns_per_byte == 0u) {
        dcfg.crc_ns_per_byte = 1u;
    }
    if (dcfg.erase_sector_ms == 0u) {
        dcfg.erase_sector_ms = 1u;
    }
    if (dcfg.program_word_us == 0u) {
        dcfg.program_word_us = 1u;
    }
    if (cfg->boot != NULL && cfg->boot_info != NULL) {
        /* {action, why, validation, 0, version major, minor, patch LE16,
         * build LE32}: the newest record's version, as read */
        const boot_image_version_t *v = &cfg->boot_info->hdr.version;
        uint8_t *st = s_bl.status;
        st[0] = (uint8_t)cfg->boot->action;
        st[1] = (uint8_t)cfg->boot->why;
        st[2] = (uint8_t)cfg->boot->validation;
        st[3] = 0;
        st[4] = v->major;
        st[5] = v->minor;
        st[6] = (uint8_t)v->patch;
        st[7] = (uint8_t)(v->patch >> 8);
        for (unsigned i = 0; i < 4u; i++) {
            st[8 + i] = (uint8_t)(v->build >> (8u * i));
        }
        dcfg.boot_status = st;
    }
    if (!dfu_init(&s_bl.dfu, &dcfg) || cfg->xfer_buf_size < dfu_transfer_size(&s_bl.dfu)) {
        return false;
    }
    s_bl.drv = dfu_class_driver(&s_bl.dfu);
    if (dfu_alt_string(&s_bl.dfu, 0, s_bl.alt_name, sizeof s_bl.alt_name) == 0 ||
        dfu_functional_descriptor(s_bl.func_desc, sizeof s_bl.func_desc, s_bl.dfu.cfg.attributes,
                                  s_bl.dfu.cfg.detach_timeout_ms,
                                  dfu_transfer_size(&s_bl.dfu)) != DFU_FUNC_DESC_LEN) {
        return false;
    }
    s_bl.alt = (usbd_alt_desc_t){
        .cls = 0xFEu, /* application specific: DFU (DFU 1.1 4.2.3) */
        .subclass = 0x01u,
        .protocol = 0x02u, /* DFU mode */
        .name = s_bl.alt_name,
        .extra = s_bl.func_desc,
        .extra_len = DFU_FUNC_DESC_LEN,
    };
    s_bl.itf = (usbd_interface_desc_t){.alts = &s_bl.alt, .num_alts = 1, .driver = &s_bl.drv};
    s_bl.dev = (usbd_device_desc_t){
        .vid = BOOTLOADER_VID,
        .pid = BOOTLOADER_PID,
        .bcd_device = BL_BCD_DEVICE,
        .manufacturer = "h7dfu",
        .product = cfg->product != NULL ? cfg->product : "h7dfu bootloader",
        .serial = cfg->serial,
        .attributes = USB_CONFIG_ATTR_ONE,
        .max_power_ma = 100u,
        .itfs = &s_bl.itf,
        .num_itfs = 1,
        .ctrl_buf = cfg->xfer_buf,
        .ctrl_buf_size = cfg->xfer_buf_size,
        .ms_os20 = &s_ms,
    };
    return usbd_init(&s_bl.dev);
}

bool bootloader_task(void)
{
    usbd_task();
    return s_bl.leave;
}

boot_request_t bootloader_leave_request(const flash_dev_t *flash)
{
    if (s_bl.to_rom) {
        return BOOT_REQ_ENTER_ROM_BOOTLOADER;
    }
    /* A signed bootloader verifies here, before the image becomes the reset's
     * START_APP target (about 0.1 s at the 400 MHz the DFU device runs at),
     * and again at the reset before it starts it (boot_sig.h). */
    boot_validate_t v = boot_validate(flash, BOOT_APP_SLOT_ADDR, NULL);
    return v == BOOT_VALID ? BOOT_REQ_START_APP : BOOT_REQ_STAY_IN_DFU;
}
