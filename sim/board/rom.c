/*
 * ST's H7 ROM bootloader, USB DFU side, as a model (rom.h). A DfuSe responder
 * of its own (AN3156 "DFU protocol used in the STM32 bootloader"), not
 * core/dfu: this is ST's behaviour, including what ours deliberately does
 * differently (the leave jumps without a reset; option bytes are writable).
 */
#include "rom.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "dfu.h"
#include "h7_util.h"
#include "usbd.h"

#define ALT_FLASH 0u
#define ALT_OB    1u

/* AN3156 "Get commands": the DfuSe commands the bootloader supports. */
static const uint8_t k_commands[] = {DFUSE_CMD_GET_COMMANDS, DFUSE_CMD_SET_ADDRESS, DFUSE_CMD_ERASE,
                                     DFUSE_CMD_READ_UNPROTECT};

/* bwPollTimeout the model reports: DS12110 typical times (sector erase
 * 128 KiB ~1.1 s at x32, flash word ~130 us; see core/dfu/dfu.h), a mass
 * erase as 8 sector erases per bank in parallel. */
#define POLL_ERASE_MS 1100u
#define POLL_MASS_MS  (8u * 1100u)
#define POLL_WRITE_MS 5u
#define POLL_CMD_MS   1u

typedef enum rom_op {
    OP_NONE = 0,
    OP_SET_ADDRESS,
    OP_ERASE,
    OP_MASS_ERASE,
    OP_READ_UNPROTECT,
    OP_WRITE,
    OP_FAIL, /* refused when the request came in: status in op_status */
} rom_op_t;

static struct {
    rom_config_t cfg;
    uint8_t state, status;
    uint8_t alt;
    uint32_t addr; /* DfuSe address pointer */
    rom_op_t op;
    uint8_t op_status;
    uint32_t op_addr;
    uint16_t op_len, op_block;
    bool op_armed;     /* GETSTATUS answered dfuDNBUSY: run op after its status stage */
    bool reset_after;  /* reset once the result was reported */
    rom_event_t event; /* for rom_task() */
    char note[160];
    uint8_t func_desc[DFU_FUNC_DESC_LEN];
    uint8_t data[ROM_XFER_SIZE]; /* the block of the pending DNLOAD */
    uint8_t ctrl[ROM_XFER_SIZE]; /* the device core's control buffer */
    usbd_class_driver_t drv;
    usbd_alt_desc_t alts[2];
    usbd_interface_desc_t itf;
    usbd_device_desc_t dev;
} s_rom;

/* ---- option bytes ---- */

/* FLASH_OPTSR (RM0433 4.9.8): RDP [15:8]; IWDG1_SW bit 4, NRST_STOP_D1 bit 6,
 * NRST_STBY_D1 bit 7, FZ_IWDG_STOP bit 17, FZ_IWDG_SDBY bit 18 set in the
 * factory state (watchdog by software, no reset on Stop/Standby). */
#define OPTSR_FACTORY   0x0006AAD0u
#define OPTSR_RDP_SHIFT 8u
#define OPTSR_RDP_MASK  (0xFFu << OPTSR_RDP_SHIFT)
#define OPTSR_RO_MASK   0xC0000001u /* OPT_BUSY bit 0, OPTCHANGEERR bit 30: read-only */
#define OPTSR_SWAP_BANK 0x80000000u
#define RDP_LEVEL0      0xAAu
#define RDP_LEVEL2      0xCCu /* RM0433 4.5.3: permanent */
/* PRAR/SCAR (RM0433 4.9.10, 4.9.12): start 0x0FF > end 0x000: no area. */
#define AREA_NONE 0x000000FFu

