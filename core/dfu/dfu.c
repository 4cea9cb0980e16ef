/*
 * DFU 1.1 (Appendix A state table) + DfuSe (AN3156) state machine.
 *
 * Status codes chosen for refusals (docs/bad-inputs.md lists them):
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
 *  - Memory UPLOAD outside the window of a locked build (H7_DFU_UPLOAD_LIMIT,
 *    docs/production.md): stall, dfuERROR, errTARGET; its CRC command over a
 *    range that is neither whole sectors nor in the open range: errTARGET.
 *  - Read Unprotect (0x92): refused with errVENDOR, the code AN3156 uses for
 *    everything read-protection related; our bootloader never changes RDP.
 *  - Unknown request or command, wrong length or direction, request not
 *    allowed in the state: stall, dfuERROR, errSTALLEDPKT (DFU 1.1 A.1).
 */
#include "dfu.h"

#include <string.h>

#include "h7_util.h"

/* bwPollTimeout is 24 bits (DFU 1.1 6.1.2). */
#define DFU_POLL_MAX 0xffffffu
/* Time we give the boot layer's manifest callback. */
#define DFU_MANIFEST_US 10000u
#define DFU_NO_BUF      0xffu

static const uint8_t dfuse_commands[] = {
    DFUSE_CMD_GET_COMMANDS, DFUSE_CMD_SET_ADDRESS, DFUSE_CMD_ERASE,    DFUSE_CMD_READ_UNPROTECT,
    DFUSE_CMD_CRC32,        DFUSE_CMD_BOOT_STATUS, DFUSE_CMD_ENTER_ROM};

_Static_assert(DFU_BOOT_STATUS_LEN == DFU_CRC_RESULT_LEN, "both answer through UPLOAD block 1");

static dfu_clock_fn s_default_clock;
static void *s_default_clock_user;

void dfu_set_default_clock(dfu_clock_fn now_us, void *user)
{
    s_default_clock = now_us;
    s_default_clock_user = user;
}

static void job_finished(void *user, const dfu_job_t *job, dfu_status_t status)
{
    dfu_t *dfu = user;
    (void)status; /* the worker keeps the first failure for GETSTATUS */
    if (job->kind == DFU_JOB_WRITE && dfu->buf_refs[job->tag] > 0) {
        dfu->buf_refs[job->tag]--;
    }
}

bool dfu_init(dfu_t *dfu, const dfu_config_t *cfg)
{
    if (dfu == NULL || cfg == NULL || cfg->flash == NULL || cfg->flash->map == NULL ||
        cfg->flash->ops == NULL || cfg->bufs == NULL || cfg->buf_count == 0 ||
        cfg->buf_count > DFU_BUFS_MAX) {
        return false;
    }
    memset(dfu, 0, sizeof(*dfu));
    dfu->cfg = *cfg;
    const flash_map_t *m = cfg->flash->map;
    if (dfu->cfg.transfer_size == 0) {
        dfu->cfg.transfer_size = H7_DFU_XFER_DEFAULT;
    }
    if (dfu->cfg.attributes == 0) {
        dfu->cfg.attributes = DFU_ATTR_CAN_DNLOAD | DFU_ATTR_CAN_UPLOAD | DFU_ATTR_WILL_DETACH;
    }
    if (dfu->cfg.erase_sector_ms == 0) {
        dfu->cfg.erase_sector_ms = H7_DFU_ERASE_SECTOR_MS_DEFAULT;
    }
    if (dfu->cfg.program_word_us == 0) {
        dfu->cfg.program_word_us = H7_DFU_PROGRAM_WORD_US_DEFAULT;
    }
    if (dfu->cfg.crc_ns_per_byte == 0) {
        dfu->cfg.crc_ns_per_byte = H7_DFU_CRC_NS_PER_BYTE_DEFAULT;
    }
    if (dfu->cfg.now_us == NULL) {
        dfu->cfg.now_us = s_default_clock;
        dfu->cfg.clock_user = s_default_clock_user;
    }
    if (m->word_size == 0 || m->word_size > 64u || m->sectors_per_bank == 0 ||
        dfu->cfg.transfer_size > H7_DFU_XFER_MAX || dfu->cfg.transfer_size % m->word_size != 0) {
        return false;
    }
    dfu_work_config_t wc = {
        .flash = cfg->flash,
        .erase_sector_us = dfu->cfg.erase_sector_ms * 1000u,
        .program_word_us = dfu->cfg.program_word_us,
        .now_us = dfu->cfg.now_us,
        .clock_user = dfu->cfg.clock_user,
        .finished = job_finished,
        .user = dfu,
    };
    dfu_work_init(&dfu->work, &wc);
    dfu_reset(dfu);
    return true;
}

