/*
 * A made-up chip, "FAKE-1", for test_target_fake: core/ built unchanged
 * against a second target description (the header contract of
 * target/stm32h743/h7_target.h). Nothing like the STM32H743: one bank of
 * twelve 16 KiB sectors at 0x10000000, 16-byte flash words, a bootloader of
 * two sectors, one RAM window, another device id and ROM address.
 *
 *   0x10000000  sectors 0..1    bootloader (reserved)
 *   0x10008000  sectors 2..10   application slot, 144 KiB
 *   0x1002C000  sector 11       record area, 16 KiB (256 records)
 */
#ifndef H7_TARGET_H
#define H7_TARGET_H

#include "flash_map.h"

#define H7_TARGET_FLASH_NAME             "Fake Flash"
#define H7_TARGET_FLASH_BASE             0x10000000u
#define H7_TARGET_FLASH_SECTOR_SIZE      0x00004000u /* 16 KiB */
#define H7_TARGET_FLASH_SECTOR_COUNT     12u
#define H7_TARGET_FLASH_SECTORS_PER_BANK 12u /* one bank */
#define H7_TARGET_FLASH_WORD_SIZE        16u
#define H7_TARGET_FLASH_RESERVED         0x0003u /* sectors 0 and 1 */

#define H7_TARGET_BL_ADDR       0x10000000u
#define H7_TARGET_BL_SIZE       0x00008000u /* two sectors */
#define H7_TARGET_APP_SLOT_ADDR 0x10008000u /* sector 2 */
#define H7_TARGET_APP_SLOT_SIZE 0x00024000u /* sectors 2..10 */
#define H7_TARGET_REC_AREA_ADDR 0x1002C000u /* sector 11 */
#define H7_TARGET_REC_AREA_SIZE 0x00004000u

#define H7_TARGET_BL_ADDR_TEXT   "0x10000000"
#define H7_TARGET_BL_REGION_TEXT "sectors 0..1"

#define H7_TARGET_DEVICE_ID 0x123u

/* 16 core vectors + 32 interrupts. */
#define H7_TARGET_VECTOR_TABLE_SIZE      0xC0u
#define H7_TARGET_VECTOR_TABLE_SIZE_TEXT "0xC0"

/* One SRAM of 64 KiB. */
#define H7_TARGET_SP_RAM(X) X(0x30000000u, 0x30010000u)

#define H7_TARGET_ROM_BOOT_ADDR 0x00F00000u

#define H7_TARGET_ERASE_SECTOR_MS 40u
#define H7_TARGET_PROGRAM_WORD_US 20u
#define H7_TARGET_CRC_NS_PER_BYTE 50u

/* The chip's map (target_fake.c). */
const flash_map_t *flash_map_fake(void);

#endif