void rom_ob_factory(uint8_t ob[ROM_OB_SIZE])
{
    memset(ob, 0, ROM_OB_SIZE);
    h7_put_le32(ob + ROM_OB_OPTSR_CUR, OPTSR_FACTORY);
    h7_put_le32(ob + ROM_OB_OPTSR_PRG, OPTSR_FACTORY);
    h7_put_le32(ob + ROM_OB_PRAR_CUR1, AREA_NONE);
    h7_put_le32(ob + ROM_OB_PRAR_PRG1, AREA_NONE);
    h7_put_le32(ob + ROM_OB_SCAR_CUR1, AREA_NONE);
    h7_put_le32(ob + ROM_OB_SCAR_PRG1, AREA_NONE);
    /* FLASH_WPSN_CUR1R (RM0433 4.9.13): bit n = 1: sector n not protected. */
    h7_put_le32(ob + ROM_OB_WPSN_CUR1, 0x000000FFu);
    h7_put_le32(ob + ROM_OB_WPSN_PRG1, 0x000000FFu);
    /* FLASH_BOOT_CURR (RM0433 4.9.15): BOOT_ADD0 [15:0], BOOT_ADD1 [31:16]. */
    h7_put_le32(ob + ROM_OB_BOOT_CUR, 0x1FF00800u);
    h7_put_le32(ob + ROM_OB_BOOT_PRG, 0x1FF00800u);
}

uint32_t rom_ob_boot_addr(const uint8_t ob[ROM_OB_SIZE], bool boot0_pin)
{
    uint32_t boot = h7_get_le32(ob + ROM_OB_BOOT_CUR);
    return boot0_pin ? (boot & 0xFFFF0000u) : (boot << 16);
}

uint8_t rom_ob_rdp(const uint8_t ob[ROM_OB_SIZE])
{
    return (uint8_t)((h7_get_le32(ob + ROM_OB_OPTSR_CUR) & OPTSR_RDP_MASK) >> OPTSR_RDP_SHIFT);
}

uint8_t rom_ob_wrp_bank1(const uint8_t ob[ROM_OB_SIZE])
{
    return (uint8_t)~h7_get_le32(ob + ROM_OB_WPSN_CUR1);
}

void rom_ob_set_wrp_bank1(uint8_t ob[ROM_OB_SIZE], uint8_t mask)
{
    uint32_t v = (h7_get_le32(ob + ROM_OB_WPSN_CUR1) | 0xFFu) & ~(uint32_t)mask;
    h7_put_le32(ob + ROM_OB_WPSN_CUR1, v);
    h7_put_le32(ob + ROM_OB_WPSN_PRG1, v);
}

static uint8_t do_mass_erase(void);

/* The host wrote the window: take the programming copies, then load them as
 * an OPTSTART + option-byte load would (RM0433 4.4.3 "Option byte
 * modification"): *_CUR = *_PRG. Read-only status bits stay ours.
 * RDP level 1 -> level 0 (RDP 0xAA programmed while RDP is neither 0xAA nor
 * 0xCC) is the regression of RM0433 4.5.3 "Readout protection (RDP)": the
 * user flash of both banks is mass erased first, write-protected sectors
 * included (the level change, not a sector erase, so WRPSN does not stop
 * it), then the new option bytes load; WRPSN takes the programmed value
 * (what the host wrote: unchanged unless it changed it). Level 2 (0xCC)
 * cannot change any more (RM0433 4.5.3): the write is ignored. */
