/*
 * DFU 1.1 (Appendix A state table) + DfuSe (AN3156) state machine.
 *
 * Status codes chosen for refusals (see docs and the report):
 *  - Set Address Pointer / Erase with an address outside the flash: errTARGET,
 *    as AN3156 "Set Address Pointer command" and "Erase command" specify.
 *  - Erase or write touching a reserved (bootloader) sector: errTARGET; the
 *    address is memory, but not a target this bootloader lets the host touch
 *    (AN3156 uses errTARGET for "address not allowed").
 *  - Write or erase of a write-protected (WRP option bytes) sector: errWRITE,
 *    DFU 1.1 6.1.2 "Device is unable to write memory".
 *  - Data block at an address outside the flash or not flash-word aligned:
 *    errADDRESS, DFU 1.1 6.1.2 "received address that is out of range".
 *  - Word not erased before programming: errCHECK_ERASED; program failure:
 *    errPROG; erase failure: errERASE; read-back mismatch or ECC error on
 *    read: errVERIFY; power lost during the operation: errPOR.
 *  - Read Unprotect (0x92): refused with errVENDOR, the code AN3156 uses for
 *    everything read-protection related; our bootloader never changes RDP.
 *  - Unknown request or command, wrong length or direction, request not
 *    allowed in the state: stall, dfuERROR, errSTALLEDPKT (DFU 1.1 A.1).
 */
#include "dfu.h"

#include <string.h>

/* Largest flash word we can check and verify (the H743's is 32 bytes). */
#define DFU_WORD_MAX 64u
/* bwPollTimeout is 24 bits (DFU 1.1 6.1.2). */
#define DFU_POLL_MAX 0xffffffu
/* Time we give the boot layer's manifest callback. */
#define DFU_MANIFEST_POLL_MS 10u

static const uint8_t dfuse_commands[] = {DFUSE_CMD_GET_COMMANDS, DFUSE_CMD_SET_ADDRESS,
                                         DFUSE_CMD_ERASE, DFUSE_CMD_READ_UNPROTECT,
                                         DFUSE_CMD_CRC32};

static dfu_clock_fn s_default_clock;
static void *s_default_clock_user;

void dfu_set_default_clock(dfu_clock_fn now_us, void *user)
{
    s_default_clock = now_us;
    s_default_clock_user = user;
}

uint32_t dfu_crc32c(uint32_t crc, const uint8_t *data, size_t len)
{
    /* 16-entry table, a nibble at a time: small for the bootloader. */
    /* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), not the
     * IEEE CRC-32 that image headers and DFU suffixes embed: a range ending
     * with its own IEEE CRC-32 has a constant IEEE CRC-32 (the residue),
     * whatever it holds, and would compare equal. */
    static const uint32_t t[16] = {0x00000000u, 0x105ec76fu, 0x20bd8edeu, 0x30e349b1u,
                                   0x417b1dbcu, 0x5125dad3u, 0x61c69362u, 0x7198540du,
                                   0x82f63b78u, 0x92a8fc17u, 0xa24bb5a6u, 0xb21572c9u,
                                   0xc38d26c4u, 0xd3d3e1abu, 0xe330a81au, 0xf36e6f75u};
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= data[i];
        crc = (crc >> 4) ^ t[crc & 15u];
        crc = (crc >> 4) ^ t[crc & 15u];
    }
    return ~crc;
}

bool dfu_init(dfu_t *dfu, const dfu_config_t *cfg)
{
    if (dfu == NULL || cfg == NULL || cfg->flash == NULL || cfg->flash->map == NULL ||
        cfg->flash->ops == NULL)
        return false;
    memset(dfu, 0, sizeof(*dfu));
    dfu->cfg = *cfg;
    const flash_map_t *m = cfg->flash->map;
    if (dfu->cfg.transfer_size == 0)
        dfu->cfg.transfer_size = H7_DFU_XFER_DEFAULT;
    if (dfu->cfg.attributes == 0)
        dfu->cfg.attributes = DFU_ATTR_CAN_DNLOAD | DFU_ATTR_CAN_UPLOAD | DFU_ATTR_WILL_DETACH;
    if (dfu->cfg.erase_sector_ms == 0)
        dfu->cfg.erase_sector_ms = H7_DFU_ERASE_SECTOR_MS_DEFAULT;
    if (dfu->cfg.program_word_us == 0)
        dfu->cfg.program_word_us = H7_DFU_PROGRAM_WORD_US_DEFAULT;
    if (dfu->cfg.crc_ns_per_byte == 0)
        dfu->cfg.crc_ns_per_byte = H7_DFU_CRC_NS_PER_BYTE_DEFAULT;
    if (dfu->cfg.now_us == NULL) {
        dfu->cfg.now_us = s_default_clock;
        dfu->cfg.clock_user = s_default_clock_user;
    }
    dfu->timed = dfu->cfg.now_us != NULL;
    if (m->word_size == 0 || m->word_size > DFU_WORD_MAX ||
        dfu->cfg.transfer_size > H7_DFU_XFER_MAX || dfu->cfg.transfer_size % m->word_size != 0)
        return false;
    dfu_reset(dfu);
    return true;
}

