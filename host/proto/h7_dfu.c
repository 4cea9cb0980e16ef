/* DFU 1.1 / DfuSe client: requests, waits, recovery (DFU 1.1 6, AN3156). */
#include "h7_dfu.h"

#include <string.h>

#include "h7_target.h"

#define REQ_OUT             0x21u /* host-to-device, class, interface */
#define REQ_IN              0xa1u /* device-to-host, class, interface */
#define DEFAULT_TIMEOUT_MS  5000u
#define DEFAULT_MAX_WAIT_MS 60000u

void h7_dfu_init(h7_dfu_client_t *dfu, const h7_transport_t *t, uint8_t itf, uint16_t transfer_size)
{
    memset(dfu, 0, sizeof(*dfu));
    dfu->t = t;
    dfu->itf = itf;
    dfu->transfer_size = transfer_size ? transfer_size : 2048u;
    dfu->timeout_ms = DEFAULT_TIMEOUT_MS;
    dfu->max_wait_ms = DEFAULT_MAX_WAIT_MS;
    h7_error_clear(&dfu->err);
}

static int xfer(h7_dfu_client_t *dfu, uint8_t type, uint8_t req, uint16_t value, uint8_t *data,
                uint16_t len)
{
    return dfu->t->control(dfu->t->ctx, type, req, value, dfu->itf, data, len, dfu->timeout_ms);
}

/* Read the device's state and status into the error (after a stall, it says
 * why the device refused). Never overwrites the error's code. */
static void attach_status(h7_dfu_client_t *dfu)
{
    uint8_t b[6];
    if (xfer(dfu, REQ_IN, H7_DFU_GETSTATUS, 0, b, 6) == 6) {
        h7_err_device(&dfu->err, b[4], b[0]);
    }
}

static int fail_xfer(h7_dfu_client_t *dfu, const char *op, int block, int rc)
{
    h7_err_set(&dfu->err, H7_E_TRANSPORT, op, NULL);
    h7_err_block(&dfu->err, block);
    dfu->err.xfer = rc;
    if (rc == H7_XFER_STALL) {
        attach_status(dfu);
    }
    return H7_E_TRANSPORT;
}

int h7_dfu_get_status(h7_dfu_client_t *dfu, h7_dfu_status_rec_t *out)
{
    uint8_t b[6];
    int rc = xfer(dfu, REQ_IN, H7_DFU_GETSTATUS, 0, b, 6);
    if (rc < 0) {
        h7_err_set(&dfu->err, H7_E_TRANSPORT, "GETSTATUS", NULL);
        dfu->err.xfer = rc;
        return H7_E_TRANSPORT;
    }
    if (rc != 6) {
        return h7_err_set(&dfu->err, H7_E_PROTOCOL, "GETSTATUS", "the reply has %d bytes, not 6",
                          rc);
    }
    if (out) {
        out->status = b[0];
        out->poll_ms = (uint32_t)b[1] | ((uint32_t)b[2] << 8) | ((uint32_t)b[3] << 16);
        out->state = b[4];
        out->istring = b[5];
    }
    return 0;
}

int h7_dfu_clr_status(h7_dfu_client_t *dfu)
{
    int rc = xfer(dfu, REQ_OUT, H7_DFU_CLRSTATUS, 0, NULL, 0);
    return rc < 0 ? fail_xfer(dfu, "CLRSTATUS", -1, rc) : 0;
}

int h7_dfu_get_state(h7_dfu_client_t *dfu, uint8_t *state)
{
    uint8_t b = 0;
    int rc = xfer(dfu, REQ_IN, H7_DFU_GETSTATE, 0, &b, 1);
    if (rc < 0) {
        return fail_xfer(dfu, "GETSTATE", -1, rc);
    }
    if (rc != 1) {
        return h7_err_set(&dfu->err, H7_E_PROTOCOL, "GETSTATE", "the reply has %d bytes, not 1",
                          rc);
    }
    if (state) {
        *state = b;
    }
    return 0;
}

int h7_dfu_abort(h7_dfu_client_t *dfu)
{
    int rc = xfer(dfu, REQ_OUT, H7_DFU_ABORT, 0, NULL, 0);
    return rc < 0 ? fail_xfer(dfu, "ABORT", -1, rc) : 0;
}