static uint8_t ob_apply(const uint8_t *data, uint16_t len)
{
    uint8_t *ob = s_rom.cfg.ob;
    uint32_t old_sr = h7_get_le32(ob + ROM_OB_OPTSR_CUR);
    uint8_t old_rdp = (uint8_t)((old_sr & OPTSR_RDP_MASK) >> OPTSR_RDP_SHIFT);
    uint8_t new_rdp =
        len >= ROM_OB_OPTSR_PRG + 4u
            ? (uint8_t)((h7_get_le32(data + ROM_OB_OPTSR_PRG) & OPTSR_RDP_MASK) >> OPTSR_RDP_SHIFT)
            : old_rdp;
    if (old_rdp == RDP_LEVEL2) {
        return DFU_STATUS_ERR_VENDOR;
    }
    if (old_rdp != RDP_LEVEL0 && new_rdp == RDP_LEVEL0) {
        uint8_t st = do_mass_erase();
        if (st != DFU_STATUS_OK) {
            return st;
        }
        snprintf(s_rom.note, sizeof s_rom.note,
                 "ROM: RDP regression level 1 -> 0: user flash mass erased (both banks)");
    }
    memcpy(ob, data, len);
    uint32_t sr =
        (h7_get_le32(ob + ROM_OB_OPTSR_PRG) & ~OPTSR_RO_MASK) | (old_sr & OPTSR_RO_MASK & ~1u);
    sr = (sr & ~OPTSR_SWAP_BANK) | (h7_get_le32(ob + ROM_OB_OPTSR_PRG) & OPTSR_SWAP_BANK);
    h7_put_le32(ob + ROM_OB_OPTSR_CUR, sr);
    h7_put_le32(ob + ROM_OB_OPTSR_PRG, sr);
    h7_put_le32(ob + ROM_OB_PRAR_CUR1, h7_get_le32(ob + ROM_OB_PRAR_PRG1));
    h7_put_le32(ob + ROM_OB_SCAR_CUR1, h7_get_le32(ob + ROM_OB_SCAR_PRG1));
    h7_put_le32(ob + ROM_OB_WPSN_CUR1, h7_get_le32(ob + ROM_OB_WPSN_PRG1));
    h7_put_le32(ob + ROM_OB_BOOT_CUR, h7_get_le32(ob + ROM_OB_BOOT_PRG));
    return DFU_STATUS_OK;
}

static bool rdp_active(void)
{
    return rom_ob_rdp(s_rom.cfg.ob) != RDP_LEVEL0;
}

/* ---- identity ---- */

void rom_serial_from_uid(const uint32_t uid[3], char out[13])
{
    snprintf(out, 13, "%08X%04X", (unsigned)(uid[0] + uid[2]), (unsigned)(uid[1] >> 16));
}

bool rom_vector_plausible(const flash_dev_t *flash, uint32_t addr)
{
    const flash_map_t *m = flash->map;
    uint32_t v[2];
    if (!flash_map_contains(m, addr, 8) ||
        flash->ops->read(flash->ctx, addr, v, sizeof v) != FLASH_OK) {
        return false;
    }
    uint32_t end = m->base + flash_map_size(m);
    return boot_vector_sp_ok(v[0]) && boot_vector_reset_ok(v[1], addr, end - addr);
}

static const struct {
    const char *name;
    uint8_t status;
} k_status_names[] = {
    {"errTARGET", DFU_STATUS_ERR_TARGET},
    {"errFILE", DFU_STATUS_ERR_FILE},
    {"errWRITE", DFU_STATUS_ERR_WRITE},
    {"errERASE", DFU_STATUS_ERR_ERASE},
    {"errCHECK_ERASED", DFU_STATUS_ERR_CHECK_ERASED},
    {"errPROG", DFU_STATUS_ERR_PROG},
    {"errVERIFY", DFU_STATUS_ERR_VERIFY},
    {"errADDRESS", DFU_STATUS_ERR_ADDRESS},
    {"errNOTDONE", DFU_STATUS_ERR_NOTDONE},
    {"errFIRMWARE", DFU_STATUS_ERR_FIRMWARE},
    {"errVENDOR", DFU_STATUS_ERR_VENDOR},
    {"errUSBR", DFU_STATUS_ERR_USBR},
    {"errPOR", DFU_STATUS_ERR_POR},
    {"errUNKNOWN", DFU_STATUS_ERR_UNKNOWN},
    {"errSTALLEDPKT", DFU_STATUS_ERR_STALLEDPKT},
};

