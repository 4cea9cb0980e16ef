/*
 * Register model of the STM32H743 embedded flash controller (FLASH, both
 * banks) on top of the flash array model sim/flash/sim_flash.h.
 *
 * Written from RM0433 chapter 4 "Embedded flash memory (FLASH)"; the FLASH
 * chapter of RM0399 (STM32H745/747, same controller, same register map and
 * section numbering) was used where the text was needed word for word.
 *
 * Register window (RM0433 4.9, register map table; Table "Flash register map
 * vs swapping option"): base 0x52002000, bank 1 registers at +0x000, bank 2
 * registers at +0x100. The registers that belong to no bank (ACR, OPTKEYR,
 * OPTCR, OPTSR_CUR/PRG, OPTCCR, BOOT_CURR/PRGR, CRCDATAR) answer at both
 * addresses. SWAP_BANK is 0 (factory) and is not modelled.
 *
 * What is modelled (details and sources in flash_ctl.c):
 *  - FLASH_ACR (LATENCY, WRHIGHFREQ), reset 0x37;
 *  - the KEYRx unlock sequence and its lock-up (4.5.1);
 *  - FLASH_CRx: LOCK, PG, SER, BER, PSIZE, FW, START, SNB, interrupt enables;
 *  - the 256-bit write buffer, programming through sim_flash_program_word()
 *    and sim_flash_force_write() (FW), sector and bank erase;
 *  - FLASH_SRx flags BSY, WBNE, QW, EOP, WRPERR, PGSERR, STRBERR, INCERR,
 *    OPERR, DBECCERR (RDPERR, RDSERR, SNECCERR, CRCEND, CRCRDERR, CRC_BUSY
 *    exist and clear, nothing raises them), FLASH_CCRx write-1-to-clear;
 *  - FLASH_ECC_FAxR, option registers read with the factory values and the
 *    write protection of sim_flash, OPTKEYR/OPTLOCK.
 * Not modelled (the access returns false, why says so): option byte change
 * (OPTSTART, _PRG writes), mass erase (MER), the CRC unit (CRC_EN, CRCCR),
 * START without SER/BER, PSIZE or WRHIGHFREQ changes while a bank works.
 *
 * Bus errors: RM0433 4.5.1 and 4.7.12 make a wrong key sequence a bus error
 * on the AHB configuration port. mcu_periph_t has no bus-error answer, so the
 * write returns false with why starting with "bus error" (the CPU side may
 * turn that into a precise BusFault instead of stopping); the lock-up until
 * the next reset is modelled either way.
 *
 * Time: programs and erases are applied to sim_flash when they start (where
 * power cuts are injected) and run on the clock's flash lane; the bank stays
 * busy (BSY, QW set, flash_ctl_bank_busy() true) until the lane reaches the
 * end of the operation. A read of FLASH_SRx while its bank is busy, in a
 * loop that reads nothing else (the previous access was a read of the same
 * FLASH_SRx: no other register, no flash array access, no other peripheral,
 * flash_ctl_note_other_access()), moves the virtual clock
 * forward by max(1 us, half the remaining time), capped at the end of the
 * operation: the firmware is polling anyway, and a polling loop then ends
 * after a logarithmic number of reads (a modelling choice). A main loop that
 * also serves USB between reads runs in its own time.
 */
#ifndef H7_MCU_FLASH_CTL_H
#define H7_MCU_FLASH_CTL_H

#include <stdbool.h>
#include <stdint.h>

#include "mcu_periph.h"
#include "sim_clock.h"
#include "sim_flash.h"

#define FLASH_CTL_BASE        0x52002000u /* RM0433 2.3.2 memory map, D1 AHB3 */
#define FLASH_CTL_SIZE        0x1000u
#define FLASH_CTL_BANK_STRIDE 0x100u

typedef struct flash_ctl flash_ctl_t;

/* flash and clock are borrowed (clock may be NULL: every operation then ends
 * at once). Returns NULL when out of memory. The model starts in its reset
 * state. */
flash_ctl_t *flash_ctl_new(sim_flash_t *flash, sim_clock_t *clock);
void flash_ctl_free(flash_ctl_t *f);

/* name "FLASH", base 0x52002000, size 0x1000. */
mcu_periph_t flash_ctl_periph(flash_ctl_t *f);

/*
 * A CPU store into the flash array (0x08000000..0x081FFFFF, size 1, 2 or 4,
 * naturally aligned): fills the write buffer (RM0433 4.3.9). The CPU has one
 * AXI write buffer (a flash word, 32 bytes); it belongs to the bank of the
 * word being filled. When its 32 bytes are in, the word is programmed
 * (sim_flash_program_word). Errors raise the flags of RM0433 4.7 and answer
 * true (no bus error on the AXI port for them). A store to another flash word
 * while the buffer is partly filled raises INCERR in the bank of the partial
 * word and in the bank of the store, and both are lost (a modelling choice
 * within 4.7.5). false only for an access the model does not take (size other
 * than 1, 2, 4 - the CPU side splits wider stores -, alignment, address
 * outside the array).
 */
bool flash_ctl_array_write(flash_ctl_t *f, uint32_t addr, unsigned size, uint32_t val,
                           const char **why);

typedef enum { FLASH_CTL_READ_OK = 0, FLASH_CTL_READ_BUS_ERROR } flash_ctl_read_t;

/*
 * A CPU load or instruction fetch from the array: BUS_ERROR on a double ECC
 * error (a word touched is SIM_WORD_ECC_CORRUPT): DBECCERR set in the bank's
 * SR and, when no ECC flag was set before, the flash word's index in the bank
 * in FLASH_ECC_FAxR (RM0433 4.7.7); the CPU side raises the precise
 * BusFault. The data itself the CPU reads from sim_flash_raw(). An address
 * outside the array answers BUS_ERROR too.
 */
flash_ctl_read_t flash_ctl_array_read(flash_ctl_t *f, uint32_t addr, unsigned size);

/*
 * True while bank (0/1) erases or programs; *until_ns (may be NULL) = when it
 * is done (virtual clock). The CPU side stalls fetches/reads from a busy bank
 * (no read-while-write in one bank, RM0433 4.3.3).
 */
bool flash_ctl_bank_busy(const flash_ctl_t *f, unsigned bank, uint64_t *until_ns);
/* The core accessed another peripheral or the flash array (see "Time"). */
void flash_ctl_note_other_access(flash_ctl_t *f);

/* The end of an operation that never ends (flash_ctl_stick); the bank then
 * reports *until_ns one second ahead at every query. */
#define FLASH_CTL_NEVER UINT64_MAX

/*
 * Fault: the n-th program or erase the controller starts (1-based, counted
 * from creation) never ends: its bank keeps BSY and QW set until the next
 * reset (a controller that hangs). n = 0: none. SR polls of that bank are not
 * fast-forwarded (there is no end). On the chip a core fetching code from that
 * bank would stall for good.
 */
void flash_ctl_stick(flash_ctl_t *f, uint64_t n);

/*
 * The flash_it line (RM0433 4.8): some SR flag of a bank is set with its
 * interrupt enable bit in that bank's CR. The NVIC side is not wired here.
 */
bool flash_ctl_irq_pending(flash_ctl_t *f);

#endif