int h7_dfu_detach(h7_dfu_client_t *dfu, uint16_t timeout_ms)
{
    int rc = xfer(dfu, REQ_OUT, H7_DFU_DETACH, timeout_ms, NULL, 0);
    return rc < 0 ? fail_xfer(dfu, "DETACH", -1, rc) : 0;
}

int h7_dfu_dnload(h7_dfu_client_t *dfu, uint16_t block, const uint8_t *data, uint16_t len)
{
    /* The transport's data pointer is not const (it serves IN too); an OUT
     * transfer only reads it. */
    int rc = xfer(dfu, REQ_OUT, H7_DFU_DNLOAD, block, (uint8_t *)(uintptr_t)data, len);
    return rc < 0 ? fail_xfer(dfu, "DNLOAD", block, rc) : 0;
}

int h7_dfu_upload(h7_dfu_client_t *dfu, uint16_t block, uint8_t *data, uint16_t len)
{
    int rc = xfer(dfu, REQ_IN, H7_DFU_UPLOAD, block, data, len);
    return rc < 0 ? fail_xfer(dfu, "UPLOAD", block, rc) : rc;
}

static int device_error(h7_dfu_client_t *dfu, const h7_dfu_status_rec_t *st)
{
    h7_err_set(&dfu->err, H7_E_DEVICE, "request", NULL);
    h7_err_device(&dfu->err, st->state, st->status);
    return H7_E_DEVICE;
}

int h7_dfu_wait(h7_dfu_client_t *dfu, h7_dfu_status_rec_t *out)
{
    h7_dfu_status_rec_t st;
    uint64_t waited = 0;
    int rc = h7_dfu_get_status(dfu, &st);
    if (rc) {
        return rc;
    }
    /* DFU 1.1 A.2.5: wait bwPollTimeout, then ask again, while busy. */
    while (st.state == H7_ST_DNBUSY || st.state == H7_ST_DNLOAD_SYNC) {
        if (waited > dfu->max_wait_ms) {
            return h7_err_set(&dfu->err, H7_E_TIMEOUT, "wait", "still %s after %llu ms",
                              h7_dfu_state_name(st.state), (unsigned long long)waited);
        }
        if (dfu->t->sleep_ms && st.poll_ms) {
            dfu->t->sleep_ms(dfu->t->ctx, st.poll_ms);
        }
        waited += st.poll_ms ? st.poll_ms : 1u;
        if ((rc = h7_dfu_get_status(dfu, &st)) != 0) {
            return rc;
        }
    }
    if (out) {
        *out = st;
    }
    if (st.state == H7_ST_ERROR || st.status != H7_STATUS_OK) {
        return device_error(dfu, &st);
    }
    return 0;
}

/* A CRC query of the word at addr (vendor command 0xC3): the h7dfu
 * bootloader answers it once its queued flash work is over, telling the
 * time left in bwPollTimeout; a failure of that work is its answer. A locked
 * bootloader refuses the range itself then (errTARGET: it answers whole
 * sectors only): the work is over all the same. */
static int wait_for_work(h7_dfu_client_t *dfu, uint32_t addr)
{
    uint8_t b[9] = {H7_DFUSE_CRC32};
    h7_put_le32(b + 1, addr);
    h7_put_le32(b + 5, 32);
    int rc = h7_dfu_dnload(dfu, 0, b, sizeof(b));
    if (rc == 0) {
        rc = h7_dfu_wait(dfu, NULL);
    }
    if (rc == H7_E_DEVICE && dfu->err.status == H7_STATUS_ERR_TARGET) {
        rc = h7_dfu_clr_status(dfu);
    }
    return rc;
}