bool rom_parse_status(const char *s, uint8_t *status)
{
    for (size_t i = 0; i < sizeof k_status_names / sizeof k_status_names[0]; i++) {
        if (strcmp(s, k_status_names[i].name) == 0) {
            *status = k_status_names[i].status;
            return true;
        }
    }
    char *end;
    unsigned long v = strtoul(s, &end, 0);
    if (end == s || *end || v < 1 || v > 15) {
        return false;
    }
    *status = (uint8_t)v;
    return true;
}

static const char *status_name(uint8_t st)
{
    for (size_t i = 0; i < sizeof k_status_names / sizeof k_status_names[0]; i++) {
        if (k_status_names[i].status == st) {
            return k_status_names[i].name;
        }
    }
    return "OK";
}

const char *rom_last_note(void)
{
    return s_rom.note;
}

/* ---- flash work ---- */

static const flash_map_t *fmap(void)
{
    return s_rom.cfg.flash->map;
}

static uint8_t flash_err_status(flash_status_t st, uint8_t otherwise)
{
    switch (st) {
    case FLASH_OK:
        return DFU_STATUS_OK;
    case FLASH_ERR_ADDRESS:
        return DFU_STATUS_ERR_ADDRESS;
    case FLASH_ERR_PROTECTED:
        return DFU_STATUS_ERR_TARGET;
    case FLASH_ERR_ERASE:
        return DFU_STATUS_ERR_ERASE;
    default:
        return otherwise;
    }
}

static uint8_t do_write(uint32_t addr, const uint8_t *data, uint16_t len)
{
    const flash_dev_t *f = s_rom.cfg.flash;
    const unsigned ws = fmap()->word_size;
    if (addr % ws || !flash_map_contains(fmap(), addr, len)) {
        return DFU_STATUS_ERR_ADDRESS;
    }
    int sec = flash_map_sector_of(fmap(), addr);
    if (sec >= 0 && sec < 8 && (rom_ob_wrp_bank1(s_rom.cfg.ob) >> sec) & 1u) {
        return DFU_STATUS_ERR_TARGET;
    }
    uint8_t word[64];
    for (uint32_t off = 0; off < len; off += ws) {
        /* A short last word is completed with the erased value. */
        memset(word, 0xFF, ws);
        memcpy(word, data + off, len - off < ws ? len - off : ws);
        flash_status_t st = f->ops->program_word(f->ctx, addr + off, word);
        if (st != FLASH_OK) {
            return flash_err_status(st, DFU_STATUS_ERR_WRITE);
        }
    }
    return DFU_STATUS_OK;
}

static uint8_t do_erase(uint32_t addr)
{
    const flash_dev_t *f = s_rom.cfg.flash;
    int sec = flash_map_sector_of(fmap(), addr);
    if (sec < 0) {
        return DFU_STATUS_ERR_TARGET; /* AN3156: erase of a wrong address */
    }
    if (sec < 8 && (rom_ob_wrp_bank1(s_rom.cfg.ob) >> sec) & 1u) {
        return DFU_STATUS_ERR_TARGET;
    }
    return flash_err_status(f->ops->erase_sector(f->ctx, (unsigned)sec), DFU_STATUS_ERR_ERASE);
}

/* All user flash, both banks (the DfuSe mass erase, the read unprotect and
 * the RDP regression). */
static uint8_t do_mass_erase(void)
{
    const flash_dev_t *f = s_rom.cfg.flash;
    unsigned banks = fmap()->sector_count / fmap()->sectors_per_bank;
    for (unsigned b = 0; b < banks; b++) {
        flash_status_t st = f->ops->erase_bank(f->ctx, b);
        if (st != FLASH_OK) {
            return flash_err_status(st, DFU_STATUS_ERR_ERASE);
        }
    }
    return DFU_STATUS_OK;
}