static void drop_op(dfu_t *dfu)
{
    if (dfu->op == DFU_OP_WRITE && dfu->op_buf != DFU_NO_BUF) {
        dfu->buf_refs[dfu->op_buf] = 0;
    }
    dfu->op = DFU_OP_NONE;
    dfu->op_buf = DFU_NO_BUF;
    dfu->op_armed = false;
}

void dfu_reset(dfu_t *dfu)
{
    /* Work already started goes on in the background (the flash does it
     * anyway; waiting here would leave a bus reset or SET_INTERFACE
     * unanswered for seconds): an UPLOAD, a CRC or a leave the next host
     * sends waits for it, and its writes queue behind it. Its failure is
     * kept: the next GETSTATUS reports it, even in dfuIDLE. */
    drop_op(dfu);
    dfu->op_ran = false;
    dfu->state = DFU_STATE_IDLE;
    dfu->status = DFU_STATUS_OK;
    dfu->manifest_done = false;
}

/* ---- helpers ---- */

static int stall(dfu_t *dfu)
{
    /* In dfuERROR the first error stays reported: it is the useful one. */
    if (dfu->state != DFU_STATE_ERROR) {
        dfu->status = DFU_STATUS_ERR_STALLEDPKT;
    }
    dfu->state = DFU_STATE_ERROR;
    drop_op(dfu);
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

static bool sector_protected(const dfu_t *dfu, unsigned s)
{
    const flash_dev_t *f = dfu->cfg.flash;
    return f->ops->is_write_protected != NULL && f->ops->is_write_protected(f->ctx, s);
}

/* Refuse a range for writing: errADDRESS / errTARGET / errWRITE or OK. */
static dfu_status_t check_writable(const dfu_t *dfu, uint32_t addr, uint32_t len)
{
    const flash_map_t *m = map_of(dfu);
    if (addr % m->word_size != 0 || !flash_map_contains(m, addr, len)) {
        return DFU_STATUS_ERR_ADDRESS;
    }
    int first = flash_map_sector_of(m, addr);
    int last = flash_map_sector_of(m, addr + len - 1);
    for (int s = first; s <= last; s++) {
        if (flash_map_is_reserved(m, (unsigned)s)) {
            return DFU_STATUS_ERR_TARGET;
        }
        if (sector_protected(dfu, (unsigned)s)) {
            return DFU_STATUS_ERR_WRITE;
        }
    }
    return DFU_STATUS_OK;
}

static void fail_op(dfu_t *dfu, dfu_status_t st)
{
    drop_op(dfu);
    dfu->op = DFU_OP_FAIL;
    dfu->op_status = st;
}

/* Microseconds to bwPollTimeout milliseconds, rounded up. */
static uint32_t poll_ms(uint32_t us)
{
    uint32_t ms = (us + 999u) / 1000u;
    return ms > DFU_POLL_MAX ? DFU_POLL_MAX : ms;
}

static int free_buf(const dfu_t *dfu)
{
    for (unsigned i = 0; i < dfu->cfg.buf_count; i++) {
        if (dfu->buf_refs[i] == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* ---- the operations that wait for the flash to be idle ---- */

#if H7_DFU_UPLOAD_LIMIT
/* A locked build's CRC ranges (dfu_config_t.crc_open_*). */
static bool crc_range_open(const dfu_t *dfu)
{
    const flash_map_t *m = map_of(dfu);
    uint32_t a = dfu->op_addr, n = dfu->op_len32;
    return ((a - m->base) % m->sector_size == 0 && n % m->sector_size == 0) ||
           (a >= dfu->cfg.crc_open_base &&
            (uint64_t)a + n <= (uint64_t)dfu->cfg.crc_open_base + dfu->cfg.crc_open_size);
}
#endif

/* CRC-32C of [op_addr, op_addr + op_len32): the vendor command. A locked
 * build refuses a range it does not answer once the queued work is over, so
 * that hosts can still use the command to wait for that work. */
static dfu_status_t run_crc(dfu_t *dfu)
{
#if H7_DFU_UPLOAD_LIMIT
    if (dfu->cfg.upload_limited && !crc_range_open(dfu)) {
        return DFU_STATUS_ERR_TARGET;
    }
#endif
    const flash_dev_t *f = dfu->cfg.flash;
    uint8_t chunk[64];
    uint32_t crc = dfu->op_seed;
    for (uint32_t off = 0; off < dfu->op_len32; off += sizeof(chunk)) {
        uint32_t n = dfu->op_len32 - off < sizeof(chunk) ? dfu->op_len32 - off : sizeof(chunk);
        flash_status_t st = f->ops->read(f->ctx, dfu->op_addr + off, chunk, n);
        if (st != FLASH_OK) {
            return dfu_status_of_flash(st, DFU_STATUS_ERR_VERIFY);
        }
        crc = h7_crc32c(crc, chunk, n);
    }
    h7_put_le32(&dfu->result[0], dfu->op_addr);
    h7_put_le32(&dfu->result[4], dfu->op_len32);
    h7_put_le32(&dfu->result[8], crc);
    dfu->result_valid = true;
    return DFU_STATUS_OK;
}

static uint32_t armed_op_us(const dfu_t *dfu)
{
    if (dfu->op == DFU_OP_CRC32) { /* rounded up; no 64-bit division on the chip */
        return (dfu->op_len32 / 1000u + 1u) * dfu->cfg.crc_ns_per_byte;
    }
    return DFU_MANIFEST_US;
}

/* The armed CRC or leave, once every started flash job is over. */
static void run_armed(dfu_t *dfu)
{
    dfu->op_armed = false;
    dfu_status_t st = dfu_work_error(&dfu->work);
    if (st == DFU_STATUS_OK && dfu->op == DFU_OP_CRC32) {
        st = run_crc(dfu);
    }
    if (st == DFU_STATUS_OK && dfu->op == DFU_OP_MANIFEST) {
        dfu->op = DFU_OP_NONE;
        if (dfu->cfg.manifest != NULL) {
            dfu->cfg.manifest(dfu->cfg.user, dfu->address);
        }
        if (dfu->cfg.attributes & DFU_ATTR_MANIFESTATION_TOLERANT) {
            dfu->manifest_done = true;
            dfu->state = DFU_STATE_MANIFEST_SYNC;
        } else {
            dfu->state = DFU_STATE_MANIFEST_WAIT_RESET;
        }
        return;
    }
    dfu->op = DFU_OP_NONE;
    dfu->op_ran = true;
    dfu->op_result = st;
}

/* ---- requests ---- */

static int dnload_command(dfu_t *dfu, const uint8_t *data, uint16_t len)
{
    const flash_map_t *m = map_of(dfu);
    switch (data[0]) {
    case DFUSE_CMD_GET_COMMANDS:
        if (len != 1) {
            return stall(dfu);
        }
        dfu->op = DFU_OP_NOP;
        return 0;
    case DFUSE_CMD_SET_ADDRESS:
        if (len != 5) {
            return stall(dfu);
        }
        dfu->op_addr = h7_get_le32(&data[1]);
        dfu->op = DFU_OP_SET_ADDRESS;
        if (flash_map_sector_of(m, dfu->op_addr) < 0) {
            fail_op(dfu, DFU_STATUS_ERR_TARGET);
        }
        return 0;
    case DFUSE_CMD_ERASE:
        if (len == 1) {
            /* every sector the host may write; refused whole when one of
             * them is write protected (nothing is erased then) */
            dfu->op = DFU_OP_MASS_ERASE;
            for (unsigned s = 0; s < m->sector_count; s++) {
                if (!flash_map_is_reserved(m, s) && sector_protected(dfu, s)) {
                    fail_op(dfu, DFU_STATUS_ERR_WRITE);
                }
            }
            return 0;
        }
        if (len != 5) {
            return stall(dfu);
        }
        dfu->op = DFU_OP_ERASE_SECTOR;
        {
            int s = flash_map_sector_of(m, h7_get_le32(&data[1]));
            dfu->op_addr = (uint32_t)s; /* the sector number */
            dfu->op_len = 1;
            if (s < 0 || flash_map_is_reserved(m, (unsigned)s)) {
                fail_op(dfu, DFU_STATUS_ERR_TARGET);
            } else if (sector_protected(dfu, (unsigned)s)) {
                fail_op(dfu, DFU_STATUS_ERR_WRITE);
            }
        }
        return 0;
    case DFUSE_CMD_BOOT_STATUS:
        if (len != 1 || dfu->cfg.boot_status == NULL) {
            return stall(dfu);
        }
        memcpy(dfu->result, dfu->cfg.boot_status, DFU_BOOT_STATUS_LEN);
        dfu->result_valid = true;
        dfu->op = DFU_OP_NOP;
        return 0;
    case DFUSE_CMD_READ_UNPROTECT:
        if (len != 1) {
            return stall(dfu);
        }
        fail_op(dfu, DFU_STATUS_ERR_VENDOR);
        return 0;
    case DFUSE_CMD_CRC32:
        /* the seed makes a range that ends with its own CRC-32 (an image
         * header) compare by content: CRC(x || CRC(x)) is a constant */
        if (len != DFUSE_CMD_CRC32_LEN && len != 9u) {
            return stall(dfu);
        }
        dfu->result_valid = false;
        dfu->op_addr = h7_get_le32(&data[1]);
        dfu->op_len32 = h7_get_le32(&data[5]);
        dfu->op_seed = len == DFUSE_CMD_CRC32_LEN ? h7_get_le32(&data[9]) : 0u;
        dfu->op = DFU_OP_CRC32;
        if (dfu->op_len32 == 0 || !flash_map_contains(m, dfu->op_addr, dfu->op_len32)) {
            fail_op(dfu, DFU_STATUS_ERR_ADDRESS);
        }
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
    int b = free_buf(dfu);
    if (b < 0) {
        return stall(dfu); /* no GETSTATUS said dfuDNLOAD-IDLE */
    }
    if (!dfu_work_idle(&dfu->work)) {
        dfu->blocks_overlapped++; /* crossed the bus while the flash worked */
    }
    if (addr + padded > 0x100000000ull) {
        fail_op(dfu, DFU_STATUS_ERR_ADDRESS);
        return 0;
    }
    dfu_status_t st = check_writable(dfu, (uint32_t)addr, padded);
    if (st != DFU_STATUS_OK) {
        fail_op(dfu, st);
        return 0;
    }
    uint8_t *buf = &dfu->cfg.bufs[(size_t)b * dfu->cfg.transfer_size];
    memcpy(buf, data, len);
    memset(&buf[len], 0xff, padded - len); /* short tail: erased value */
    dfu->buf_refs[b] = 1;
    dfu->op = DFU_OP_WRITE;
    dfu->op_buf = (uint8_t)b;
    dfu->op_addr = (uint32_t)addr;
    dfu->op_len = (uint16_t)padded;
    return 0;
}

static int req_dnload(dfu_t *dfu, const usb_setup_t *s, const uint8_t *data, uint16_t cap)
{
    if (dfu->state != DFU_STATE_IDLE && dfu->state != DFU_STATE_DNLOAD_IDLE) {
        return stall(dfu);
    }
    if (!(dfu->cfg.attributes & DFU_ATTR_CAN_DNLOAD)) {
        return stall(dfu);
    }
    /* 0xC5: a leave to ST's ROM bootloader (the boot layer resets into it) */
    const bool to_rom = s->wValue == 0 && s->wLength == 1 && cap >= 1 && data != NULL &&
                        data[0] == DFUSE_CMD_ENTER_ROM && !dfu->cfg.no_rom_handover;
    if (s->wLength == 0 || to_rom) {
        /* Leave, from dfuDNLOAD-IDLE and, as ST's DfuSe devices do (the DFU
         * class of ST's USB device library ends the download on it in both
         * states), from dfuIDLE: `dfu-util -s :leave -D file.dfu` sends
         * ABORT, then this. DFU 1.1 A.2.3 lists it as an error in dfuIDLE;
         * the boot layer starts only a valid image either way. */
        if (to_rom) {
            dfu->address = DFU_ROM_BOOT_ADDR;
        }
        dfu->op = DFU_OP_MANIFEST;
        dfu->op_ran = false;
        dfu->manifest_done = false;
        dfu->state = DFU_STATE_MANIFEST_SYNC;
        return 0;
    }
    /* cap < wLength: the data stage was not received (longer than the
     * control buffer, usbd_class.h) */
    if (s->wLength > dfu->cfg.transfer_size || cap < s->wLength || data == NULL) {
        return stall(dfu);
    }
    int r;
    dfu->op_ran = false;
    if (s->wValue == 0) {
        r = dnload_command(dfu, data, s->wLength);
    } else if (s->wValue == 1) {
        r = stall(dfu); /* DfuSe: block 1 is not used */
    } else {
        r = dnload_data(dfu, s->wValue, data, s->wLength);
    }
    if (r == 0) {
        dfu->state = DFU_STATE_DNLOAD_SYNC;
    }
    return r;
}

static int req_upload(dfu_t *dfu, const usb_setup_t *s, uint8_t *data, uint16_t cap)
{
    if (dfu->state != DFU_STATE_IDLE && dfu->state != DFU_STATE_UPLOAD_IDLE) {
        return stall(dfu);
    }
    if (!(dfu->cfg.attributes & DFU_ATTR_CAN_UPLOAD) || s->wLength == 0 ||
        s->wLength > dfu->cfg.transfer_size || data == NULL) {
        return stall(dfu);
    }
    uint16_t want = s->wLength < cap ? s->wLength : cap;
    uint32_t n;
    if (s->wValue == 0) {
        /* 0xC5 is the last: left out when there is no hand-over */
        n = (uint32_t)sizeof(dfuse_commands) - (dfu->cfg.no_rom_handover ? 1u : 0u);
        n = n < want ? n : want;
        memcpy(data, dfuse_commands, n);
    } else if (s->wValue == DFU_RESULT_BLOCK) {
        /* the result of the last vendor command (docs/protocol.md) */
        if (!dfu->result_valid) {
            return stall(dfu);
        }
        n = DFU_CRC_RESULT_LEN < want ? DFU_CRC_RESULT_LEN : want;
        memcpy(data, dfu->result, n);
    } else {
        const flash_map_t *m = map_of(dfu);
        uint64_t addr =
            (uint64_t)dfu->address + (uint64_t)(s->wValue - 2u) * dfu->cfg.transfer_size;
        uint64_t end = (uint64_t)m->base + flash_map_size(m);
        if (addr < m->base || addr >= end) {
            return stall_with(dfu, DFU_STATUS_ERR_ADDRESS);
        }
        n = want;
        if (addr + n > end) {
            n = (uint32_t)(end - addr); /* short frame: the end of the memory */
        }
#if H7_DFU_UPLOAD_LIMIT
        if (dfu->cfg.upload_limited &&
            (addr < dfu->cfg.upload_base ||
             addr + n > (uint64_t)dfu->cfg.upload_base + dfu->cfg.upload_size)) {
            return stall_with(dfu, DFU_STATUS_ERR_TARGET);
        }
#endif
        flash_status_t st = dfu->cfg.flash->ops->read(dfu->cfg.flash->ctx, (uint32_t)addr, data, n);
        if (st != FLASH_OK) {
            return stall_with(dfu, dfu_status_of_flash(st, DFU_STATUS_ERR_UNKNOWN));
        }
    }
    /* DFU 1.1 A.2.9: a short frame ends the upload. */
    dfu->state = n < s->wLength ? DFU_STATE_IDLE : DFU_STATE_UPLOAD_IDLE;
    return (int)n;
}

/* Hand the stored write or erase to the flash work. False: its bank has no
 * room yet. A block across the bank boundary is two jobs on one buffer. */
static bool start_job(dfu_t *dfu)
{
    const flash_map_t *m = map_of(dfu);
    dfu_job_t j = {.tag = dfu->op_buf};
    if (dfu->op == DFU_OP_WRITE) {
        j.kind = DFU_JOB_WRITE;
        j.addr = dfu->op_addr;
        j.len = dfu->op_len;
        j.data = &dfu->cfg.bufs[(size_t)dfu->op_buf * dfu->cfg.transfer_size];
        uint32_t split = m->base + (uint32_t)m->sectors_per_bank * m->sector_size;
        if (j.addr < split && j.addr + j.len > split) {
            dfu_job_t k = j;
            k.len = (uint16_t)(split - j.addr);
            if (!dfu_work_has_room(&dfu->work, j.addr) || !dfu_work_has_room(&dfu->work, split)) {
                return false;
            }
            dfu->buf_refs[j.tag] = 2;
            (void)dfu_work_start(&dfu->work, &k);
            j.data += k.len;
            j.len = (uint16_t)(j.len - k.len);
            j.addr = split;
        }
    } else if (dfu->op == DFU_OP_MASS_ERASE) {
        /* one job per sector the host may erase (reserved ones can lie
         * anywhere in a bank), queued once the banks are idle: a bank's
         * sectors fit its queue (DFU_WORK_QLEN) */
        if (!dfu_work_idle(&dfu->work)) {
            return false;
        }
        j.kind = DFU_JOB_ERASE;
        j.len = 1;
        for (unsigned s = 0; s < m->sector_count; s++) {
            j.addr = s;
            if (!flash_map_is_reserved(m, s)) {
                (void)dfu_work_start(&dfu->work, &j);
            }
        }
        dfu->op = DFU_OP_NONE;
        return true;
    } else {
        j.kind = DFU_JOB_ERASE;
        j.addr = dfu->op_addr; /* first sector */
        j.len = (uint16_t)dfu->op_len;
    }
    if (!dfu_work_start(&dfu->work, &j)) {
        return false;
    }
    dfu->op = DFU_OP_NONE;
    dfu->op_buf = DFU_NO_BUF;
    return true;
}

/* Time until the flash has room again: the first bank to end its job. */
static uint32_t room_us(const dfu_t *dfu)
{
    uint32_t best = 0;
    for (unsigned b = 0; b < DFU_WORK_BANKS; b++) {
        uint32_t l = dfu_work_head_left_us(&dfu->work, b);
        if (l != 0 && (best == 0 || l < best)) {
            best = l;
        }
    }
    return best;
}

/* GETSTATUS in dfuDNLOAD-SYNC or dfuDNBUSY: the state follows the flash
 * work. Returns bwPollTimeout in ms. */
static uint32_t getstatus_dnload(dfu_t *dfu)
{
    dfu_status_t err = dfu_work_error(&dfu->work);
    if (err == DFU_STATUS_OK && dfu->op == DFU_OP_FAIL) {
        err = dfu->op_status;
    }
    if (err == DFU_STATUS_OK && dfu->op_ran) {
        err = dfu->op_result;
    }
    if (err != DFU_STATUS_OK) {
        /* reported once: the host clears it with CLRSTATUS */
        dfu_work_clear_error(&dfu->work);
        dfu->op_ran = false;
        drop_op(dfu);
        dfu->state = DFU_STATE_ERROR;
        dfu->status = err;
        return 0;
    }
    switch (dfu->op) {
    case DFU_OP_WRITE:
        if (!start_job(dfu)) {
            dfu->state = DFU_STATE_DNBUSY;
            return poll_ms(dfu_work_queue_room_us(&dfu->work));
        }
        break;
    case DFU_OP_ERASE_SECTOR:
    case DFU_OP_MASS_ERASE:
        /* A command answers dfuDNBUSY first (AN3156; dfu-util checks) */
        dfu->state = DFU_STATE_DNBUSY;
        if (!start_job(dfu)) {
            return poll_ms(dfu_work_queue_room_us(&dfu->work));
        }
        return 0;
    case DFU_OP_SET_ADDRESS:
        dfu->address = dfu->op_addr;
        /* fall through */
    case DFU_OP_NOP:
        dfu->op = DFU_OP_NONE;
        dfu->state = DFU_STATE_DNBUSY;
        return 0;
    case DFU_OP_CRC32:
        dfu->state = DFU_STATE_DNBUSY;
        if (!dfu->op_armed) {
            dfu->op_armed = true;
            return poll_ms(dfu_work_all_left_us(&dfu->work) + armed_op_us(dfu));
        }
        return poll_ms(dfu_work_all_left_us(&dfu->work)) + 1u; /* not run yet */
    default:
        dfu->op_ran = false; /* an armed op's result was OK */
        break;
    }
    /* Ready for the next block when a buffer is free. */
    if (free_buf(dfu) >= 0) {
        dfu->state = DFU_STATE_DNLOAD_IDLE;
        return 0;
    }
    dfu->state = DFU_STATE_DNBUSY;
    return poll_ms(room_us(dfu));
}

static uint32_t getstatus_manifest(dfu_t *dfu)
{
    if (dfu->manifest_done) {
        dfu->manifest_done = false;
        dfu->state = DFU_STATE_IDLE;
        return 0;
    }
    if (dfu->op_ran) {
        /* the flash work failed: nothing left */
        dfu->op_ran = false;
        dfu_work_clear_error(&dfu->work);
        dfu->state = DFU_STATE_ERROR;
        dfu->status = dfu->op_result;
        return 0;
    }
    uint32_t us = dfu_work_all_left_us(&dfu->work);
    dfu->state = DFU_STATE_MANIFEST;
    if (!dfu->op_armed) {
        dfu->op_armed = true;
        return poll_ms(us + DFU_MANIFEST_US);
    }
    return poll_ms(us) + 1u;
}

static int req_getstatus(dfu_t *dfu, uint8_t *data, uint16_t cap)
{
    if (cap < DFU_STATUS_LEN || data == NULL) {
        return stall(dfu);
    }
    dfu->getstatus_done = false; /* until this answer's status stage is over */
    dfu_work_step(&dfu->work);   /* what the flash has finished */
    uint32_t poll = 0;
    switch (dfu->state) {
    case DFU_STATE_IDLE:
    case DFU_STATE_DNLOAD_IDLE:
        /* a block accepted earlier may have failed since (in this download
         * or before a bus reset) */
        if (dfu_work_error(&dfu->work) == DFU_STATUS_OK) {
            break;
        }
        /* fall through */
    case DFU_STATE_DNLOAD_SYNC:
    case DFU_STATE_DNBUSY:
        poll = getstatus_dnload(dfu);
        break;
    case DFU_STATE_MANIFEST_SYNC:
    case DFU_STATE_MANIFEST:
        poll = getstatus_manifest(dfu);
        break;
    default:
        break;
    }
    data[0] = (uint8_t)dfu->status;
    data[1] = (uint8_t)(poll & 0xffu);
    data[2] = (uint8_t)((poll >> 8) & 0xffu);
    data[3] = (uint8_t)((poll >> 16) & 0xffu);
    data[4] = (uint8_t)dfu->state;
    data[5] = 0; /* iString */
    return DFU_STATUS_LEN;
}

/* Leaving the download (ABORT, CLRSTATUS): started work ends first, so an
 * UPLOAD reads what was written, and its failure is not lost. */
static int back_to_idle(dfu_t *dfu)
{
    drop_op(dfu);
    dfu->op_ran = false;
    dfu_work_flush(&dfu->work);
    dfu_status_t err = dfu_work_error(&dfu->work);
    dfu_work_clear_error(&dfu->work);
    dfu->state = err != DFU_STATUS_OK ? DFU_STATE_ERROR : DFU_STATE_IDLE;
    dfu->status = err;
    return 0;
}

int dfu_control(dfu_t *dfu, const usb_setup_t *s, uint8_t *data, uint16_t cap)
{
    if ((s->bmRequestType & USB_TYPE_MASK) != USB_TYPE_CLASS ||
        (s->bmRequestType & USB_RECIP_MASK) != USB_RECIP_INTERFACE ||
        (s->wIndex & 0xffu) != dfu->cfg.itf_num) {
        return stall(dfu);
    }
    const bool in = (s->bmRequestType & USB_DIR_IN) != 0;
    const bool want_in = s->bRequest == DFU_REQ_UPLOAD || s->bRequest == DFU_REQ_GETSTATUS ||
                         s->bRequest == DFU_REQ_GETSTATE;
    if (in != want_in) {
        return stall(dfu);
    }
    if (dfu->state == DFU_STATE_MANIFEST_WAIT_RESET) {
        return USBD_STALL; /* only a bus reset gets us out (DFU 1.1 A.2.8) */
    }

    switch (s->bRequest) {
    case DFU_REQ_DNLOAD:
        return req_dnload(dfu, s, data, cap);
    case DFU_REQ_UPLOAD:
        if (dfu->state == DFU_STATE_IDLE) {
            dfu_work_flush(&dfu->work); /* read what was written */
            dfu_status_t err = dfu_work_error(&dfu->work);
            if (err != DFU_STATUS_OK) {
                dfu_work_clear_error(&dfu->work);
                return stall_with(dfu, err); /* it failed: say so */
            }
        }
        return req_upload(dfu, s, data, cap);
    case DFU_REQ_GETSTATUS:
        return req_getstatus(dfu, data, cap);
    case DFU_REQ_CLRSTATUS:
        if (dfu->state != DFU_STATE_ERROR) {
            return stall(dfu);
        }
        return back_to_idle(dfu);
    case DFU_REQ_GETSTATE:
        if (dfu->state == DFU_STATE_DNBUSY || dfu->state == DFU_STATE_MANIFEST || cap < 1 ||
            data == NULL) {
            return stall(dfu);
        }
        data[0] = (uint8_t)dfu->state;
        return 1;
    case DFU_REQ_ABORT:
        if (dfu->state != DFU_STATE_IDLE && dfu->state != DFU_STATE_DNLOAD_IDLE &&
            dfu->state != DFU_STATE_UPLOAD_IDLE) {
            return stall(dfu);
        }
        return back_to_idle(dfu);
    case DFU_REQ_DETACH: /* DFU mode has no DETACH (DFU 1.1 A.2) */
    default:
        return stall(dfu);
    }
}

void dfu_control_done(dfu_t *dfu, const usb_setup_t *setup)
{
    if (setup->bRequest != DFU_REQ_GETSTATUS) {
        return;
    }
    if (dfu->cfg.ops_in_poll) {
        dfu->getstatus_done = true; /* poll() runs the work from here on */
        return;
    }
    /* No main loop: the work goes on here. */
    dfu_work_step(&dfu->work);
    if (dfu->op_armed && dfu_work_idle(&dfu->work)) {
        run_armed(dfu);
    }
}

void dfu_poll(dfu_t *dfu)
{
    dfu_work_step(&dfu->work);
    /* The armed CRC or leave: after its GETSTATUS has gone (else the host
     * would see that answer's status stage NAKed for the whole operation,
     * then wait bwPollTimeout on top) and once the flash is idle. */
    if (dfu->cfg.ops_in_poll && dfu->getstatus_done && dfu->op_armed && dfu_work_idle(&dfu->work)) {
        run_armed(dfu);
    }
}

bool dfu_set_alt(dfu_t *dfu, uint8_t alt)
{
    if (alt >= dfu_alt_count(dfu)) {
        return false;
    }
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
    if (alt >= dfu_alt_count(dfu) || buf == NULL) {
        return 0;
    }
    return flash_map_dfuse_layout(map_of(dfu), buf, len);
}

size_t dfu_functional_descriptor(uint8_t *buf, size_t len, uint8_t attributes,
                                 uint16_t detach_timeout_ms, uint16_t transfer_size)
{
    if (buf == NULL || len < DFU_FUNC_DESC_LEN) {
        return 0;
    }
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