int h7_dfu_recover(h7_dfu_client_t *dfu)
{
    h7_dfu_status_rec_t st = {0};
    int rc = 0;
    /* A few rounds: a busy device first finishes (after bwPollTimeout), an
     * error is cleared, any other state is aborted (DFU 1.1 A.2). */
    bool settled = false;
    for (int round = 0; round < 6; round++) {
        rc = h7_dfu_get_status(dfu, &st);
        if (rc == H7_E_TRANSPORT && dfu->err.xfer == H7_XFER_STALL) {
            continue; /* the stall put the device in dfuERROR: ask again */
        }
        if (rc) {
            return rc;
        }
        switch (st.state) {
        case H7_ST_IDLE:
            return 0;
        case H7_ST_ERROR:
            rc = h7_dfu_clr_status(dfu);
            break;
        case H7_ST_DNBUSY:
        case H7_ST_DNLOAD_SYNC:
        case H7_ST_MANIFEST:
        case H7_ST_MANIFEST_SYNC:
            if (dfu->t->sleep_ms && st.poll_ms) {
                dfu->t->sleep_ms(dfu->t->ctx, st.poll_ms);
            }
            break;
        case H7_ST_DNLOAD_IDLE:
            if (!settled) {
                /* A download left by an interrupted host: the h7dfu
                 * bootloader may still program it, and an ABORT would
                 * wait for that inside the request (seconds: longer than
                 * a control transfer may take). A CRC query waits for it
                 * with bwPollTimeout instead; a device without the
                 * command stalls it, and the next round clears that. */
                settled = true;
                rc = wait_for_work(dfu, flash_map_stm32h743()->base);
                if (rc == H7_E_DEVICE) {
                    rc = 0; /* a failure of the old work: cleared next round */
                }
                break;
            }
            rc = h7_dfu_abort(dfu);
            break;
        default:
            rc = h7_dfu_abort(dfu);
            break;
        }
        if (rc && !(rc == H7_E_TRANSPORT && dfu->err.xfer == H7_XFER_STALL)) {
            return rc;
        }
    }
    h7_err_set(&dfu->err, H7_E_PROTOCOL, "recover to dfuIDLE",
               "CLRSTATUS/ABORT did not bring the device to dfuIDLE");
    h7_err_device(&dfu->err, st.state, st.status);
    return H7_E_PROTOCOL;
}

/* ---- DfuSe ---- */

static int special(h7_dfu_client_t *dfu, const char *op, uint8_t cmd, bool has_addr, uint32_t addr)
{
    uint8_t b[5] = {cmd};
    h7_put_le32(b + 1, addr);
    int rc = h7_dfu_dnload(dfu, 0, b, has_addr ? 5 : 1);
    if (rc == 0) {
        h7_dfu_status_rec_t st = {0};
        rc = h7_dfu_wait(dfu, &st);
        if (rc == 0 && st.state != H7_ST_DNLOAD_IDLE) {
            h7_err_set(&dfu->err, H7_E_PROTOCOL, op, "expected dfuDNLOAD-IDLE");
            h7_err_block(&dfu->err, 0);
            h7_err_device(&dfu->err, st.state, st.status);
            if (has_addr) {
                h7_err_at(&dfu->err, addr);
            }
            return H7_E_PROTOCOL;
        }
    }
    if (rc) {
        /* the request failed: the command is what failed, at no block */
        h7_err_context(&dfu->err, op);
        h7_err_block(&dfu->err, -1);
        if (has_addr) {
            h7_err_at(&dfu->err, addr);
        }
    }
    return rc;
}

int h7_dfuse_set_address(h7_dfu_client_t *dfu, uint32_t addr)
{
    return special(dfu, "set address", H7_DFUSE_SET_ADDRESS, true, addr);
}

int h7_dfuse_erase_sector(h7_dfu_client_t *dfu, uint32_t addr)
{
    return special(dfu, "erase sector", H7_DFUSE_ERASE, true, addr);
}

int h7_dfuse_mass_erase(h7_dfu_client_t *dfu)
{
    return special(dfu, "mass erase", H7_DFUSE_ERASE, false, 0);
}

int h7_dfuse_read_unprotect(h7_dfu_client_t *dfu)
{
    return special(dfu, "read unprotect", H7_DFUSE_READ_UNPROTECT, false, 0);
}

int h7_dfuse_get_commands(h7_dfu_client_t *dfu, uint8_t *cmds, uint16_t cap)
{
    int n = h7_dfu_upload(dfu, 0, cmds, cap);
    if (n >= 0 && n == cap) {
        /* not a short frame: the device stays in dfuUPLOAD-IDLE */
        int rc = h7_dfu_abort(dfu);
        if (rc) {
            return rc;
        }
    }
    return n;
}

bool h7_dfuse_has_command(h7_dfu_client_t *dfu, uint8_t cmd)
{
    uint8_t cmds[64];
    int n = h7_dfuse_get_commands(dfu, cmds, sizeof(cmds));
    if (n < 0) {
        h7_dfu_recover(dfu);
        return false;
    }
    bool has = false;
    for (int i = 0; i < n; i++) {
        has = has || cmds[i] == cmd;
    }
    if (cmd == H7_DFUSE_CRC32) {
        dfu->crc_known = true;
        dfu->crc_cmd = has;
    }
    return has;
}