/* Run the operation the last DNLOAD stored (after GETSTATUS said dfuDNBUSY). */
static void run_op(void)
{
    uint8_t st = DFU_STATUS_OK;
    switch (s_rom.op) {
    case OP_NONE:
        break;
    case OP_SET_ADDRESS:
        s_rom.addr = s_rom.op_addr;
        break;
    case OP_ERASE:
        st = do_erase(s_rom.op_addr);
        break;
    case OP_MASS_ERASE:
        /* A bank erase with a write-protected sector is not done (RM0433
         * 4.3.10 erase operations: WRPERR); refused as a protected
         * sector's erase is, errTARGET. */
        st = rom_ob_wrp_bank1(s_rom.cfg.ob) ? DFU_STATUS_ERR_TARGET : do_mass_erase();
        break;
    case OP_READ_UNPROTECT:
        /* AN3156 "Read unprotect": level 0 again, the flash mass erased, then
         * the device resets. */
        st = do_mass_erase();
        if (st == DFU_STATUS_OK) {
            uint32_t sr = h7_get_le32(s_rom.cfg.ob + ROM_OB_OPTSR_CUR) & ~OPTSR_RDP_MASK;
            sr |= (uint32_t)RDP_LEVEL0 << OPTSR_RDP_SHIFT;
            h7_put_le32(s_rom.cfg.ob + ROM_OB_OPTSR_CUR, sr);
            h7_put_le32(s_rom.cfg.ob + ROM_OB_OPTSR_PRG, sr);
            s_rom.reset_after = true;
        }
        break;
    case OP_WRITE:
        if (s_rom.alt == ALT_OB) {
            st = ob_apply(s_rom.data, s_rom.op_len);
            s_rom.reset_after = st == DFU_STATUS_OK;
            break;
        }
        st = do_write(s_rom.op_addr, s_rom.data, s_rom.op_len);
        break;
    case OP_FAIL:
        st = s_rom.op_status;
        break;
    }
    s_rom.op = OP_NONE;
    s_rom.status = st;
    s_rom.state = st == DFU_STATUS_OK ? DFU_STATE_DNLOAD_IDLE : DFU_STATE_ERROR;
    if (st != DFU_STATUS_OK && !s_rom.note[0]) {
        snprintf(s_rom.note, sizeof s_rom.note, "ROM: %s at 0x%08x", status_name(st),
                 (unsigned)s_rom.op_addr);
    }
}

/* ---- DFU requests ---- */

static int stall(void)
{
    s_rom.state = DFU_STATE_ERROR;
    s_rom.status = DFU_STATUS_ERR_STALLEDPKT;
    return USBD_STALL;
}

static uint32_t poll_ms(rom_op_t op)
{
    uint32_t ms = op == OP_ERASE                                   ? POLL_ERASE_MS
                  : op == OP_MASS_ERASE || op == OP_READ_UNPROTECT ? POLL_MASS_MS
                  : op == OP_WRITE                                 ? POLL_WRITE_MS
                                                                   : POLL_CMD_MS;
    if (s_rom.cfg.fast) {
        ms = ms / 1000u ? ms / 1000u : 0u;
    }
    return ms;
}

/* DNLOAD block 0: a DfuSe command (AN3156 "DFU_DNLOAD request command"). */
static int dnload_command(const uint8_t *d, uint16_t len)
{
    s_rom.op_addr = len >= 5 ? h7_get_le32(d + 1) : 0;
    switch (d[0]) {
    case DFUSE_CMD_SET_ADDRESS:
        if (len != 5) {
            return stall();
        }
        s_rom.op = OP_SET_ADDRESS;
        break;
    case DFUSE_CMD_ERASE:
        if (len == 1) {
            s_rom.op = OP_MASS_ERASE;
        } else if (len == 5) {
            s_rom.op = OP_ERASE;
        } else {
            return stall();
        }
        break;
    case DFUSE_CMD_READ_UNPROTECT:
        if (len != 1) {
            return stall();
        }
        s_rom.op = OP_READ_UNPROTECT;
        break;
    default:
        return stall();
    }
    if (rdp_active() && s_rom.op != OP_READ_UNPROTECT && s_rom.op != OP_SET_ADDRESS) {
        /* Level 1: only read unprotect works (AN2606 / AN3156). */
        s_rom.op = OP_FAIL;
        s_rom.op_status = DFU_STATUS_ERR_VENDOR;
    }
    return 0;
}

