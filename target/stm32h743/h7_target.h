/*
 * The STM32H743 target description: every fact of the chip that the portable
 * code (core/) and the firmware's portable halves depend on, in one header.
 *
 * The header contract: core/ includes "h7_target.h" and finds it on the
 * include path; each target has a folder of its own with this file (this
 * one, target/stm32h743/, is the only real chip; tests/target_fake/ holds a
 * made-up one that proves core/ builds for another). A target defines every
 * H7_TARGET_* macro of the "required" part below, as compile-time constants:
 * the firmware pays nothing for the indirection. The port
 * (port/stm32h743), the virtual board (sim/) and the host tools (host/)
 * take the H743's facts from here as well.
 *
 * Sources: RM0433 (STM32H742/743/750/753 reference manual), DS12110
 * (STM32H742xI/G STM32H743xI/G datasheet), AN2606 (system memory boot mode).
 */
#ifndef H7_TARGET_H
#define H7_TARGET_H

#include "flash_map.h"

/* ---- flash geometry (the maps in target_stm32h743.c) ----
 *
 * RM0433 4.3.4 "Flash memory architecture and usage", table "Flash memory
 * organization" for STM32H742xI/743xI/753xI: 2 MiB in 2 banks, bank 1 at
 * 0x0800 0000 and bank 2 at 0x0810 0000, each 8 sectors of 128 Kbytes (RM0433
 * 4.3.1 and Table 7); the flash word (programming unit, ECC granule) is 256
 * bits and is programmed once between erases (RM0433 4.3.9).
 */
#define H7_TARGET_FLASH_NAME             "Internal Flash"
#define H7_TARGET_FLASH_BASE             0x08000000u
#define H7_TARGET_FLASH_SECTOR_SIZE      0x00020000u /* 128 KiB */
#define H7_TARGET_FLASH_SECTOR_COUNT     16u         /* both banks */
#define H7_TARGET_FLASH_SECTORS_PER_BANK 8u
#define H7_TARGET_FLASH_WORD_SIZE        32u /* 256 bits */
/* Sector 0 of bank 1 holds the h7dfu bootloader and is never written by DFU. */
#define H7_TARGET_FLASH_RESERVED 0x0001u
/* The signed bootloader's map: sector 14 (0x081C0000) holds its security
 * counter log (core/boot/boot_sig.h) and is reserved as well, so the slot is
 * sectors 1..13. Outside sector 0, that log survives a write protection of
 * sector 0 (WRPSN) and a reflash of the bootloader. */
#define H7_TARGET_FLASH_RESERVED_SIGNED 0x4001u

/* ---- required by core/ ---- */

/*
 * Flash layout (core/boot/image_header.h: the record area is the map's last
 * sector, the slot runs from its start to the record area or the next
 * reserved sector):
 *
 *   0x08000000  sector 0        bootloader (reserved in the flash map)
 *   0x08020000  sectors 1..14   application slot, 1.75 MiB: the application's
 *                               vector table at the slot start (the app is
 *                               linked at 0x08020000), then its code
 *   0x081E0000  sector 15       record area, 128 KiB (bank 2's last sector)
 */
#define H7_TARGET_BL_ADDR       0x08000000u /* sector 0, bank 1 (RM0433 4.3.4) */
#define H7_TARGET_BL_SIZE       0x00020000u /* one sector */
#define H7_TARGET_APP_SLOT_ADDR 0x08020000u /* sector 1 */
#define H7_TARGET_APP_SLOT_SIZE 0x001C0000u /* sectors 1..14 */
#define H7_TARGET_REC_AREA_ADDR 0x081E0000u /* sector 15 */
#define H7_TARGET_REC_AREA_SIZE 0x00020000u

/* The same numbers as text, for messages (core/boot/bl_ident.h). */
#define H7_TARGET_BL_ADDR_TEXT   "0x08000000"
#define H7_TARGET_BL_REGION_TEXT "sector 0"

/* DEV_ID, bits 11:0 of DBGMCU_IDC at 0x5C001000: 0x450 for STM32H742/743/
 * 750/753 (RM0433 "DBGMCU identity code register (DBGMCU_IDC)", 61.5.8 by our
 * reading; the number moves between revisions). The image record and the
 * bootloader identity carry it. */
#define H7_TARGET_DEVICE_ID 0x450u

/* The vector table: 16 core vectors + 150 interrupt positions (RM0433
 * "Interrupt and exception vectors"; port/stm32h743/startup.c), 166 x 4
 * bytes. The bootloader's identity follows it (core/boot/bl_ident.h). */
#define H7_TARGET_VECTOR_TABLE_SIZE      0x298u
#define H7_TARGET_VECTOR_TABLE_SIZE_TEXT "0x298"

/*
 * RAM an application's initial stack pointer may point into, as X(start,
 * end) pairs: RM0433 2.3.1 "Memory map": DTCM 128 KiB at 0x2000 0000, AXI
 * SRAM 512 KiB at 0x2400 0000. The initial SP is the top of the stack (full
 * descending), so end itself is allowed and start is not
 * (core/boot/boot_validate.c).
 */
#define H7_TARGET_SP_RAM(X) X(0x20000000u, 0x20020000u) X(0x24000000u, 0x24080000u)

/* ST's system memory bootloader entry on the STM32H742/743/750/753: its
 * vector table (AN2606, "STM32H74xxx/75xxx devices bootloader": system memory
 * 0x1FF0 0000, bootloader code from 0x1FF0 9800 by our reading). */
#define H7_TARGET_ROM_BOOT_ADDR 0x1FF09800u

/*
 * Typical flash timings, the DFU driver's bwPollTimeout defaults (core/dfu/
 * dfu.h): DS12110 6.3.11 table "Flash memory programming", program/erase
 * parallelism x64 (port/stm32h743/flash_h7.c programs and erases with PSIZE
 * x64): sector erase 128 KiB (tERASE128KB) 1 s typ, flash word (256 bits +
 * ECC, tprog) programming 100 us typ.
 */
#define H7_TARGET_ERASE_SECTOR_MS 1000u
#define H7_TARGET_PROGRAM_WORD_US 100u
/* CRC-32 over flash by the CPU (bytewise, 16-entry table, flash reads with
 * wait states): about 20 ns per byte at 400 MHz. */
#define H7_TARGET_CRC_NS_PER_BYTE 20u

/* ---- the flash maps (target_stm32h743.c) ---- */

/* STM32H743xI: the geometry above, sector 0 reserved (the bootloader). */
const flash_map_t *flash_map_stm32h743(void);
/* The same chip for the signed bootloader: sector 14 is reserved too (the
 * security counter log, core/boot/boot_sig.h). */
const flash_map_t *flash_map_stm32h743_signed(void);

/* The H743's device id by name, for the code that deals with this chip only
 * (the host tool, the firmware's wiring, tests). */
#define BOOT_DEVICE_ID_H743 H7_TARGET_DEVICE_ID

#endif
