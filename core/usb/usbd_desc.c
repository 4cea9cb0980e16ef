/*
 * Descriptor builder: layouts from USB 2.0 9.6.1 (device), 9.6.3
 * (configuration), 9.6.5 (interface), 9.6.6 (endpoint), 9.6.7 (string).
 */
#include "usbd_desc.h"

#include <string.h>

/* Bounded appender: every write checks the room left, so a description too
 * big for USBD_DESC_BUF_SIZE fails at init rather than overflowing. */
typedef struct writer {
    usbd_desc_set_t *set;
    bool ok;
} writer_t;

static void put8(writer_t *w, uint8_t v)
{
    if (w->set->used >= sizeof w->set->buf) {
        w->ok = false;
        return;
    }
    w->set->buf[w->set->used++] = v;
}

static void put16(writer_t *w, uint16_t v)
{
    put8(w, (uint8_t)(v & 0xffu));
    put8(w, (uint8_t)(v >> 8));
}

static void put_bytes(writer_t *w, const uint8_t *p, uint16_t n)
{
    for (uint16_t i = 0; i < n; i++) {
        put8(w, p[i]);
    }
}

/* Next code point of a UTF-8 string; malformed input yields U+FFFD and code
 * points beyond the BMP (not representable in one UTF-16 unit) too. */