int h7_dfuse_crc32(h7_dfu_client_t *dfu, uint32_t addr, uint32_t len, uint32_t seed, uint32_t *crc)
{
    uint8_t b[13] = {H7_DFUSE_CRC32};
    h7_put_le32(b + 1, addr);
    h7_put_le32(b + 5, len);
    h7_put_le32(b + 9, seed);
    h7_dfu_status_rec_t st = {0};
    int rc = h7_dfu_dnload(dfu, 0, b, sizeof(b));
    if (rc == 0) {
        rc = h7_dfu_wait(dfu, &st);
    }
    if (rc == 0) {
        rc = h7_dfu_abort(dfu); /* UPLOAD starts from dfuIDLE */
    }
    uint8_t r[16];
    int n = 0;
    if (rc == 0) {
        /* ask for more than the 12 bytes: the short frame ends the upload */
        n = h7_dfu_upload(dfu, 1, r, sizeof(r));
        if (n < 0) {
            rc = n;
        }
    }
    if (rc == 0 && (n != 12 || h7_get_le32(r) != addr || h7_get_le32(r + 4) != len)) {
        rc = h7_err_set(&dfu->err, H7_E_PROTOCOL, "CRC query",
                        "the device answered %d bytes that do not match the query", n);
        h7_err_block(&dfu->err, 1);
    }
    if (rc) {
        h7_err_context(&dfu->err, "CRC query");
        h7_err_at(&dfu->err, addr);
        return rc;
    }
    *crc = h7_get_le32(r + 8);
    return 0;
}

int h7_dfuse_boot_status(h7_dfu_client_t *dfu, h7_boot_status_t *out)
{
    const uint8_t cmd = H7_DFUSE_BOOT_STATUS;
    h7_dfu_status_rec_t st = {0};
    int rc = h7_dfu_dnload(dfu, 0, &cmd, 1);
    if (rc == 0) {
        rc = h7_dfu_wait(dfu, &st);
    }
    if (rc == 0) {
        rc = h7_dfu_abort(dfu); /* UPLOAD starts from dfuIDLE */
    }
    uint8_t r[16];
    int n = 0;
    if (rc == 0 && (n = h7_dfu_upload(dfu, 1, r, sizeof(r))) < 0) {
        rc = n;
    }
    if (rc == 0 && n != 12) {
        rc = h7_err_set(&dfu->err, H7_E_PROTOCOL, "boot status",
                        "the device answered %d bytes, not 12", n);
        h7_err_block(&dfu->err, 1);
    }
    if (rc) {
        return rc;
    }
    out->action = r[0];
    out->why = r[1];
    out->validation = r[2];
    out->major = r[4];
    out->minor = r[5];
    out->patch = h7_get_le16(r + 6);
    out->build = h7_get_le32(r + 8);
    return 0;
}

int h7_dfuse_write_block(h7_dfu_client_t *dfu, uint16_t block, const uint8_t *data, uint16_t len)
{
    int rc = h7_dfu_dnload(dfu, block, data, len);
    h7_dfu_status_rec_t st = {0};
    if (rc == 0) {
        rc = h7_dfu_wait(dfu, &st);
    }
    if (rc == 0 && st.state != H7_ST_DNLOAD_IDLE) {
        rc = h7_err_set(&dfu->err, H7_E_PROTOCOL, "write", "expected dfuDNLOAD-IDLE");
        h7_err_device(&dfu->err, st.state, st.status);
    }
    if (rc) {
        h7_err_context(&dfu->err, "write");
        h7_err_block(&dfu->err, block);
    }
    return rc;
}

int h7_dfuse_settle(h7_dfu_client_t *dfu, uint32_t addr)
{
    if (!dfu->crc_known || !dfu->crc_cmd) {
        return 0; /* a device that works while it answers: nothing pending */
    }
    h7_dfu_status_rec_t st = {0};
    int rc = wait_for_work(dfu, addr);
    /* ABORT lets started flash work end (core/dfu/dfu.h) and turns a failure
     * of it into dfuERROR, which GETSTATUS then reports. */
    if (rc == 0) {
        rc = h7_dfu_abort(dfu);
    }
    if (rc == 0) {
        rc = h7_dfu_get_status(dfu, &st);
    }
    if (rc == 0 && (st.state == H7_ST_ERROR || st.status != H7_STATUS_OK)) {
        rc = device_error(dfu, &st);
    }
    if (rc) {
        h7_err_context(&dfu->err, "write");
    }
    return rc;
}

