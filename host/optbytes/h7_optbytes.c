/* Option bytes of the STM32H74x/75x: RM0433 4.9 (FLASH registers). */
#include "h7_optbytes.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h7_util.h"

/* Offsets from FLASH_OPTSR_CUR (FLASH + 0x1C), RM0433 4.9 register map. */
#define OFF_OPTSR_CUR 0x00u  /* FLASH_OPTSR_CUR 0x1C */
#define OFF_OPTSR_PRG 0x04u  /* FLASH_OPTSR_PRG 0x20 */
#define OFF_PRAR_CUR1 0x0Cu  /* 0x28 */
#define OFF_SCAR_CUR1 0x14u  /* 0x30 */
#define OFF_WPSN_CUR1 0x1Cu  /* 0x38 */
#define OFF_WPSN_PRG1 0x20u  /* 0x3C */
#define OFF_BOOT_CURR 0x24u  /* 0x40 */
#define OFF_BOOT_PRGR 0x28u  /* 0x44 */
#define OFF_PRAR_CUR2 0x10Cu /* 0x128 */
#define OFF_SCAR_CUR2 0x114u /* 0x130 */
#define OFF_WPSN_CUR2 0x11Cu /* 0x138 */

/* FLASH_OPTSR bits (RM0433 4.9.8). */
#define OPTSR_BUSY       (1u << 0)
#define OPTSR_BOR_SHIFT  2
#define OPTSR_BOR_MASK   (3u << OPTSR_BOR_SHIFT)
#define OPTSR_IWDG1_SW   (1u << 4)
#define OPTSR_NRST_STOP  (1u << 6)
#define OPTSR_NRST_STBY  (1u << 7)
#define OPTSR_RDP_SHIFT  8
#define OPTSR_RDP_MASK   (0xFFu << OPTSR_RDP_SHIFT)
#define OPTSR_SECURITY   (1u << 21)
#define OPTSR_IO_HSLV    (1u << 29)
#define OPTSR_CHANGE_ERR (1u << 30)
#define OPTSR_SWAP_BANK  (1u << 31)
/* RDP byte values (RM0433 4.5.3): 0xAA level 0, 0xCC level 2, others level 1. */
#define RDP_LEVEL0 0xAAu
#define RDP_LEVEL1 0xBBu
#define RDP_LEVEL2 0xCCu

#define FLASH_BASE 0x08000000u
#define BANK_SIZE  0x00100000u

/* PRAR / SCAR: START [11:0], END [27:16] in 256-byte units from the bank
 * base, bit 31 erase on RDP regression (RM0433 4.9.10, 4.9.12). */
static h7_ob_area_t area(uint32_t reg, uint32_t bank_base)
{
    h7_ob_area_t a;
    uint32_t start = reg & 0xFFFu, end = (reg >> 16) & 0xFFFu;
    a.active = start <= end;
    a.start = bank_base + start * 0x100u;
    a.end = bank_base + end * 0x100u + 0xFFu;
    a.erase_on_regression = (reg >> 31) != 0;
    return a;
}

bool h7_ob_decode(const uint8_t *buf, size_t len, h7_optbytes_t *o)
{
    if (len < H7_OB_MIN) {
        return false;
    }
    memset(o, 0, sizeof(*o));
    uint32_t sr = h7_get_le32(buf + OFF_OPTSR_CUR);
    o->optsr = sr;
    o->optsr_prg = h7_get_le32(buf + OFF_OPTSR_PRG);
    o->rdp = (uint8_t)((sr & OPTSR_RDP_MASK) >> OPTSR_RDP_SHIFT);
    o->rdp_level = o->rdp == RDP_LEVEL0 ? 0 : o->rdp == RDP_LEVEL2 ? 2 : 1;
    o->bor_level = (uint8_t)((sr & OPTSR_BOR_MASK) >> OPTSR_BOR_SHIFT);
    o->iwdg1_hw = (sr & OPTSR_IWDG1_SW) == 0;
    o->nrst_stop_d1 = (sr & OPTSR_NRST_STOP) == 0;
    o->nrst_stby_d1 = (sr & OPTSR_NRST_STBY) == 0;
    o->security = (sr & OPTSR_SECURITY) != 0;
    o->io_hslv = (sr & OPTSR_IO_HSLV) != 0;
    o->swap_bank = (sr & OPTSR_SWAP_BANK) != 0;
    o->busy = (sr & OPTSR_BUSY) != 0;
    o->change_error = (sr & OPTSR_CHANGE_ERR) != 0;
    /* FLASH_BOOT_CURR: BOOT_ADD0 [15:0], BOOT_ADD1 [31:16], address bits
     * 31:16 (RM0433 4.9.15). */
    uint32_t boot = h7_get_le32(buf + OFF_BOOT_CURR);
    o->boot_add0 = (boot & 0xFFFFu) << 16;
    o->boot_add1 = boot & 0xFFFF0000u;
    /* FLASH_WPSN_CUR1R: WRPSn [7:0], 0 = sector n protected (RM0433 4.9.13). */
    o->wrp_bank1 = (uint8_t)~h7_get_le32(buf + OFF_WPSN_CUR1);
    o->pcrop1 = area(h7_get_le32(buf + OFF_PRAR_CUR1), FLASH_BASE);
    o->secure1 = area(h7_get_le32(buf + OFF_SCAR_CUR1), FLASH_BASE);
    if (len >= OFF_WPSN_CUR2 + 4u) {
        o->has_bank2 = true;
        o->wrp_bank2 = (uint8_t)~h7_get_le32(buf + OFF_WPSN_CUR2);
        o->pcrop2 = area(h7_get_le32(buf + OFF_PRAR_CUR2), FLASH_BASE + BANK_SIZE);
        o->secure2 = area(h7_get_le32(buf + OFF_SCAR_CUR2), FLASH_BASE + BANK_SIZE);
    }
    return true;
}