static int dnload_data(uint16_t block, const uint8_t *d, uint16_t len)
{
    uint32_t addr = s_rom.addr + (uint32_t)(block - 2u) * ROM_XFER_SIZE;
    memcpy(s_rom.data, d, len);
    s_rom.op = OP_WRITE;
    s_rom.op_addr = addr;
    s_rom.op_len = len;
    s_rom.op_block = block;
    if (s_rom.alt == ALT_OB) {
        if (addr != ROM_OB_BASE || len > ROM_OB_SIZE) {
            s_rom.op = OP_FAIL;
            s_rom.op_status = DFU_STATUS_ERR_TARGET;
        }
        return 0;
    }
    if (rdp_active()) {
        s_rom.op = OP_FAIL;
        s_rom.op_status = DFU_STATUS_ERR_VENDOR;
        return 0;
    }
    rom_fault_t *fl = s_rom.cfg.fault;
    if (fl) {
        fl->seen++;
        if (fl->fail_block && !fl->fired && fl->seen == fl->fail_block) {
            fl->fired = true;
            s_rom.op = OP_FAIL;
            s_rom.op_status = fl->status ? fl->status : DFU_STATUS_ERR_WRITE;
            snprintf(s_rom.note, sizeof s_rom.note,
                     "ROM: INJECTED %s on data block %u (block #%u of the run) at 0x%08x",
                     status_name(s_rom.op_status), (unsigned)block, (unsigned)fl->seen,
                     (unsigned)addr);
        }
    }
    return 0;
}

static int req_dnload(const usb_setup_t *s, const uint8_t *data)
{
    if (s_rom.state != DFU_STATE_IDLE && s_rom.state != DFU_STATE_DNLOAD_IDLE) {
        return stall();
    }
    if (s->wLength == 0) {
        /* Leave (AN3156 "Leave DFU mode"): from dfuDNLOAD-IDLE or dfuIDLE,
         * as the DFU class of ST's USB device library accepts it; the jump
         * goes to the address pointer, as the last set address left it. */
        s_rom.state = DFU_STATE_MANIFEST_SYNC;
        return 0;
    }
    if (data == NULL || s->wLength > ROM_XFER_SIZE) {
        return stall();
    }
    int rc;
    if (s->wValue == 0) {
        rc = dnload_command(data, s->wLength);
    } else if (s->wValue == 1) {
        rc = stall(); /* AN3156: block 1 is not used */
    } else {
        rc = dnload_data(s->wValue, data, s->wLength);
    }
    if (rc == 0) {
        s_rom.state = DFU_STATE_DNLOAD_SYNC;
    }
    return rc;
}