static uint16_t utf8_next(const char **sp)
{
    const uint8_t *s = (const uint8_t *)*sp;
    uint8_t c = s[0];
    unsigned need;
    uint32_t cp;
    if (c < 0x80u) {
        *sp += 1;
        return c;
    }
    if ((c & 0xe0u) == 0xc0u) {
        need = 1;
        cp = c & 0x1fu;
    } else if ((c & 0xf0u) == 0xe0u) {
        need = 2;
        cp = c & 0x0fu;
    } else if ((c & 0xf8u) == 0xf0u) {
        need = 3;
        cp = c & 0x07u;
    } else {
        *sp += 1;
        return 0xfffdu;
    }
    for (unsigned i = 1; i <= need; i++) {
        if ((s[i] & 0xc0u) != 0x80u) { /* also stops at the terminating NUL */
            *sp += i;
            return 0xfffdu;
        }
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    *sp += need + 1;
    return cp > 0xffffu ? 0xfffdu : (uint16_t)cp;
}

/* Appends a string descriptor and returns its index (0 for a NULL string). */
static uint8_t add_string(writer_t *w, const char *str)
{
    usbd_desc_set_t *set = w->set;
    if (str == NULL) {
        return 0;
    }
    if (set->num_strings >= USBD_MAX_STRINGS) {
        w->ok = false;
        return 0;
    }
    uint8_t index = set->num_strings++;
    uint16_t start = set->used;
    set->str_off[index] = start;
    put8(w, 0); /* bLength, patched below */
    put8(w, USB_DT_STRING);
    unsigned units = 0;
    for (const char *p = str; *p != '\0';) {
        put16(w, utf8_next(&p));
        units++;
    }
    if (units > 126u) { /* bLength is one byte: 2 + 2 * 126 = 254 */
        w->ok = false;
    }
    if (w->ok) {
        set->buf[start] = (uint8_t)(2u + 2u * units);
    }
    return index;
}

static bool valid_endpoint(const usbd_endpoint_desc_t *ep)
{
    uint8_t num = ep->addr & 0x7fu;
    if (num == 0 || num > 15 || (ep->addr & 0x70u) != 0) {
        return false;
    }
    if (ep->type != USB_EP_BULK && ep->type != USB_EP_INTERRUPT) {
        return false;
    }
    return ep->max_packet > 0 && ep->max_packet <= 64u;
}

static bool valid_description(const usbd_device_desc_t *d)
{
    if (d->num_itfs == 0 || d->num_itfs > USBD_MAX_INTERFACES || d->itfs == NULL) {
        return false;
    }
    if (d->ctrl_buf != NULL && d->ctrl_buf_size < 8u) {
        return false;
    }
    for (uint8_t i = 0; i < d->num_itfs; i++) {
        const usbd_interface_desc_t *itf = &d->itfs[i];
        if (itf->num_alts == 0 || itf->alts == NULL) {
            return false;
        }
        for (uint8_t a = 0; a < itf->num_alts; a++) {
            const usbd_alt_desc_t *alt = &itf->alts[a];
            if (alt->extra_len != 0 && alt->extra == NULL) {
                return false;
            }
            if (alt->num_eps != 0 && alt->eps == NULL) {
                return false;
            }
            for (uint8_t e = 0; e < alt->num_eps; e++) {
                if (!valid_endpoint(&alt->eps[e])) {
                    return false;
                }
            }
        }
    }
    return true;
}

bool usbd_desc_build(usbd_desc_set_t *set, const usbd_device_desc_t *d)
{
    memset(set, 0, sizeof *set);
    if (d == NULL || !valid_description(d)) {
        return false;
    }
    writer_t w = {set, true};

    /* Device descriptor (USB 2.0 Table 9-8); string indices are known up front
     * because strings are numbered in a fixed order. */
    uint8_t next = 1;
    uint8_t i_man = d->manufacturer ? next++ : 0;
    uint8_t i_prod = d->product ? next++ : 0;
    uint8_t i_ser = d->serial ? next++ : 0;
    put8(&w, USBD_DEVICE_DESC_LEN);
    put8(&w, USB_DT_DEVICE);
    /* A host asks for the BOS only from bcdUSB 0x0201 (USB 2.0 LPM ECN). */
    put16(&w, d->bcd_usb ? d->bcd_usb : d->ms_os20 ? 0x0201u : 0x0200u);
    put8(&w, d->dev_class);
    put8(&w, d->dev_subclass);
    put8(&w, d->dev_protocol);
    put8(&w, USBD_EP0_SIZE);
    put16(&w, d->vid);
    put16(&w, d->pid);
    put16(&w, d->bcd_device);
    put8(&w, i_man);
    put8(&w, i_prod);
    put8(&w, i_ser);
    put8(&w, 1); /* bNumConfigurations */

    /* Configuration descriptor (Table 9-10) followed by every interface
     * (Table 9-12), its class descriptors and endpoints (Table 9-13). */
    set->cfg_off = set->used;
    put8(&w, USBD_CONFIG_DESC_LEN);
    put8(&w, USB_DT_CONFIG);
    put16(&w, 0); /* wTotalLength, patched below */
    put8(&w, d->num_itfs);
    put8(&w, 1); /* bConfigurationValue */
    put8(&w, 0); /* iConfiguration */
    put8(&w, (uint8_t)(USB_CONFIG_ATTR_ONE | d->attributes));
    put8(&w, (uint8_t)(d->max_power_ma / 2u > 250u ? 250u : d->max_power_ma / 2u));
    for (uint8_t i = 0; i < d->num_itfs; i++) {
        const usbd_interface_desc_t *itf = &d->itfs[i];
        for (uint8_t a = 0; a < itf->num_alts; a++) {
            const usbd_alt_desc_t *alt = &itf->alts[a];
            put8(&w, USBD_ITF_DESC_LEN);
            put8(&w, USB_DT_INTERFACE);
            put8(&w, i);
            put8(&w, a);
            put8(&w, alt->num_eps);
            put8(&w, alt->cls);
            put8(&w, alt->subclass);
            put8(&w, alt->protocol);
            put8(&w, alt->name ? next++ : 0);
            put_bytes(&w, alt->extra, alt->extra_len);
            for (uint8_t e = 0; e < alt->num_eps; e++) {
                const usbd_endpoint_desc_t *ep = &alt->eps[e];
                put8(&w, USBD_EP_DESC_LEN);
                put8(&w, USB_DT_ENDPOINT);
                put8(&w, ep->addr);
                put8(&w, ep->type);
                put16(&w, ep->max_packet);
                put8(&w, ep->interval);
            }
        }
    }
    set->cfg_len = (uint16_t)(set->used - set->cfg_off);
    if (w.ok) {
        set->buf[set->cfg_off + 2] = (uint8_t)(set->cfg_len & 0xffu);
        set->buf[set->cfg_off + 3] = (uint8_t)(set->cfg_len >> 8);
    }

    /* Strings in index order: language IDs, then as numbered above. */
    set->num_strings = 1;
    set->str_off[0] = set->used;
    put8(&w, 4);
    put8(&w, USB_DT_STRING);
    put16(&w, USB_LANGID_EN_US);
    (void)add_string(&w, d->manufacturer);
    (void)add_string(&w, d->product);
    (void)add_string(&w, d->serial);
    for (uint8_t i = 0; i < d->num_itfs; i++) {
        for (uint8_t a = 0; a < d->itfs[i].num_alts; a++) {
            (void)add_string(&w, d->itfs[i].alts[a].name);
        }
    }
    if (!w.ok || set->num_strings != next) {
        memset(set, 0, sizeof *set);
        return false;
    }
    return true;
}

uint8_t usbd_desc_alt_string_index(const usbd_device_desc_t *d, uint8_t itf, uint8_t alt)
{
    if (d == NULL || itf >= d->num_itfs || alt >= d->itfs[itf].num_alts ||
        d->itfs[itf].alts[alt].name == NULL) {
        return 0;
    }
    uint8_t index =
        (uint8_t)(1u + (d->manufacturer != NULL) + (d->product != NULL) + (d->serial != NULL));
    for (uint8_t i = 0; i <= itf; i++) {
        uint8_t last = i == itf ? alt : d->itfs[i].num_alts;
        for (uint8_t a = 0; a < last; a++) {
            index = (uint8_t)(index + (d->itfs[i].alts[a].name != NULL));
        }
    }
    return index;
}
