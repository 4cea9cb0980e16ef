/*
 * STM32H743 port: what the firmware images need from the chip, and nothing of
 * its registers. Each function names the source file that implements it.
 */
#ifndef H743_PORT_H
#define H743_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include "boot.h"
#include "flash.h"
#include "h7_target.h"

/* Memory map shared by both images (see README.md; the facts and their
 * sources: target/stm32h743/h7_target.h). */
#define H7_BOOTLOADER_ADDR H7_TARGET_BL_ADDR       /* sector 0 of bank 1 */
#define H7_APP_ADDR        H7_TARGET_APP_SLOT_ADDR /* sector 1: the app's vector table */
#define H7_ROM_BOOT_ADDR   H7_TARGET_ROM_BOOT_ADDR /* ST system memory (AN2606) */

/* --- system_clock.c ----------------------------------------------------- */
/* HSI 64 MHz -> PLL1 -> 400 MHz sys_ck, 200 MHz AXI/AHB, 100 MHz APBs; VOS1. */
void h743_clock_init(void);
/* Current sys_ck (64 MHz out of reset, 400 MHz after h743_clock_init). */
uint32_t h743_sysclk_hz(void);
/* For applications whose clock tree is set up by other code (a CubeMX
 * project's SystemClock_Config()): the CPU clock h743_delay_us() counts. */
void h743_sysclk_hz_set(uint32_t hz);
/* Busy wait on SysTick (polled, no interrupt). After h743_sysclk_hz_set(), a
 * SysTick that was running (a HAL's 1 ms tick) gets its reload value and
 * control bits back after the wait; the ticks of the wait are lost to it. */
void h743_delay_us(uint32_t us);

/* --- wait.c ------------------------------------------------------------- */
/* Bounded wait on a hardware flag: poll until (*reg & mask) == want, at most
 * polls reads. false on time-out: the caller has a defined recovery, never a
 * hang (a supply, clock or controller that never reports ready). */
bool h743_wait_reg(const volatile uint32_t *reg, uint32_t mask, uint32_t want, uint32_t polls);
/* Polls enough for any ready flag of the clock and supply start-up (PLL lock
 * and regulators take microseconds; 10^6 reads are milliseconds at 400 MHz
 * and more at 64 MHz). */
#define H7_WAIT_READY_POLLS 1000000u
/* The clock tree or the USB supply never became ready: nothing can run over
 * USB. Hand over to ST's ROM bootloader through a reset (its other
 * interfaces, e.g. USART, still reach the chip); never returns. */
__attribute__((noreturn)) void h743_hw_fail(void);

/* --- clock_us.c --------------------------------------------------------- */
/* A free-running microsecond counter from the core's cycle counter (DWT
 * CYCCNT): start it once sys_ck is final (after h743_clock_init()); read it at
 * least once per 2^32 cycles (10.7 s at 400 MHz: the bootloader's main loop
 * does). Wraps at 2^32 us. The signature is core/dfu's dfu_clock_fn. */
void h743_clock_us_start(void);
uint32_t h743_clock_us(void *user);

/* --- usb_board.c -------------------------------------------------------- */
/* USB supply (PWR_CR3), HSI48 + CRS, PA11/PA12 AF10, OTG_FS clock on.
 * Call after h743_clock_init() and before dcd_init(). */
void h743_usb_board_init(void);
/* Put the OTG_FS block back into reset and its clock off (before a jump). */
void h743_usb_board_deinit(void);

/* --- cache.c ------------------------------------------------------------ */
void h743_cache_enable(void);
/* Drop D-cache lines covering [addr, addr+len) so reads see the flash;
 * also invalidates the I-cache (code may have been rewritten). */
void h743_cache_invalidate_range(uint32_t addr, uint32_t len);

/* --- flash_h7.c --------------------------------------------------------- */
/* The H743 flash controller behind flash.h. guard_bootloader: refuse any
 * erase/program of sector 0 and erase of bank 1 (bootloader self-protection,
 * independent of the DFU layer's own check). */
const flash_dev_t *h743_flash_dev(bool guard_bootloader);
/* The map h743_flash_dev() gives (its reserved sectors are the guarded ones):
 * the signed bootloader's, with the security counter sector; NULL, the
 * chip's (flash_map_stm32h743()). Set before h743_flash_dev(). */
void h743_flash_set_map(const flash_map_t *map);

/* --- reset.c ------------------------------------------------------------ */
/* core/boot's request block (boot.h), in the shared .noinit section at
 * 0x20000000 in both images: neither start-up initialises it, and a system
 * reset keeps SRAM contents, so it carries a request across the reset. */
extern volatile boot_request_block_t h7_boot_request;

/* SCB AIRCR.SYSRESETREQ with the barriers around it. */
__attribute__((noreturn)) void h743_system_reset(void);
/* boot_request_set(&h7_boot_request, req) then h743_system_reset(). */
__attribute__((noreturn)) void h743_reset_with_request(boot_request_t req);
/* From the reset state only: VTOR, MSP and PC from the vector table at addr;
 * CONTROL and CPACR back to their reset values (start-up enabled the FPU). */
__attribute__((noreturn)) void h743_jump_to_vectors(uint32_t addr);

/* True when the core was not started from reset but jumped to with the
 * clock tree or USB already set up (ST's ROM bootloader's "leave" does that):
 * sys_ck is not HSI, or the OTG_FS clock is on. Call before h743_clock_init(). */
bool h743_started_dirty(void);

/* --- uid.c -------------------------------------------------------------- */
/* 24 hex digits of the 96-bit unique ID, NUL terminated. */
void h743_serial_string(char out[25]);

/* --- startup.c ---------------------------------------------------------- */
/* Called by Reset_Handler once .data/.bss are set up and the FPU is enabled,
 * before clocks, caches or any peripheral are touched; may not return. Weak
 * no-op by default; the bootloader overrides it with the boot decision. */
void h743_early_boot(void);

#endif
