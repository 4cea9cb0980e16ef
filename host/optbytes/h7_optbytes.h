/*
 * STM32H74x/75x option bytes as ST's ROM bootloader shows them: its DfuSe
 * alternate setting "@Option Bytes   /0x5200201C/01*128 e" maps the flash
 * controller's option registers from FLASH_OPTSR_CUR (RM0433 4.9.8) onwards.
 * Decoded into fields for `h7dfu option-bytes`, and changed only in the
 * *_PRG copies, which the device applies at the next option-byte load.
 */
#ifndef H7_OPTBYTES_H
#define H7_OPTBYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define H7_OB_BASE 0x5200201Cu /* FLASH_OPTSR_CUR: FLASH base 0x52002000 + 0x1C */
#define H7_OB_MIN  0x2Cu       /* bytes up to and including FLASH_BOOT_PRGR */

typedef struct h7_ob_area {
    bool active;              /* start <= end */
    uint32_t start, end;      /* absolute flash addresses, end inclusive of its 256-byte unit */
    bool erase_on_regression; /* DMEP / DMES */
} h7_ob_area_t;

typedef struct h7_optbytes {
    uint32_t optsr;     /* FLASH_OPTSR_CUR */
    uint32_t optsr_prg; /* FLASH_OPTSR_PRG */
    uint8_t rdp;        /* raw RDP byte */
    int rdp_level;      /* 0, 1 or 2 */
    uint8_t bor_level;  /* BOR_LEV: 0 = off, 1..3 = levels 1..3 */
    bool iwdg1_hw;      /* IWDG1 started by hardware (IWDG1_SW = 0) */
    bool nrst_stop_d1;  /* reset on D1 Stop entry (bit = 0) */
    bool nrst_stby_d1;  /* reset on D1 Standby entry (bit = 0) */
    bool security;      /* secure access mode */
    bool io_hslv;       /* I/O high speed at low voltage */
    bool swap_bank;     /* banks swapped */
    bool busy;          /* OPT_BUSY */
    bool change_error;  /* OPTCHANGEERR */
    uint32_t boot_add0; /* CM7 boot address with BOOT0 = 0 */
    uint32_t boot_add1; /* CM7 boot address with BOOT0 = 1 */
    uint8_t wrp_bank1;  /* bit n: sector n of bank 1 write protected */
    bool has_bank2;     /* the window reached the bank 2 registers */
    uint8_t wrp_bank2;
    h7_ob_area_t pcrop1, secure1, pcrop2, secure2;
} h7_optbytes_t;

/* Decode len bytes read at H7_OB_BASE. False when len < H7_OB_MIN. */
bool h7_ob_decode(const uint8_t *buf, size_t len, h7_optbytes_t *out);

/* Human-readable summary, one field a line. Returns the length. */
size_t h7_ob_describe(const h7_optbytes_t *ob, char *buf, size_t len);

/* Change one field in the programming copies of buf (as read at H7_OB_BASE):
 * "boot0=ADDR", "boot1=ADDR", "rdp=0|1" (level 2 is permanent and refused),
 * "wrp=MASK" or "wrpsn=MASK" (bank 1 sectors to protect, bit n = sector n:
 * 0x01 = sector 0, the h7dfu bootloader), "bor=0..3". False with a message
 * in err for an unknown field, a bad value, or a refused change. */
bool h7_ob_set(uint8_t *buf, size_t len, const char *assignment, char *err, size_t errlen);

#endif