int h7_dfuse_write(h7_dfu_client_t *dfu, uint32_t addr, const uint8_t *data, size_t len,
                   void (*progress)(void *user, size_t done), void *user)
{
    const size_t xs = dfu->transfer_size;
    size_t off = 0;
    uint32_t base = addr;
    unsigned block = 2;
    int rc = h7_dfuse_set_address(dfu, base);
    while (rc == 0 && off < len) {
        if (block > 0xffffu) {
            /* block numbers are 16 bits: move the pointer and restart */
            base = addr + (uint32_t)off;
            block = 2;
            if ((rc = h7_dfuse_set_address(dfu, base)) != 0) {
                break;
            }
        }
        uint16_t n = (uint16_t)(len - off < xs ? len - off : xs);
        rc = h7_dfuse_write_block(dfu, (uint16_t)block, data + off, n);
        if (rc) {
            h7_err_at(&dfu->err, addr + (uint32_t)off);
            break;
        }
        off += n;
        block++;
        if (progress) {
            progress(user, off);
        }
    }
    if (rc == 0) {
        rc = h7_dfuse_settle(dfu, addr & ~31u);
    }
    return rc;
}

int h7_dfuse_read(h7_dfu_client_t *dfu, uint32_t addr, uint8_t *buf, size_t len)
{
    const size_t xs = dfu->transfer_size;
    size_t off = 0;
    unsigned block = 2;
    uint32_t base = addr;
    int rc = h7_dfuse_set_address(dfu, base);
    if (rc == 0) {
        rc = h7_dfu_abort(dfu); /* UPLOAD starts from dfuIDLE */
    }
    while (rc == 0 && off < len) {
        if (block > 0xffffu) {
            base = addr + (uint32_t)off;
            block = 2;
            if ((rc = h7_dfuse_set_address(dfu, base)) != 0 || (rc = h7_dfu_abort(dfu)) != 0) {
                break;
            }
        }
        uint16_t want = (uint16_t)(len - off < xs ? len - off : xs);
        int n = h7_dfu_upload(dfu, (uint16_t)block, buf + off, want);
        if (n < 0) {
            rc = n;
        } else if (n != want) {
            rc = h7_err_set(&dfu->err, H7_E_PROTOCOL, "read",
                            "the device sent %d of %u bytes: the range ends outside its memory", n,
                            (unsigned)want);
            h7_err_block(&dfu->err, (int)block);
        }
        if (rc) {
            h7_err_context(&dfu->err, "read");
            h7_err_at(&dfu->err, addr + (uint32_t)off);
            break;
        }
        off += want;
        block++;
    }
    if (rc == 0) {
        uint8_t state;
        if ((rc = h7_dfu_get_state(dfu, &state)) == 0 && state != H7_ST_IDLE) {
            rc = h7_dfu_abort(dfu);
        }
    }
    return rc;
}

int h7_dfuse_leave(h7_dfu_client_t *dfu, bool has_addr, uint32_t addr)
{
    int rc = 0;
    if (has_addr && (rc = h7_dfuse_set_address(dfu, addr)) != 0) {
        return rc;
    }
    if ((rc = h7_dfu_dnload(dfu, 0, NULL, 0)) != 0) {
        h7_err_context(&dfu->err, "leave");
        return rc;
    }
    h7_dfu_status_rec_t st;
    rc = h7_dfu_get_status(dfu, &st);
    if (rc == H7_E_TRANSPORT &&
        (dfu->err.xfer == H7_XFER_NO_DEVICE || dfu->err.xfer == H7_XFER_IO)) {
        h7_error_clear(&dfu->err); /* it left at once: what we asked for */
        return 0;
    }
    if (rc) {
        h7_err_context(&dfu->err, "leave");
        return rc;
    }
    if (st.state == H7_ST_MANIFEST || st.state == H7_ST_MANIFEST_WAIT_RESET ||
        st.state == H7_ST_MANIFEST_SYNC || st.state == H7_ST_IDLE) {
        return 0;
    }
    int code =
        h7_err_set(&dfu->err, st.state == H7_ST_ERROR ? H7_E_DEVICE : H7_E_PROTOCOL, "leave", NULL);
    h7_err_device(&dfu->err, st.state, st.status);
    if (has_addr) {
        h7_err_at(&dfu->err, addr);
    }
    return code;
}
