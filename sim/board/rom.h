/*
 * A model of ST's system-memory (ROM) bootloader of the STM32H742/743/750/753
 * in its USB DFU mode, for the virtual board's "ROM board" (h7dfu-sim --rom):
 * a board that keeps ST's bootloader and has no h7dfu bootloader, as the board
 * of the reported field failure does. It is a model of ST's code, not ours, so it does not
 * reuse core/dfu's state machine: a small DfuSe responder (AN3156) over the
 * device core (core/usb) with two alternate settings, the internal flash and
 * an option-byte register store. docs/rom-bootloader.md lists every fact and
 * where it comes from.
 *
 * Wire identity (checked against dfu-util listings of real H743 ROMs, see
 * docs/rom-bootloader.md): 0483:DF11, bcdDevice 0x0200, product "DFU in FS
 * Mode", serial of 12 upper-case hex digits derived from the unique ID,
 * bcdDFUVersion 0x011A, bmAttributes 0x0B, wDetachTimeOut 255 ms, and
 *   alt 0 "@Internal Flash   /0x08000000/16*128Kg"
 *   alt 1 "@Option Bytes   /0x5200201C/01*128 e"
 *
 * Its leave (set address, zero-length DNLOAD, GETSTATUS -> dfuMANIFEST) does
 * NOT reset the chip: rom_task() reports ROM_EV_JUMP and the board starts the
 * code at the address pointer with the ROM's USB and clock set-up left behind.
 */
#ifndef H7_SIM_ROM_H
#define H7_SIM_ROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flash.h"

#define ROM_VID        0x0483u
#define ROM_PID        0xDF11u
#define ROM_BCD_DEVICE 0x0200u
/* wTransferSize of the H7 ROM (docs/rom-bootloader.md: by our reading). */
#define ROM_XFER_SIZE 1024u

/* System memory of the H74x/75x (RM0433 "Memory map and register boundary
 * addresses": 0x1FF0 0000, 128 KiB); AN2606 pattern 10 starts the
 * bootloader when the selected BOOT_ADDx is 0x1FF0. */
#define ROM_SYSMEM_BASE 0x1FF00000u
#define ROM_SYSMEM_SIZE 0x00020000u

/* The option-byte window the ROM shows on alt 1: the FLASH option registers
 * from FLASH_OPTSR_CUR (RM0433 4.9.8, FLASH base 0x52002000 + 0x1C). */
#define ROM_OB_BASE 0x5200201Cu
#define ROM_OB_SIZE 128u

/* Offsets in the window (RM0433 4.9 register map, minus 0x1C). */
#define ROM_OB_OPTSR_CUR 0x00u /* FLASH_OPTSR_CUR  0x1C */
#define ROM_OB_OPTSR_PRG 0x04u /* FLASH_OPTSR_PRG  0x20 */
#define ROM_OB_PRAR_CUR1 0x0Cu /* FLASH_PRAR_CUR1  0x28 */
#define ROM_OB_PRAR_PRG1 0x10u /* FLASH_PRAR_PRG1  0x2C */
#define ROM_OB_SCAR_CUR1 0x14u /* FLASH_SCAR_CUR1  0x30 */
#define ROM_OB_SCAR_PRG1 0x18u /* FLASH_SCAR_PRG1  0x34 */
#define ROM_OB_WPSN_CUR1 0x1Cu /* FLASH_WPSN_CUR1R 0x38 */
#define ROM_OB_WPSN_PRG1 0x20u /* FLASH_WPSN_PRG1R 0x3C */
#define ROM_OB_BOOT_CUR  0x24u /* FLASH_BOOT_CURR  0x40 */
#define ROM_OB_BOOT_PRG  0x28u /* FLASH_BOOT_PRGR  0x44 */

/* Factory state (RM0433 4.4 "Option bytes", default values): RDP 0xAA (level
 * 0), BOOT_ADD0 0x0800 (flash), BOOT_ADD1 0x1FF0 (system memory), no write
 * protection, no PCROP / secure area. */
void rom_ob_factory(uint8_t ob[ROM_OB_SIZE]);
uint32_t rom_ob_boot_addr(const uint8_t ob[ROM_OB_SIZE], bool boot0_pin);
uint8_t rom_ob_rdp(const uint8_t ob[ROM_OB_SIZE]);
/* Write-protected bank-1 sector mask (bit n: sector n). */
uint8_t rom_ob_wrp_bank1(const uint8_t ob[ROM_OB_SIZE]);
/* Set it (FLASH_WPSN_CUR1R and _PRG1R: the option bytes as loaded). */
void rom_ob_set_wrp_bank1(uint8_t ob[ROM_OB_SIZE], uint8_t mask);

/* ST's serial format: 12 upper-case hex digits from the 96-bit unique ID
 * (RM0433 "Device electronic signature", UID at 0x1FF1E800): (UID0 + UID2) as 8 digits, then the
 * upper half of UID1 as 4. */
void rom_serial_from_uid(const uint32_t uid[3], char out[13]);

/* A vector table the core can start from: initial SP in DTCM / AXI SRAM,
 * reset vector Thumb and inside the flash. */
bool rom_vector_plausible(const flash_dev_t *flash, uint32_t addr);

/* "errWRITE", "errTARGET", ... or a number 1..15; false when unknown. */
bool rom_parse_status(const char *s, uint8_t *status);

/* The reported field failure, injected: the Nth data block (DNLOAD wValue >= 2 on the
 * flash alt setting, 1 = the first one of the run) fails once with status. */
typedef struct rom_fault {
    uint32_t fail_block; /* 0: none */
    uint8_t status;      /* DFU status code (default errWRITE) */
    uint32_t seen;       /* data blocks seen so far (kept across resets) */
    bool fired;
} rom_fault_t;

typedef struct rom_config {
    const flash_dev_t *flash;
    uint8_t *ob;        /* ROM_OB_SIZE bytes, kept by the board (they live in flash) */
    rom_fault_t *fault; /* may be NULL */
    const char *serial; /* rom_serial_from_uid() */
    bool fast;          /* bwPollTimeout / 1000 */
} rom_config_t;

typedef enum rom_event {
    ROM_EV_NONE = 0,
    ROM_EV_JUMP,  /* leave: start the code at rom_jump_address(), no reset */
    ROM_EV_RESET, /* option bytes applied or read unprotect done: system reset */
} rom_event_t;

/* Build the device (the caller then calls usbd_connect()). */
bool rom_usb_init(const rom_config_t *cfg);
/* One main-loop step. */
rom_event_t rom_task(void);
uint32_t rom_jump_address(void);
/* Last injected or real failure, for the board's event log ("" if none). */
const char *rom_last_note(void);

#endif
