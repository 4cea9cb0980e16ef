/* Building the human message of one h7_error_t. */
#include "h7_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "h7_dfu.h"
#include "h7_transport.h"

void h7_error_clear(h7_error_t *e)
{
    memset(e, 0, sizeof(*e));
    e->block = -1;
}

int h7_err_set(h7_error_t *e, h7_errc_t code, const char *op, const char *fmt, ...)
{
    h7_error_clear(e);
    e->code = code;
    h7_err_context(e, op);
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
        va_end(ap);
    }
    return code;
}

void h7_err_at(h7_error_t *e, uint32_t addr)
{
    e->has_addr = true;
    e->addr = addr;
}

void h7_err_block(h7_error_t *e, int block)
{
    e->block = block;
}

void h7_err_device(h7_error_t *e, uint8_t state, uint8_t status)
{
    e->has_dfu = true;
    e->state = state;
    e->status = status;
}

int h7_err_context(h7_error_t *e, const char *op)
{
    snprintf(e->op, sizeof(e->op), "%s", op);
    return e->code;
}

const char *h7_errc_name(h7_errc_t code)
{
    switch (code) {
    case H7_OK:
        return "ok";
    case H7_E_TRANSPORT:
        return "transfer failed";
    case H7_E_DEVICE:
        return "device error";
    case H7_E_PROTOCOL:
        return "protocol error";
    case H7_E_VERIFY:
        return "verification failed";
    case H7_E_PLAN:
        return "outside the device's writable memory (nothing was sent)";
    case H7_E_ARG:
        return "bad argument";
    case H7_E_TIMEOUT:
        return "device busy too long";
    case H7_E_NOMEM:
        return "out of memory";
    case H7_E_CANCELLED:
        return "stopped on request";
    }
    return "unknown error";
}

typedef struct sb {
    char *buf;
    size_t len, pos;
} sb_t;

static void put(sb_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(sb_t *s, const char *fmt, ...)
{
    if (s->len == 0) {
        return;
    }
    size_t room = s->pos < s->len ? s->len - s->pos : 0;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(room ? s->buf + s->pos : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0) {
        s->pos += (size_t)n;
    }
}

static const char *what_to_do(const h7_error_t *e)
{
    if (e->has_dfu && e->status != 0) {
        return h7_dfu_status_hint(e->status);
    }
    switch (e->code) {
    case H7_E_TRANSPORT:
        if (e->xfer == H7_XFER_NO_DEVICE) {
            return "reconnect the board; it comes back in DFU mode, then run the command again";
        }
        if (e->xfer == H7_XFER_STALL) {
            return "run the command again (h7dfu clears the device's error state first)";
        }
        return "check the cable and run the command again";
    case H7_E_PROTOCOL:
        return "reset the board into DFU mode and run the command again";
    case H7_E_VERIFY:
        return "write the image again; if it fails again the flash may be worn";
    case H7_E_PLAN:
        return "check the image's addresses against the device's memory layout (h7dfu info)";
    case H7_E_TIMEOUT:
        return "reset the board and run the command again";
    default:
        return "run the command again";
    }
}

size_t h7_error_format(const h7_error_t *e, char *buf, size_t len)
{
    sb_t s = {buf, len, 0};
    if (len) {
        buf[0] = '\0';
    }
    put(&s, "%s", e->op[0] ? e->op : "operation");
    if (e->block >= 0) {
        put(&s, " block %d", e->block);
    }
    if (e->has_addr) {
        put(&s, " at 0x%08x", (unsigned)e->addr);
    }
    put(&s, " failed: %s", h7_errc_name(e->code));
    if (e->xfer < 0) {
        put(&s, " (%s)", h7_xfer_error_name(e->xfer));
    }
    if (e->detail[0]) {
        put(&s, "; %s", e->detail);
    }
    if (e->has_dfu) {
        put(&s, ". The device reports state %s (%s) with status %s: %s",
            h7_dfu_state_name(e->state), h7_dfu_state_text(e->state), h7_dfu_status_name(e->status),
            h7_dfu_status_text(e->status));
    }
    put(&s, ". What to do: %s.", what_to_do(e));
    return s.pos < len ? s.pos : (len ? len - 1 : 0);
}