static int req_upload(const usb_setup_t *s, uint8_t *data, uint16_t cap)
{
    if (s_rom.state != DFU_STATE_IDLE && s_rom.state != DFU_STATE_UPLOAD_IDLE) {
        return stall();
    }
    if (s->wValue == 0) {
        uint16_t n = cap < sizeof k_commands ? cap : (uint16_t)sizeof k_commands;
        memcpy(data, k_commands, n);
        s_rom.state = DFU_STATE_IDLE; /* a short frame ends the upload */
        return n;
    }
    if (s->wValue == 1 || s->wLength > ROM_XFER_SIZE) {
        return stall();
    }
    if (rdp_active() && s_rom.alt == ALT_FLASH) {
        /* AN3156: read with read protection -> dfuERROR, errVENDOR. RDP
         * guards the user flash, not the option bytes, which stay readable
         * and writable from the bootloader at level 1 (RM0433 4.5.3): the
         * regression to level 0 is written through them. */
        s_rom.state = DFU_STATE_ERROR;
        s_rom.status = DFU_STATUS_ERR_VENDOR;
        return USBD_STALL;
    }
    uint32_t addr = s_rom.addr + (uint32_t)(s->wValue - 2u) * ROM_XFER_SIZE;
    uint32_t base, size;
    if (s_rom.alt == ALT_OB) {
        base = ROM_OB_BASE;
        size = ROM_OB_SIZE;
    } else {
        base = fmap()->base;
        size = flash_map_size(fmap());
    }
    if (addr < base || addr >= base + size) {
        s_rom.state = DFU_STATE_ERROR;
        s_rom.status = DFU_STATUS_ERR_ADDRESS;
        return USBD_STALL;
    }
    uint32_t n = base + size - addr;
    if (n > cap) {
        n = cap;
    }
    if (s_rom.alt == ALT_OB) {
        memcpy(data, s_rom.cfg.ob + (addr - base), n);
    } else if (s_rom.cfg.flash->ops->read(s_rom.cfg.flash->ctx, addr, data, n) != FLASH_OK) {
        s_rom.state = DFU_STATE_ERROR;
        s_rom.status = DFU_STATUS_ERR_UNKNOWN;
        return USBD_STALL;
    }
    s_rom.state = n < s->wLength ? DFU_STATE_IDLE : DFU_STATE_UPLOAD_IDLE;
    return (int)n;
}

static int req_getstatus(uint8_t *data, uint16_t cap)
{
    uint32_t poll = 0;
    if (s_rom.state == DFU_STATE_DNLOAD_SYNC) {
        poll = poll_ms(s_rom.op);
        s_rom.state = DFU_STATE_DNBUSY;
        s_rom.op_armed = true;
    } else if (s_rom.state == DFU_STATE_MANIFEST_SYNC) {
        s_rom.state = DFU_STATE_MANIFEST;
    }
    uint8_t r[DFU_STATUS_LEN] = {s_rom.status,          (uint8_t)poll, (uint8_t)(poll >> 8),
                                 (uint8_t)(poll >> 16), s_rom.state,   0u};
    uint16_t n = cap < DFU_STATUS_LEN ? cap : DFU_STATUS_LEN;
    memcpy(data, r, n);
    return n;
}

static int drv_control(void *ctx, const usb_setup_t *s, uint8_t *data, uint16_t cap)
{
    (void)ctx;
    if ((s->bmRequestType & USB_TYPE_MASK) != USB_TYPE_CLASS) {
        return USBD_STALL;
    }
    switch (s->bRequest) {
    case DFU_REQ_DNLOAD:
        return req_dnload(s, data);
    case DFU_REQ_UPLOAD:
        return req_upload(s, data, cap);
    case DFU_REQ_GETSTATUS:
        return req_getstatus(data, cap);
    case DFU_REQ_CLRSTATUS:
        if (s_rom.state != DFU_STATE_ERROR) {
            return stall();
        }
        s_rom.state = DFU_STATE_IDLE;
        s_rom.status = DFU_STATUS_OK;
        return 0;
    case DFU_REQ_GETSTATE:
        if (cap < 1) {
            return USBD_STALL;
        }
        data[0] = s_rom.state;
        return 1;
    case DFU_REQ_ABORT:
        if (s_rom.state == DFU_STATE_ERROR || s_rom.state == DFU_STATE_DNBUSY ||
            s_rom.state == DFU_STATE_MANIFEST) {
            return stall();
        }
        s_rom.state = DFU_STATE_IDLE;
        s_rom.op = OP_NONE;
        return 0;
    case DFU_REQ_DETACH: /* DFU mode: nothing to detach from */
    default:
        return stall();
    }
}