static void bg_program(dfu_t *dfu);

void dfu_reset(dfu_t *dfu)
{
    bg_program(dfu); /* a block being programmed finishes: the flash does */
    dfu->bg_status = DFU_STATUS_OK;
    dfu->op_ran = false;
    dfu->waiting_write = false;
    dfu->state = DFU_STATE_IDLE;
    dfu->status = DFU_STATUS_OK;
    dfu->op = DFU_OP_NONE;
    dfu->op_armed = false;
    dfu->manifest_done = false;
}

/* ---- helpers ---- */

static int stall(dfu_t *dfu)
{
    /* In dfuERROR the first error stays reported: it is the useful one. */
    if (dfu->state != DFU_STATE_ERROR)
        dfu->status = DFU_STATUS_ERR_STALLEDPKT;
    dfu->state = DFU_STATE_ERROR;
    dfu->op = DFU_OP_NONE;
    dfu->op_armed = false;
    return USBD_STALL;
}

static int stall_with(dfu_t *dfu, dfu_status_t st)
{
    stall(dfu);
    dfu->status = st;
    return USBD_STALL;
}

static const flash_map_t *map_of(const dfu_t *dfu)
{
    return dfu->cfg.flash->map;
}

static uint32_t rd32le(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static dfu_status_t map_flash_error(flash_status_t st, dfu_status_t generic)
{
    switch (st) {
    case FLASH_OK:
        return DFU_STATUS_OK;
    case FLASH_ERR_ADDRESS:
        return DFU_STATUS_ERR_ADDRESS;
    case FLASH_ERR_PROTECTED:
        return DFU_STATUS_ERR_WRITE;
    case FLASH_ERR_PROGRAM:
        return DFU_STATUS_ERR_PROG;
    case FLASH_ERR_ERASE:
        return DFU_STATUS_ERR_ERASE;
    case FLASH_ERR_ECC:
        return DFU_STATUS_ERR_VERIFY;
    case FLASH_ERR_POWER:
        return DFU_STATUS_ERR_POR;
    case FLASH_ERR_HW:
    default:
        return generic;
    }
}

/* Refuse a range for writing: errADDRESS / errTARGET / errWRITE or OK. */
static dfu_status_t check_writable(const dfu_t *dfu, uint32_t addr, uint32_t len)
{
    const flash_map_t *m = map_of(dfu);
    if (addr % m->word_size != 0 || !flash_map_contains(m, addr, len))
        return DFU_STATUS_ERR_ADDRESS;
    int first = flash_map_sector_of(m, addr);
    int last = flash_map_sector_of(m, addr + len - 1);
    for (int s = first; s <= last; s++) {
        if (flash_map_is_reserved(m, (unsigned)s))
            return DFU_STATUS_ERR_TARGET;
        if (dfu->cfg.flash->ops->is_write_protected != NULL &&
            dfu->cfg.flash->ops->is_write_protected(dfu->cfg.flash->ctx, (unsigned)s))
            return DFU_STATUS_ERR_WRITE;
    }
    return DFU_STATUS_OK;
}

static void fail_op(dfu_t *dfu, dfu_status_t st)
{
    dfu->op = DFU_OP_FAIL;
    dfu->op_status = st;
}

static uint32_t clamp_poll(uint64_t ms)
{
    return ms > DFU_POLL_MAX ? DFU_POLL_MAX : (uint32_t)ms;
}

static unsigned mass_erase_sectors(const dfu_t *dfu)
{
    const flash_map_t *m = map_of(dfu);
    unsigned n = 0;
    for (unsigned s = 0; s < m->sector_count; s++)
        if (!flash_map_is_reserved(m, s))
            n++;
    return n;
}

/* Honest bwPollTimeout for the stored operation (typical flash times). */
static uint32_t op_poll_ms(const dfu_t *dfu)
{
    switch (dfu->op) {
    case DFU_OP_ERASE_SECTOR:
        return clamp_poll(dfu->cfg.erase_sector_ms);
    case DFU_OP_MASS_ERASE:
        return clamp_poll((uint64_t)dfu->cfg.erase_sector_ms * mass_erase_sectors(dfu));
    case DFU_OP_WRITE: {
        uint32_t ws = map_of(dfu)->word_size;
        uint64_t words = (dfu->op_len + ws - 1) / ws;
        return clamp_poll((words * dfu->cfg.program_word_us + 999u) / 1000u);
    }
    case DFU_OP_MANIFEST:
        return DFU_MANIFEST_POLL_MS;
    case DFU_OP_CRC32:
        return clamp_poll(((uint64_t)dfu->op_len32 * dfu->cfg.crc_ns_per_byte + 999999u) /
                          1000000u);
    default:
        return 0;
    }
}

/* ---- timed mode: the device's clock ---- */

static uint32_t now_us(const dfu_t *dfu)
{
    return dfu->cfg.now_us(dfu->cfg.clock_user);
}

static bool reached(const dfu_t *dfu, uint32_t t)
{
    return (int32_t)(now_us(dfu) - t) >= 0;
}

/* Milliseconds from now until t, rounded up (0 when t has passed). */
static uint32_t left_ms(const dfu_t *dfu, uint32_t t)
{
    int32_t r = (int32_t)(t - now_us(dfu));
    return r <= 0 ? 0u : ((uint32_t)r + 999u) / 1000u;
}

/* Duration of the stored operation in microseconds (typical flash times). */
static uint32_t op_us(const dfu_t *dfu)
{
    switch (dfu->op) {
    case DFU_OP_WRITE: {
        uint32_t ws = map_of(dfu)->word_size;
        return (dfu->op_len + ws - 1u) / ws * dfu->cfg.program_word_us;
    }
    case DFU_OP_CRC32:
        return (uint32_t)(((uint64_t)dfu->op_len32 * dfu->cfg.crc_ns_per_byte + 999u) / 1000u);
    default:
        return op_poll_ms(dfu) * 1000u;
    }
}

/* Operations that need the flash (and so wait for the background block). */
static bool op_uses_flash(dfu_op_t op)
{
    return op == DFU_OP_ERASE_SECTOR || op == DFU_OP_MASS_ERASE || op == DFU_OP_WRITE ||
           op == DFU_OP_MANIFEST || op == DFU_OP_CRC32;
}

/* ---- the flash operations (run after GETSTATUS) ---- */

static dfu_status_t erase_one(dfu_t *dfu, unsigned sector)
{
    const flash_dev_t *f = dfu->cfg.flash;
    if (f->ops->is_write_protected != NULL && f->ops->is_write_protected(f->ctx, sector))
        return DFU_STATUS_ERR_WRITE;
    flash_status_t st = f->ops->erase_sector(f->ctx, sector);
    if (st != FLASH_OK)
        return map_flash_error(st, DFU_STATUS_ERR_ERASE);
    dfu->sectors_erased++;
    return DFU_STATUS_OK;
}

static dfu_status_t run_mass_erase(dfu_t *dfu)
{
    const flash_map_t *m = map_of(dfu);
    const flash_dev_t *f = dfu->cfg.flash;
    /* Refuse before touching anything when a sector is write protected. */
    for (unsigned s = 0; s < m->sector_count; s++)
        if (!flash_map_is_reserved(m, s) && f->ops->is_write_protected != NULL &&
            f->ops->is_write_protected(f->ctx, s))
            return DFU_STATUS_ERR_WRITE;
    for (unsigned s = 0; s < m->sector_count; s++) {
        if (flash_map_is_reserved(m, s))
            continue;
        dfu_status_t st = erase_one(dfu, s);
        if (st != DFU_STATUS_OK)
            return st;
    }
    return DFU_STATUS_OK;
}

static bool all_erased(const uint8_t *w, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (w[i] != 0xffu)
            return false;
    return true;
}

static dfu_status_t program_block(dfu_t *dfu, uint32_t addr, const uint8_t *buf, uint32_t len)
{
    const flash_dev_t *f = dfu->cfg.flash;
    const unsigned ws = map_of(dfu)->word_size;
    uint8_t back[DFU_WORD_MAX];
    /* The buffer was padded with 0xFF to a whole word in dnload_data(). */
    uint32_t padded = (len + ws - 1u) / ws * ws;
    for (uint32_t off = 0; off < padded; off += ws) {
        uint32_t a = addr + off;
        flash_status_t st = f->ops->read(f->ctx, a, back, ws);
        if (st != FLASH_OK && st != FLASH_ERR_ECC)
            return map_flash_error(st, DFU_STATUS_ERR_PROG);
        if (st == FLASH_ERR_ECC || !all_erased(back, ws))
            return DFU_STATUS_ERR_CHECK_ERASED;
        st = f->ops->program_word(f->ctx, a, &buf[off]);
        if (st != FLASH_OK)
            return map_flash_error(st, DFU_STATUS_ERR_PROG);
        dfu->words_programmed++;
        st = f->ops->read(f->ctx, a, back, ws);
        if (st != FLASH_OK)
            return map_flash_error(st, DFU_STATUS_ERR_VERIFY);
        if (memcmp(back, &buf[off], ws) != 0)
            return DFU_STATUS_ERR_VERIFY;
    }
    return DFU_STATUS_OK;
}

static dfu_status_t run_write(dfu_t *dfu)
{
    return program_block(dfu, dfu->op_addr, dfu->buf, dfu->op_len);
}

/* Program the background block, if one waits. */
static void bg_program(dfu_t *dfu)
{
    if (!dfu->bg_run)
        return;
    dfu->bg_run = false;
    dfu_status_t st = program_block(dfu, dfu->bg_addr, dfu->bgbuf, dfu->bg_len);
    if (st != DFU_STATUS_OK && dfu->bg_status == DFU_STATUS_OK)
        dfu->bg_status = st;
}

/* Hand the received block to the background: the receive buffer is free for
 * the next DNLOAD. */
static void bg_start(dfu_t *dfu)
{
    memcpy(dfu->bgbuf, dfu->buf, sizeof(dfu->bgbuf));
    dfu->bg_addr = dfu->op_addr;
    dfu->bg_len = dfu->op_len;
    dfu->bg_run = true;
    uint32_t start = reached(dfu, dfu->flash_free_us) ? now_us(dfu) : dfu->flash_free_us;
    dfu->flash_free_us = start + op_us(dfu);
    dfu->op = DFU_OP_NONE;
}

static void wr32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* CRC-32 of [op_addr, op_addr + op_len32): the vendor command. */
static dfu_status_t run_crc(dfu_t *dfu)
{
    const flash_dev_t *f = dfu->cfg.flash;
    uint8_t chunk[64];
    uint32_t crc = dfu->op_seed;
    for (uint32_t off = 0; off < dfu->op_len32; off += sizeof(chunk)) {
        uint32_t n = dfu->op_len32 - off < sizeof(chunk) ? dfu->op_len32 - off : sizeof(chunk);
        flash_status_t st = f->ops->read(f->ctx, dfu->op_addr + off, chunk, n);
        if (st != FLASH_OK)
            return map_flash_error(st, DFU_STATUS_ERR_VERIFY);
        crc = dfu_crc32c(crc, chunk, n);
    }
    wr32le(&dfu->result[0], dfu->op_addr);
    wr32le(&dfu->result[4], dfu->op_len32);
    wr32le(&dfu->result[8], crc);
    dfu->result_valid = true;
    return DFU_STATUS_OK;
}

static void run_op(dfu_t *dfu)
{
    dfu_status_t st = DFU_STATUS_OK;
    dfu->op_armed = false;
    bg_program(dfu); /* the flash does the block before this */
    if (dfu->timed && dfu->bg_status != DFU_STATUS_OK) {
        /* the background block failed: that is the error to report, and
         * nothing else runs (no leave with a half-written image) */
        dfu->op = DFU_OP_NONE;
        dfu->op_ran = true;
        dfu->op_result = dfu->bg_status;
        dfu->bg_status = DFU_STATUS_OK;
        if (dfu->state == DFU_STATE_MANIFEST) {
            dfu->state = DFU_STATE_ERROR;
            dfu->status = dfu->op_result;
        }
        return;
    }
    switch (dfu->op) {
    case DFU_OP_SET_ADDRESS:
        dfu->address = dfu->op_addr;
        break;
    case DFU_OP_ERASE_SECTOR:
        st = erase_one(dfu, (unsigned)flash_map_sector_of(map_of(dfu), dfu->op_addr));
        break;
    case DFU_OP_MASS_ERASE:
        st = run_mass_erase(dfu);
        break;
    case DFU_OP_WRITE:
        st = run_write(dfu);
        break;
    case DFU_OP_CRC32:
        st = run_crc(dfu);
        break;
    case DFU_OP_MANIFEST:
        dfu->op = DFU_OP_NONE;
        if (dfu->cfg.manifest != NULL)
            dfu->cfg.manifest(dfu->cfg.user, dfu->address);
        if (dfu->cfg.attributes & DFU_ATTR_MANIFESTATION_TOLERANT) {
            dfu->manifest_done = true;
            dfu->state = DFU_STATE_MANIFEST_SYNC;
        } else {
            dfu->state = DFU_STATE_MANIFEST_WAIT_RESET;
        }
        return;
    default:
        break;
    }
    dfu->op = DFU_OP_NONE;
    if (dfu->timed) {
        /* dfuDNBUSY until the clock says the work is over (GETSTATUS). */
        dfu->op_ran = true;
        dfu->op_result = st;
        return;
    }
    if (st == DFU_STATUS_OK) {
        /* DFU 1.1 A.2.5: dfuDNBUSY -> dfuDNLOAD-SYNC when the block is done. */
        dfu->state = DFU_STATE_DNLOAD_SYNC;
    } else {
        dfu->state = DFU_STATE_ERROR;
        dfu->status = st;
    }
}

/* ---- requests ---- */

static int dnload_command(dfu_t *dfu, const uint8_t *data, uint16_t len)
{
    const flash_map_t *m = map_of(dfu);
    switch (data[0]) {
    case DFUSE_CMD_GET_COMMANDS:
        if (len != 1)
            return stall(dfu);
        dfu->op = DFU_OP_NOP;
        return 0;
    case DFUSE_CMD_SET_ADDRESS:
        if (len != 5)
            return stall(dfu);
        dfu->op_addr = rd32le(&data[1]);
        dfu->op = DFU_OP_SET_ADDRESS;
        if (flash_map_sector_of(m, dfu->op_addr) < 0)
            fail_op(dfu, DFU_STATUS_ERR_TARGET);
        return 0;
    case DFUSE_CMD_ERASE:
        if (len == 1) {
            dfu->op = DFU_OP_MASS_ERASE;
            return 0;
        }
        if (len != 5)
            return stall(dfu);
        dfu->op_addr = rd32le(&data[1]);
        dfu->op = DFU_OP_ERASE_SECTOR;
        {
            int s = flash_map_sector_of(m, dfu->op_addr);
            if (s < 0 || flash_map_is_reserved(m, (unsigned)s))
                fail_op(dfu, DFU_STATUS_ERR_TARGET);
        }
        return 0;
    case DFUSE_CMD_READ_UNPROTECT:
        if (len != 1)
            return stall(dfu);
        fail_op(dfu, DFU_STATUS_ERR_VENDOR);
        return 0;
    case DFUSE_CMD_CRC32:
        /* the seed makes a range that ends with its own CRC-32 (an image
         * header) compare by content: CRC(x || CRC(x)) is a constant */
        if (len != DFUSE_CMD_CRC32_LEN && len != 9u)
            return stall(dfu);
        dfu->result_valid = false;
        dfu->op_addr = rd32le(&data[1]);
        dfu->op_len32 = rd32le(&data[5]);
        dfu->op_seed = len == DFUSE_CMD_CRC32_LEN ? rd32le(&data[9]) : 0u;
        dfu->op = DFU_OP_CRC32;
        if (dfu->op_len32 == 0 || !flash_map_contains(m, dfu->op_addr, dfu->op_len32))
            fail_op(dfu, DFU_STATUS_ERR_ADDRESS);
        return 0;
    default:
        return stall(dfu);
    }
}

static int dnload_data(dfu_t *dfu, uint16_t block, const uint8_t *data, uint16_t len)
{
    const unsigned ws = map_of(dfu)->word_size;
    uint64_t addr = (uint64_t)dfu->address + (uint64_t)(block - 2u) * dfu->cfg.transfer_size;
    uint32_t padded = (len + ws - 1u) / ws * ws;
    memcpy(dfu->buf, data, len);
    memset(&dfu->buf[len], 0xff, padded - len); /* short tail: erased value */
    dfu->op = DFU_OP_WRITE;
    dfu->op_len = len;
    if (dfu->timed && (dfu->bg_run || !reached(dfu, dfu->flash_free_us)))
        dfu->blocks_overlapped++; /* crossed the bus while the flash worked */
    if (addr + padded > 0x100000000ull) {
        fail_op(dfu, DFU_STATUS_ERR_ADDRESS);
        return 0;
    }
    dfu->op_addr = (uint32_t)addr;
    dfu_status_t st = check_writable(dfu, dfu->op_addr, padded);
    if (st != DFU_STATUS_OK)
        fail_op(dfu, st);
    return 0;
}

static int req_dnload(dfu_t *dfu, const usb_setup_t *s, const uint8_t *data, uint16_t cap)
{
    if (dfu->state != DFU_STATE_IDLE && dfu->state != DFU_STATE_DNLOAD_IDLE)
        return stall(dfu);
    if (!(dfu->cfg.attributes & DFU_ATTR_CAN_DNLOAD))
        return stall(dfu);
    if (s->wLength == 0) {
        /* Leave: only after something was downloaded (DFU 1.1 A.2.3: a
         * zero-length DNLOAD in dfuIDLE is an error). */
        if (dfu->state != DFU_STATE_DNLOAD_IDLE)
            return stall(dfu);
        dfu->op = DFU_OP_MANIFEST;
        dfu->manifest_done = false;
        dfu->state = DFU_STATE_MANIFEST_SYNC;
        return 0;
    }
    /* cap < wLength: the data stage was not received (longer than the
     * control buffer, usbd_class.h) */
    if (s->wLength > dfu->cfg.transfer_size || cap < s->wLength || data == NULL)
        return stall(dfu);
    int r;
    if (s->wValue == 0)
        r = dnload_command(dfu, data, s->wLength);
    else if (s->wValue == 1)
        r = stall(dfu); /* DfuSe: block 1 is not used */
    else
        r = dnload_data(dfu, s->wValue, data, s->wLength);
    if (r == 0)
        dfu->state = DFU_STATE_DNLOAD_SYNC;
    return r;
}

static int req_upload(dfu_t *dfu, const usb_setup_t *s, uint8_t *data, uint16_t cap)
{
    if (dfu->state != DFU_STATE_IDLE && dfu->state != DFU_STATE_UPLOAD_IDLE)
        return stall(dfu);
    if (!(dfu->cfg.attributes & DFU_ATTR_CAN_UPLOAD) || s->wLength == 0 ||
        s->wLength > dfu->cfg.transfer_size || data == NULL)
        return stall(dfu);
    uint16_t want = s->wLength < cap ? s->wLength : cap;
    uint32_t n;
    if (s->wValue == 0) {
        n = sizeof(dfuse_commands) < want ? sizeof(dfuse_commands) : want;
        memcpy(data, dfuse_commands, n);
    } else if (s->wValue == DFU_RESULT_BLOCK) {
        /* the result of the last vendor command (docs/protocol.md) */
        if (!dfu->result_valid)
            return stall(dfu);
        n = DFU_CRC_RESULT_LEN < want ? DFU_CRC_RESULT_LEN : want;
        memcpy(data, dfu->result, n);
    } else {
        const flash_map_t *m = map_of(dfu);
        uint64_t addr =
            (uint64_t)dfu->address + (uint64_t)(s->wValue - 2u) * dfu->cfg.transfer_size;
        uint64_t end = (uint64_t)m->base + flash_map_size(m);
        if (addr < m->base || addr >= end)
            return stall_with(dfu, DFU_STATUS_ERR_ADDRESS);
        n = want;
        if (addr + n > end)
            n = (uint32_t)(end - addr); /* short frame: the end of the memory */
        flash_status_t st = dfu->cfg.flash->ops->read(dfu->cfg.flash->ctx, (uint32_t)addr, data, n);
        if (st != FLASH_OK)
            return stall_with(dfu, map_flash_error(st, DFU_STATUS_ERR_UNKNOWN));
    }
    /* DFU 1.1 A.2.9: a short frame ends the upload. */
    dfu->state = n < s->wLength ? DFU_STATE_IDLE : DFU_STATE_UPLOAD_IDLE;
    return (int)n;
}

/* Schedule the stored op on the clock: it starts when the flash is free (if
 * it needs the flash) and is done at op_end_us; bwPollTimeout = time left. */
static uint32_t schedule_op(dfu_t *dfu)
{
    uint32_t start = now_us(dfu);
    if (op_uses_flash(dfu->op) && !reached(dfu, dfu->flash_free_us))
        start = dfu->flash_free_us;
    dfu->op_end_us = start + op_us(dfu);
    if (op_uses_flash(dfu->op))
        dfu->flash_free_us = dfu->op_end_us;
    dfu->op_armed = true;
    dfu->op_ran = false;
    return left_ms(dfu, dfu->op_end_us);
}

/* GETSTATUS with a clock: states follow the time the work takes. */
static uint32_t getstatus_timed(dfu_t *dfu)
{
    if (dfu->state == DFU_STATE_DNBUSY || dfu->state == DFU_STATE_MANIFEST) {
        if (dfu->waiting_write) {
            dfu->state = DFU_STATE_DNLOAD_SYNC; /* try to start it again below */
        } else if (dfu->op_armed || !reached(dfu, dfu->op_end_us)) {
            uint32_t p = left_ms(dfu, dfu->op_end_us);
            return p == 0 ? 1u : p; /* not done yet: ask again later */
        } else if (dfu->state == DFU_STATE_MANIFEST) {
            return 0; /* run_op moved the state on */
        } else {
            dfu->op_ran = false;
            if (dfu->op_result != DFU_STATUS_OK) {
                dfu->state = DFU_STATE_ERROR;
                dfu->status = dfu->op_result;
                return 0;
            }
            dfu->state = DFU_STATE_DNLOAD_SYNC;
        }
    }
    if (dfu->state == DFU_STATE_DNLOAD_SYNC) {
        dfu->waiting_write = false;
        if (dfu->op == DFU_OP_FAIL) {
            dfu->op = DFU_OP_NONE;
            dfu->state = DFU_STATE_ERROR;
            dfu->status = dfu->op_status;
        } else if (dfu->bg_status != DFU_STATUS_OK && op_uses_flash(dfu->op)) {
            /* the previous block failed in the background */
            dfu->op = DFU_OP_NONE;
            dfu->state = DFU_STATE_ERROR;
            dfu->status = dfu->bg_status;
            dfu->bg_status = DFU_STATUS_OK;
        } else if (dfu->op == DFU_OP_WRITE) {
            if (dfu->bg_run || !reached(dfu, dfu->flash_free_us)) {
                /* the second buffer is still being programmed */
                dfu->waiting_write = true;
                dfu->state = DFU_STATE_DNBUSY;
                uint32_t p = left_ms(dfu, dfu->flash_free_us);
                return p == 0 ? 1u : p;
            }
            bg_start(dfu);
            dfu->state = DFU_STATE_DNLOAD_IDLE;
        } else if (dfu->op != DFU_OP_NONE) {
            dfu->state = DFU_STATE_DNBUSY;
            return schedule_op(dfu);
        } else {
            dfu->state = DFU_STATE_DNLOAD_IDLE;
        }
        return 0;
    }
    if (dfu->state == DFU_STATE_MANIFEST_SYNC) {
        if (dfu->manifest_done) {
            dfu->manifest_done = false;
            dfu->state = DFU_STATE_IDLE;
            return 0;
        }
        dfu->state = DFU_STATE_MANIFEST;
        return schedule_op(dfu);
    }
    return 0;
}

static int req_getstatus(dfu_t *dfu, uint8_t *data, uint16_t cap)
{
    if (cap < DFU_STATUS_LEN || data == NULL)
        return stall(dfu);
    dfu->getstatus_done = false; /* until this answer's status stage is over */
    uint32_t poll = 0;
    if (dfu->timed) {
        poll = getstatus_timed(dfu);
        goto answer;
    }
    switch (dfu->state) {
    case DFU_STATE_DNLOAD_SYNC:
        if (dfu->op == DFU_OP_FAIL) {
            /* Refused before running: report it now, nothing to wait for. */
            dfu->op = DFU_OP_NONE;
            dfu->state = DFU_STATE_ERROR;
            dfu->status = dfu->op_status;
        } else if (dfu->op != DFU_OP_NONE) {
            poll = op_poll_ms(dfu);
            dfu->state = DFU_STATE_DNBUSY;
            dfu->op_armed = true;
        } else {
            dfu->state = DFU_STATE_DNLOAD_IDLE;
        }
        break;
    case DFU_STATE_MANIFEST_SYNC:
        if (dfu->manifest_done) {
            dfu->manifest_done = false;
            dfu->state = DFU_STATE_IDLE;
        } else {
            poll = op_poll_ms(dfu);
            dfu->state = DFU_STATE_MANIFEST;
            dfu->op_armed = true;
        }
        break;
    case DFU_STATE_DNBUSY:
    case DFU_STATE_MANIFEST:
        /* DFU 1.1 A.2.5/A.2.7: no request while busy. */
        return stall(dfu);
    default:
        break;
    }
answer:
    data[0] = (uint8_t)dfu->status;
    data[1] = (uint8_t)(poll & 0xffu);
    data[2] = (uint8_t)((poll >> 8) & 0xffu);
    data[3] = (uint8_t)((poll >> 16) & 0xffu);
    data[4] = (uint8_t)dfu->state;
    data[5] = 0; /* iString */
    return DFU_STATUS_LEN;
}

int dfu_control(dfu_t *dfu, const usb_setup_t *s, uint8_t *data, uint16_t cap)
{
    if ((s->bmRequestType & USB_TYPE_MASK) != USB_TYPE_CLASS ||
        (s->bmRequestType & USB_RECIP_MASK) != USB_RECIP_INTERFACE ||
        (s->wIndex & 0xffu) != dfu->cfg.itf_num)
        return stall(dfu);
    const bool in = (s->bmRequestType & USB_DIR_IN) != 0;
    const bool want_in = s->bRequest == DFU_REQ_UPLOAD || s->bRequest == DFU_REQ_GETSTATUS ||
                         s->bRequest == DFU_REQ_GETSTATE;
    if (in != want_in)
        return stall(dfu);
    if (dfu->state == DFU_STATE_MANIFEST_WAIT_RESET)
        return USBD_STALL; /* only a bus reset gets us out (DFU 1.1 A.2.8) */

    switch (s->bRequest) {
    case DFU_REQ_DNLOAD:
        return req_dnload(dfu, s, data, cap);
    case DFU_REQ_UPLOAD:
        return req_upload(dfu, s, data, cap);
    case DFU_REQ_GETSTATUS:
        return req_getstatus(dfu, data, cap);
    case DFU_REQ_CLRSTATUS:
        if (dfu->state != DFU_STATE_ERROR)
            return stall(dfu);
        dfu->state = DFU_STATE_IDLE;
        dfu->status = DFU_STATUS_OK;
        dfu->op = DFU_OP_NONE;
        return 0;
    case DFU_REQ_GETSTATE:
        if (dfu->state == DFU_STATE_DNBUSY || dfu->state == DFU_STATE_MANIFEST || cap < 1 ||
            data == NULL)
            return stall(dfu);
        data[0] = (uint8_t)dfu->state;
        return 1;
    case DFU_REQ_ABORT:
        if (dfu->state != DFU_STATE_IDLE && dfu->state != DFU_STATE_DNLOAD_IDLE &&
            dfu->state != DFU_STATE_UPLOAD_IDLE)
            return stall(dfu);
        dfu->state = DFU_STATE_IDLE;
        dfu->op = DFU_OP_NONE;
        /* Leaving the download: the background block must be in flash (an
         * UPLOAD may read it next), and a failure of it must not be lost. */
        bg_program(dfu);
        if (dfu->bg_status != DFU_STATUS_OK) {
            dfu->state = DFU_STATE_ERROR;
            dfu->status = dfu->bg_status;
            dfu->bg_status = DFU_STATUS_OK;
        }
        return 0;
    case DFU_REQ_DETACH: /* DFU mode has no DETACH (DFU 1.1 A.2) */
    default:
        return stall(dfu);
    }
}

void dfu_control_done(dfu_t *dfu, const usb_setup_t *setup)
{
    if (setup->bRequest != DFU_REQ_GETSTATUS)
        return;
    if (dfu->cfg.ops_in_poll) {
        dfu->getstatus_done = true; /* poll() runs the work from here on */
        return;
    }
    bg_program(dfu);
    if (dfu->op_armed)
        run_op(dfu);
}

void dfu_poll(dfu_t *dfu)
{
    if (!dfu->cfg.ops_in_poll || !dfu->getstatus_done)
        return;
    bg_program(dfu);
    if (dfu->op_armed)
        run_op(dfu);
}

bool dfu_set_alt(dfu_t *dfu, uint8_t alt)
{
    if (alt >= dfu_alt_count(dfu))
        return false;
    dfu->alt = alt;
    dfu_reset(dfu);
    return true;
}

unsigned dfu_alt_count(const dfu_t *dfu)
{
    (void)dfu;
    return 1u;
}

size_t dfu_alt_string(const dfu_t *dfu, unsigned alt, char *buf, size_t len)
{
    if (alt >= dfu_alt_count(dfu) || buf == NULL)
        return 0;
    return flash_map_dfuse_layout(map_of(dfu), buf, len);
}

size_t dfu_functional_descriptor(uint8_t *buf, size_t len, uint8_t attributes,
                                 uint16_t detach_timeout_ms, uint16_t transfer_size)
{
    if (buf == NULL || len < DFU_FUNC_DESC_LEN)
        return 0;
    buf[0] = DFU_FUNC_DESC_LEN;
    buf[1] = USB_DT_DFU_FUNCTIONAL;
    buf[2] = attributes;
    buf[3] = (uint8_t)(detach_timeout_ms & 0xffu);
    buf[4] = (uint8_t)(detach_timeout_ms >> 8);
    buf[5] = (uint8_t)(transfer_size & 0xffu);
    buf[6] = (uint8_t)(transfer_size >> 8);
    buf[7] = (uint8_t)(DFU_BCD_VERSION & 0xffu);
    buf[8] = (uint8_t)(DFU_BCD_VERSION >> 8);
    return DFU_FUNC_DESC_LEN;
}

/* ---- usbd_class_driver_t adapter ---- */

static void drv_reset(void *ctx)
{
    dfu_reset(ctx);
}

static bool drv_set_alt(void *ctx, uint8_t itf, uint8_t alt)
{
    dfu_t *dfu = ctx;
    return itf == dfu->cfg.itf_num && dfu_set_alt(dfu, alt);
}

static int drv_control(void *ctx, const usb_setup_t *setup, uint8_t *data, uint16_t cap)
{
    return dfu_control(ctx, setup, data, cap);
}

static void drv_control_done(void *ctx, const usb_setup_t *setup)
{
    dfu_control_done(ctx, setup);
}

static void drv_poll(void *ctx)
{
    dfu_poll(ctx);
}

usbd_class_driver_t dfu_class_driver(dfu_t *dfu)
{
    usbd_class_driver_t d = {
        .name = "dfu",
        .reset = drv_reset,
        .set_alt = drv_set_alt,
        .control = drv_control,
        .control_done = drv_control_done,
        .xfer_done = NULL,
        .poll = drv_poll,
        .ctx = dfu,
    };
    return d;
}