static size_t add(char *buf, size_t len, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static size_t add(char *buf, size_t len, size_t pos, const char *fmt, ...)
{
    if (pos >= len) {
        return pos;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + pos, len - pos, fmt, ap);
    va_end(ap);
    return n < 0 ? pos : pos + (size_t)n;
}

static size_t sectors(char *buf, size_t len, size_t pos, uint8_t mask, unsigned first)
{
    if (mask == 0) {
        return add(buf, len, pos, "none");
    }
    const char *sep = "";
    for (unsigned i = 0; i < 8; i++) {
        if (mask & (1u << i)) {
            pos = add(buf, len, pos, "%s%u", sep, first + i);
            sep = ",";
        }
    }
    return pos;
}

static size_t area_line(char *buf, size_t len, size_t pos, const char *name, const h7_ob_area_t *a)
{
    if (!a->active) {
        return add(buf, len, pos, "%-22s none\n", name);
    }
    return add(buf, len, pos, "%-22s 0x%08x..0x%08x%s\n", name, a->start, a->end,
               a->erase_on_regression ? " (erased on RDP regression)" : "");
}

size_t h7_ob_describe(const h7_optbytes_t *o, char *buf, size_t len)
{
    static const char *const rdp_text[] = {
        "level 0: no read protection",
        /* one string, split over two lines (parentheses: not two elements) */
        ("level 1: flash not readable by debugger or bootloader; going back to level 0 "
         "mass-erases the flash"),
        "level 2: permanent, debug and bootloader disabled",
    };
    static const char *const bor_text[] = {"off (VDD 1.62 V POR only)", "level 1", "level 2",
                                           "level 3"};
    size_t pos = 0;
    if (len) {
        buf[0] = '\0';
    }
    pos = add(buf, len, pos, "%-22s 0x%02x: %s\n", "read protection (RDP)", o->rdp,
              rdp_text[o->rdp_level]);
    pos = add(buf, len, pos, "%-22s 0x%08x\n", "boot address BOOT0=0", o->boot_add0);
    pos = add(buf, len, pos, "%-22s 0x%08x\n", "boot address BOOT0=1", o->boot_add1);
    pos = add(buf, len, pos, "%-22s ", "write protected");
    pos = add(buf, len, pos, "bank 1 sectors ");
    pos = sectors(buf, len, pos, o->wrp_bank1, 0);
    if (o->has_bank2) {
        pos = add(buf, len, pos, "; bank 2 sectors ");
        pos = sectors(buf, len, pos, o->wrp_bank2, 0);
    }
    pos = add(buf, len, pos, "\n");
    pos = area_line(buf, len, pos, "PCROP area bank 1", &o->pcrop1);
    pos = area_line(buf, len, pos, "secure area bank 1", &o->secure1);
    if (o->has_bank2) {
        pos = area_line(buf, len, pos, "PCROP area bank 2", &o->pcrop2);
        pos = area_line(buf, len, pos, "secure area bank 2", &o->secure2);
    }
    pos = add(buf, len, pos, "%-22s %s\n", "brown-out reset", bor_text[o->bor_level & 3]);
    pos = add(buf, len, pos, "%-22s %s\n", "IWDG1",
              o->iwdg1_hw ? "hardware (always on)" : "software");
    pos = add(buf, len, pos, "%-22s stop: %s, standby: %s\n", "reset on D1 low power",
              o->nrst_stop_d1 ? "yes" : "no", o->nrst_stby_d1 ? "yes" : "no");
    pos = add(buf, len, pos, "%-22s %s\n", "bank swap", o->swap_bank ? "swapped" : "not swapped");
    pos = add(buf, len, pos, "%-22s %s\n", "security", o->security ? "enabled" : "disabled");
    pos = add(buf, len, pos, "%-22s %s\n", "I/O high speed low V", o->io_hslv ? "on" : "off");
    if (o->busy || o->change_error) {
        pos = add(buf, len, pos, "%-22s %s%s\n", "status", o->busy ? "option change busy " : "",
                  o->change_error ? "last option change FAILED (OPTCHANGEERR)" : "");
    }
    return pos;
}

static bool parse_u32(const char *s, uint32_t *v)
{
    char *end = NULL;
    unsigned long long n = strtoull(s, &end, 0);
    if (!*s || *end || n > 0xFFFFFFFFull) {
        return false;
    }
    *v = (uint32_t)n;
    return true;
}

bool h7_ob_set(uint8_t *buf, size_t len, const char *assignment, char *err, size_t errlen)
{
    if (len < H7_OB_MIN) {
        snprintf(err, errlen, "the option-byte window is too short (%zu bytes)", len);
        return false;
    }
    const char *eq = strchr(assignment, '=');
    uint32_t v;
    if (!eq || !parse_u32(eq + 1, &v)) {
        snprintf(err, errlen, "'%s': want FIELD=VALUE", assignment);
        return false;
    }
    size_t klen = (size_t)(eq - assignment);
    uint32_t sr = h7_get_le32(buf + OFF_OPTSR_PRG);
    uint32_t boot = h7_get_le32(buf + OFF_BOOT_PRGR);
    if (klen == 5 && strncmp(assignment, "boot0", 5) == 0) {
        if (v & 0xFFFFu) {
            snprintf(err, errlen, "boot0=0x%08x: boot addresses are multiples of 64 KiB", v);
            return false;
        }
        h7_put_le32(buf + OFF_BOOT_PRGR, (boot & 0xFFFF0000u) | (v >> 16));
    } else if (klen == 5 && strncmp(assignment, "boot1", 5) == 0) {
        if (v & 0xFFFFu) {
            snprintf(err, errlen, "boot1=0x%08x: boot addresses are multiples of 64 KiB", v);
            return false;
        }
        h7_put_le32(buf + OFF_BOOT_PRGR, (boot & 0xFFFFu) | (v & 0xFFFF0000u));
    } else if (klen == 3 && strncmp(assignment, "rdp", 3) == 0) {
        if (v == 2) {
            snprintf(err, errlen,
                     "rdp=2 is permanent (no debug, no bootloader, ever): h7dfu "
                     "will not set it");
            return false;
        }
        if (v > 1) {
            snprintf(err, errlen, "rdp wants 0 or 1");
            return false;
        }
        uint32_t byte = v == 0 ? RDP_LEVEL0 : RDP_LEVEL1;
        h7_put_le32(buf + OFF_OPTSR_PRG, (sr & ~OPTSR_RDP_MASK) | byte << OPTSR_RDP_SHIFT);
    } else if ((klen == 3 && strncmp(assignment, "wrp", 3) == 0) ||
               (klen == 5 && strncmp(assignment, "wrpsn", 5) == 0)) {
        /* FLASH_WPSN_PRG1R WRPSN [7:0]: 0 = sector protected (RM0433
         * 4.9.14); the mask here is the sectors to protect (1 = protected). */
        if (v > 0xFFu) {
            snprintf(err, errlen, "wrp wants a mask of bank 1 sectors 0..7 (0x00..0xff)");
            return false;
        }
        h7_put_le32(buf + OFF_WPSN_PRG1,
                    (h7_get_le32(buf + OFF_WPSN_PRG1) & ~0xFFu) | (~v & 0xFFu));
    } else if (klen == 3 && strncmp(assignment, "bor", 3) == 0) {
        if (v > 3) {
            snprintf(err, errlen, "bor wants 0..3");
            return false;
        }
        h7_put_le32(buf + OFF_OPTSR_PRG, (sr & ~OPTSR_BOR_MASK) | v << OPTSR_BOR_SHIFT);
    } else {
        snprintf(err, errlen, "unknown option '%.*s': boot0, boot1, rdp, wrp (wrpsn) or bor",
                 (int)klen, assignment);
        return false;
    }
    return true;
}