static void drv_control_done(void *ctx, const usb_setup_t *s)
{
    (void)ctx;
    if ((s->bmRequestType & USB_TYPE_MASK) != USB_TYPE_CLASS || s->bRequest != DFU_REQ_GETSTATUS) {
        return;
    }
    if (s_rom.op_armed) {
        /* The host now waits bwPollTimeout: do the work. */
        s_rom.op_armed = false;
        run_op();
    } else if (s_rom.state == DFU_STATE_MANIFEST) {
        /* The status said dfuMANIFEST: jump to the address pointer. */
        s_rom.event = ROM_EV_JUMP;
    } else if (s_rom.reset_after) {
        /* The result of an option-byte write / read unprotect was reported. */
        s_rom.reset_after = false;
        s_rom.event = ROM_EV_RESET;
    }
}

static void drv_reset(void *ctx)
{
    (void)ctx;
    s_rom.state = DFU_STATE_IDLE;
    s_rom.status = DFU_STATUS_OK;
    s_rom.op = OP_NONE;
    s_rom.op_armed = false;
}

static bool drv_set_alt(void *ctx, uint8_t itf, uint8_t alt)
{
    (void)ctx;
    if (itf != 0 || alt > ALT_OB) {
        return false;
    }
    s_rom.alt = alt;
    s_rom.addr = alt == ALT_OB ? ROM_OB_BASE : fmap()->base;
    drv_reset(NULL);
    return true;
}

bool rom_usb_init(const rom_config_t *cfg)
{
    if (cfg == NULL || cfg->flash == NULL || cfg->ob == NULL || cfg->serial == NULL) {
        return false;
    }
    memset(&s_rom, 0, sizeof s_rom);
    s_rom.cfg = *cfg;
    s_rom.state = DFU_STATE_IDLE;
    s_rom.addr = cfg->flash->map->base;
    /* bmAttributes 0x0B (download, upload, willDetach; not manifestation
     * tolerant), wDetachTimeOut 255 ms, as ST's ROMs report them. */
    if (dfu_functional_descriptor(s_rom.func_desc, sizeof s_rom.func_desc,
                                  DFU_ATTR_CAN_DNLOAD | DFU_ATTR_CAN_UPLOAD | DFU_ATTR_WILL_DETACH,
                                  255u, ROM_XFER_SIZE) != DFU_FUNC_DESC_LEN) {
        return false;
    }
    s_rom.drv = (usbd_class_driver_t){
        .name = "st-rom-dfuse",
        .reset = drv_reset,
        .set_alt = drv_set_alt,
        .control = drv_control,
        .control_done = drv_control_done,
    };
    static const char *const names[2] = {"@Internal Flash   /0x08000000/16*128Kg",
                                         "@Option Bytes   /0x5200201C/01*128 e"};
    for (unsigned i = 0; i < 2; i++) {
        s_rom.alts[i] = (usbd_alt_desc_t){
            .cls = 0xFEu, /* DFU 1.1 4.2.3: application specific, DFU, DFU mode */
            .subclass = 0x01u,
            .protocol = 0x02u,
            .name = names[i],
            .extra = s_rom.func_desc,
            .extra_len = DFU_FUNC_DESC_LEN,
        };
    }
    s_rom.itf = (usbd_interface_desc_t){.alts = s_rom.alts, .num_alts = 2, .driver = &s_rom.drv};
    s_rom.dev = (usbd_device_desc_t){
        .vid = ROM_VID,
        .pid = ROM_PID,
        .bcd_device = ROM_BCD_DEVICE,
        .manufacturer = "STMicroelectronics",
        .product = "DFU in FS Mode",
        .serial = cfg->serial,
        .attributes = USB_CONFIG_ATTR_ONE,
        .max_power_ma = 100u,
        .itfs = &s_rom.itf,
        .num_itfs = 1,
        .ctrl_buf = s_rom.ctrl,
        .ctrl_buf_size = sizeof s_rom.ctrl,
    };
    return usbd_init(&s_rom.dev);
}

rom_event_t rom_task(void)
{
    usbd_task();
    rom_event_t ev = s_rom.event;
    s_rom.event = ROM_EV_NONE;
    return ev;
}

uint32_t rom_jump_address(void)
{
    return s_rom.addr;
}
