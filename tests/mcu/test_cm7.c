/*
 * The emulated Cortex-M7 (sim/mcu/cm7.h) on tiny Thumb programs in RAM, with
 * a flash-array stand-in, one register model and the system callbacks of
 * this file: precise BusFaults from a bad ECC word (stacked PC and registers
 * as at the load), BFHFNMIGN, lockup in the HardFault handler, the PSP frame,
 * imprecise store faults (pending under FAULTMASK), unmodelled registers, a
 * register's "bus error", and the clock.
 *
 * The programs were assembled with arm-none-eabi-as -mcpu=cortex-m7 -mthumb;
 * each listing is next to its bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cm7.h"
#include "h7_util.h"

#define RAM_BASE  0x20000000u
#define RAM_SIZE  0x10000u
#define MSP_TOP   0x20008000u
#define PROG      0x20000100u /* reset handler: the program under test */
#define HANDLER   0x20000200u /* HardFault handler */
#define ARR_BASE  0x08000000u
#define ARR_SIZE  0x10000u
#define BAD_WORD  0x08000100u /* double ECC error */
#define PERIPH    0x40000000u
#define CPU_HZ    100000000u
#define BFHFNMIGN (1u << 8)

/* 0: movw r0,#0x100; 4: movt r0,#0x800; 8: movs r1,#0x77; a: movs r2,#5;
 * c: movs r3,#6; e: ldr r1,[r0]; 10: movs r2,#1; 12: movs r3,#2; 14: b . */
static const uint8_t prog_load_fault[] = {0x40, 0xf2, 0x00, 0x10, 0xc0, 0xf6, 0x00, 0x00,
                                          0x77, 0x21, 0x05, 0x22, 0x06, 0x23, 0x01, 0x68,
                                          0x01, 0x22, 0x02, 0x23, 0xfe, 0xe7};
#define LOAD_FAULT_LDR (PROG + 0xEu)
/* 0: cpsid f; then prog_load_fault: 10: ldr r1,[r0]; 16: b . */
static const uint8_t prog_load_ignored[] = {0x71, 0xb6, 0x40, 0xf2, 0x00, 0x10, 0xc0, 0xf6,
                                            0x00, 0x00, 0x77, 0x21, 0x05, 0x22, 0x06, 0x23,
                                            0x01, 0x68, 0x01, 0x22, 0x02, 0x23, 0xfe, 0xe7};
/* 0: movw r0,#0x6000; 4: movt r0,#0x2000; 8: msr psp,r0; c: movs r0,#2;
 * e: msr control,r0; 12: isb; 16: movw r0,#0x100; 1a: movt r0,#0x800;
 * 1e: ldr r1,[r0]; 20: b . */
static const uint8_t prog_psp_fault[] = {0x46, 0xf2, 0x00, 0x00, 0xc2, 0xf2, 0x00, 0x00, 0x80,
                                         0xf3, 0x09, 0x88, 0x02, 0x20, 0x80, 0xf3, 0x14, 0x88,
                                         0xbf, 0xf3, 0x6f, 0x8f, 0x40, 0xf2, 0x00, 0x10, 0xc0,
                                         0xf6, 0x00, 0x00, 0x01, 0x68, 0xfe, 0xe7};
#define PSP_TOP 0x20006000u
/* 0: movw r0,#0; 4: movt r0,#0x6000; 8: movs r1,#9; a: movs r2,#0;
 * c: str r1,[r0]; e: movs r2,#1; 10: movs r3,#2; 12: b . */
static const uint8_t prog_store_unmapped[] = {0x40, 0xf2, 0x00, 0x00, 0xc6, 0xf2, 0x00,
                                              0x00, 0x09, 0x21, 0x00, 0x22, 0x01, 0x60,
                                              0x01, 0x22, 0x02, 0x23, 0xfe, 0xe7};
#define STORE_STR (PROG + 0xCu)
/* 0: cpsid f; 2: movw r0,#0; 6: movt r0,#0x6000; a: movs r1,#9; c: movs r2,#0;
 * e: str r1,[r0]; 10: movs r2,#1; 12: cpsie f; 14: movs r3,#2; 16: b . */
static const uint8_t prog_store_masked[] = {0x71, 0xb6, 0x40, 0xf2, 0x00, 0x00, 0xc6, 0xf2,
                                            0x00, 0x00, 0x09, 0x21, 0x00, 0x22, 0x01, 0x60,
                                            0x01, 0x22, 0x61, 0xb6, 0x02, 0x23, 0xfe, 0xe7};
/* 0: movw r0,#0; 4: movt r0,#0x4000; 8: ldr r1,[r0,#4]; a: b . */
static const uint8_t prog_unmodelled[] = {0x40, 0xf2, 0x00, 0x00, 0xc4, 0xf2,
                                          0x00, 0x00, 0x41, 0x68, 0xfe, 0xe7};
/* 0: movw r0,#0; 4: movt r0,#0x4000; 8: movs r1,#1; a: str r1,[r0,#8];
 * c: movs r2,#1; e: movs r3,#2; 10: b . */
static const uint8_t prog_bus_error[] = {0x40, 0xf2, 0x00, 0x00, 0xc4, 0xf2, 0x00, 0x00, 0x01,
                                         0x21, 0x81, 0x60, 0x01, 0x22, 0x02, 0x23, 0xfe, 0xe7};
#define BUS_ERROR_STR (PROG + 0xAu)
/* 0: movw r0,#0x100; 4: movt r0,#0x800; 8: ldr r5,[r0,#4] (a good word);
 * a: ldr.w r1,[r0]; e: movs r2,#1; 10: b . */
static const uint8_t prog_decoy[] = {0x40, 0xf2, 0x00, 0x10, 0xc0, 0xf6, 0x00, 0x00, 0x45,
                                     0x68, 0xd0, 0xf8, 0x00, 0x10, 0x01, 0x22, 0xfe, 0xe7};
/* 0: movw r0,#0; 4: movt r0,#0x4000; 8: movs r2,#7; a: ldr r1,[r0,#12];
 * c: movs r2,#1; e: b . */
static const uint8_t prog_bus_error_read[] = {0x40, 0xf2, 0x00, 0x00, 0xc4, 0xf2, 0x00, 0x00,
                                              0x07, 0x22, 0xc1, 0x68, 0x01, 0x22, 0xfe, 0xe7};
/* 0: b . */
static const uint8_t prog_spin[] = {0xfe, 0xe7};
/* HardFault handler that faults again: 0: ldr r1,[r0]; 2: b . */
static const uint8_t prog_handler_bad_load[] = {0x01, 0x68, 0xfe, 0xe7};

/* ---- the test chip ---- */

typedef struct {
    sim_clock_t clock;
    elf_syms_t *syms;
    cm7_t *cpu;
    uint8_t *ram;
    uint8_t *mirror;
    uint32_t ccr;
    unsigned busfaults, imprecise, forced, periph_writes;
    uint32_t bfar;
    uint32_t vectactive;
    char elf_path[64];
} chip_t;

static bool arr_store(void *ctx, uint32_t addr, unsigned size, uint32_t val, const char **why)
{
    (void)ctx;
    (void)addr;
    (void)size;
    (void)val;
    *why = "no programming in this test";
    return false;
}

static bool arr_load_ok(void *ctx, uint32_t addr, unsigned size)
{
    (void)ctx;
    return !(addr < BAD_WORD + 4u && addr + size > BAD_WORD);
}

static uint64_t arr_busy_until(void *ctx, uint32_t addr)
{
    (void)ctx;
    (void)addr;
    return 0;
}

static void arr_sync(void *ctx)
{
    (void)ctx;
}

static uint32_t sys_vtor(void *ctx)
{
    (void)ctx;
    return RAM_BASE;
}

static uint32_t sys_ccr(void *ctx)
{
    return ((chip_t *)ctx)->ccr;
}

static void sys_busfault(void *ctx, uint32_t addr, bool precise)
{
    chip_t *t = ctx;
    if (precise) {
        t->busfaults++;
        t->bfar = addr;
    } else {
        t->imprecise++;
    }
}

static void sys_forced(void *ctx)
{
    ((chip_t *)ctx)->forced++;
}

static uint32_t sys_cpu_hz(void *ctx)
{
    (void)ctx;
    return CPU_HZ;
}

static void sys_vectactive(void *ctx, uint32_t exception)
{
    ((chip_t *)ctx)->vectactive = exception;
}

/* TESTP: +0 reads 0x1234 and takes writes, +8 refuses writes and +12 reads
 * as the chip's bus error, anything else is not modelled. */
static bool tp_read(void *ctx, uint32_t off, unsigned size, uint32_t *val, const char **why)
{
    (void)ctx;
    (void)size;
    if (off == 0) {
        *val = 0x1234u;
        return true;
    }
    if (off == 12) {
        *why = "bus error: read refused (test)";
        return false;
    }
    *why = "no such register in this test";
    return false;
}

static bool tp_write(void *ctx, uint32_t off, unsigned size, uint32_t val, const char **why)
{
    (void)size;
    (void)val;
    chip_t *t = ctx;
    if (off == 0) {
        t->periph_writes++;
        return true;
    }
    if (off == 8) {
        *why = "bus error: wrong key sequence (test)";
        return false;
    }
    *why = "no such register in this test";
    return false;
}

/* A 32-bit ELF with one function symbol, test_prog at PROG (0x100 bytes),
 * for the names in the messages. */
static void write_syms_elf(const char *path)
{
    static const char strtab[] = "\0test_prog";
    uint8_t b[52 + 32 + sizeof strtab + 3 * 40];
    memset(b, 0, sizeof b);
    uint32_t symoff = 52, stroff = symoff + 32, shoff = stroff + (uint32_t)sizeof strtab;
    memcpy(b,
           "\x7f"
           "ELF",
           4);
    b[4] = 1; /* ELFCLASS32 */
    b[5] = 1; /* ELFDATA2LSB */
    b[6] = 1;
    h7_put_le32(b + 32, shoff);
    h7_put_le16(b + 40, 52);
    h7_put_le16(b + 46, 40);
    h7_put_le16(b + 48, 3);
    uint8_t *sym = b + symoff + 16; /* entry 0 stays null */
    h7_put_le32(sym, 1);
    h7_put_le32(sym + 4, PROG | 1u);
    h7_put_le32(sym + 8, 0x100u);
    sym[12] = 0x12; /* STB_GLOBAL, STT_FUNC */
    memcpy(b + stroff, strtab, sizeof strtab);
    uint8_t *sh = b + shoff + 40; /* [1] .symtab */
    h7_put_le32(sh + 4, 2);
    h7_put_le32(sh + 16, symoff);
    h7_put_le32(sh + 20, 32);
    h7_put_le32(sh + 24, 2);
    h7_put_le32(sh + 36, 16);
    sh += 40; /* [2] .strtab */
    h7_put_le32(sh + 4, 3);
    h7_put_le32(sh + 16, stroff);
    h7_put_le32(sh + 20, (uint32_t)sizeof strtab);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, sizeof b, f), sizeof b);
    fclose(f);
}

static chip_t *chip_new(const uint8_t *prog, size_t len, const uint8_t *handler, size_t hlen)
{
    chip_t *t = calloc(1, sizeof *t);
    assert_non_null(t);
    sim_clock_init(&t->clock);
    t->syms = elf_syms_new();
    assert_non_null(t->syms);
    snprintf(t->elf_path, sizeof t->elf_path, "/tmp/test_cm7_XXXXXX");
    int fd = mkstemp(t->elf_path);
    assert_true(fd >= 0);
    close(fd);
    write_syms_elf(t->elf_path);
    assert_int_equal(elf_syms_add_file(t->syms, t->elf_path), 0);
    t->ram = calloc(1, RAM_SIZE);
    t->mirror = calloc(1, ARR_SIZE);
    assert_non_null(t->ram);
    assert_non_null(t->mirror);
    for (uint32_t i = 0; i < ARR_SIZE; i += 4u) {
        h7_put_le32(t->mirror + i, 0xA5000000u | i);
    }
    h7_put_le32(t->ram + 0, MSP_TOP);
    h7_put_le32(t->ram + 4, PROG | 1u);
    h7_put_le32(t->ram + 12, HANDLER | 1u);
    memcpy(t->ram + (PROG - RAM_BASE), prog, len);
    if (!handler) {
        handler = prog_spin;
        hlen = sizeof prog_spin;
    }
    memcpy(t->ram + (HANDLER - RAM_BASE), handler, hlen);

    t->cpu = cm7_new(&t->clock, t->syms);
    assert_non_null(t->cpu);
    assert_true(cm7_map_ram(t->cpu, RAM_BASE, RAM_SIZE, t->ram));
    cm7_array_t arr = {.base = ARR_BASE,
                       .size = ARR_SIZE,
                       .mirror = t->mirror,
                       .ctx = t,
                       .store = arr_store,
                       .load_ok = arr_load_ok,
                       .busy_until = arr_busy_until,
                       .sync = arr_sync};
    cm7_set_array(t->cpu, &arr);
    mcu_periph_t p = {.name = "TESTP",
                      .base = PERIPH,
                      .size = 0x400u,
                      .ctx = t,
                      .read = tp_read,
                      .write = tp_write};
    assert_true(cm7_add_periph(t->cpu, &p));
    cm7_system_t sys = {.ctx = t,
                        .vtor = sys_vtor,
                        .ccr = sys_ccr,
                        .busfault = sys_busfault,
                        .hardfault_forced = sys_forced,
                        .cpu_hz = sys_cpu_hz,
                        .vectactive = sys_vectactive};
    cm7_set_system(t->cpu, &sys);
    assert_true(cm7_reset(t->cpu, RAM_BASE));
    return t;
}

static void chip_free(chip_t *t)
{
    cm7_free(t->cpu);
    elf_syms_free(t->syms);
    unlink(t->elf_path);
    free(t->ram);
    free(t->mirror);
    free(t);
}

/* Run the next microsecond of virtual time. */
static cm7_result_t run_us(chip_t *t)
{
    return cm7_run(t->cpu, sim_clock_now_ns(&t->clock) + 1000u);
}

static uint32_t ram32(const chip_t *t, uint32_t addr)
{
    return h7_get_le32(t->ram + (addr - RAM_BASE));
}

/* The basic frame at sp: R0-R3, R12, LR, return address, xPSR. */
typedef struct {
    uint32_t r[4], r12, lr, pc, xpsr;
} frame_t;

static frame_t frame_at(const chip_t *t, uint32_t sp)
{
    frame_t f;
    for (unsigned i = 0; i < 4; i++) {
        f.r[i] = ram32(t, sp + 4u * i);
    }
    f.r12 = ram32(t, sp + 16u);
    f.lr = ram32(t, sp + 20u);
    f.pc = ram32(t, sp + 24u);
    f.xpsr = ram32(t, sp + 28u);
    return f;
}

/* In the HardFault handler: PC, IPSR, the SCB told. */
static void assert_in_hardfault(const chip_t *t)
{
    assert_false(cm7_halted(t->cpu));
    assert_int_equal(cm7_pc(t->cpu), HANDLER);
    assert_int_equal(t->vectactive, 3);
    assert_int_equal(t->forced, 1);
}

/* ---- tests ---- */

static void test_ecc_load_precise(void **state)
{
    (void)state;
    chip_t *t = chip_new(prog_load_fault, sizeof prog_load_fault, NULL, 0);
    assert_int_equal(run_us(t), CM7_STOPPED);
    assert_in_hardfault(t);
    assert_int_equal(t->busfaults, 1);
    assert_int_equal(t->bfar, BAD_WORD);
    assert_int_equal(t->imprecise, 0);
    frame_t f = frame_at(t, MSP_TOP - 32u);
    assert_int_equal(f.pc, LOAD_FAULT_LDR); /* the load itself */
    assert_int_equal(f.r[0], BAD_WORD);
    assert_int_equal(f.r[1], 0x77); /* not written by the faulting load */
    assert_int_equal(f.r[2], 5);    /* nothing after it ran */
    assert_int_equal(f.r[3], 6);
    assert_int_equal(f.xpsr & 0x1FFu, 0);     /* thread mode */
    assert_true((f.xpsr & (1u << 24)) != 0u); /* T */
    chip_free(t);
}

static void test_ecc_load_ignored_bfhfnmign(void **state)
{
    (void)state;
    chip_t *t = chip_new(prog_load_ignored, sizeof prog_load_ignored, NULL, 0);
    t->ccr = BFHFNMIGN;
    assert_int_equal(run_us(t), CM7_RAN);
    assert_false(cm7_halted(t->cpu));
    assert_int_equal(cm7_pc(t->cpu), PROG + 0x16u); /* reached the final b . */
    assert_int_equal(t->busfaults, 0);
    assert_int_equal(t->forced, 0);
    assert_int_equal(t->vectactive, 0);
    chip_free(t);
}

static void test_ecc_load_faultmask_without_bfhfnmign_locks_up(void **state)
{
    (void)state;
    chip_t *t = chip_new(prog_load_ignored, sizeof prog_load_ignored, NULL, 0);
    assert_int_equal(run_us(t), CM7_HALTED);
    assert_true(cm7_halted(t->cpu));
    assert_memory_equal(cm7_halt_reason(t->cpu), "LOCKUP", 6);
    assert_int_equal(cm7_halt_kind(t->cpu), CM7_HALT_LOCKUP);
    assert_non_null(strstr(cm7_halt_reason(t->cpu), "FAULTMASK"));
    chip_free(t);
}

static void test_fault_in_hardfault_is_lockup(void **state)
{
    (void)state;
    chip_t *t = chip_new(prog_load_fault, sizeof prog_load_fault, prog_handler_bad_load,
                         sizeof prog_handler_bad_load);
    assert_int_equal(run_us(t), CM7_STOPPED);
    assert_in_hardfault(t);
    assert_int_equal(run_us(t), CM7_HALTED);
    assert_true(cm7_halted(t->cpu));
    const char *why = cm7_halt_reason(t->cpu);
    assert_memory_equal(why, "LOCKUP", 6);
    assert_non_null(strstr(why, "HardFault handler"));
    /* halted stays halted */
    assert_int_equal(run_us(t), CM7_HALTED);
    chip_free(t);
}

static void test_fault_from_psp(void **state)
{
    (void)state;
    chip_t *t = chip_new(prog_psp_fault, sizeof prog_psp_fault, NULL, 0);
    assert_int_equal(run_us(t), CM7_STOPPED);
    assert_in_hardfault(t);
    frame_t f = frame_at(t, PSP_TOP - 32u); /* on the process stack */
    assert_int_equal(f.pc, PROG + 0x1Eu);
    assert_int_equal(f.r[0], BAD_WORD);
    /* nothing was pushed on the main stack */
    assert_int_equal(ram32(t, MSP_TOP - 32u + 24u), 0);
    chip_free(t);
}

static void test_store_unmapped_is_imprecise(void **state)
{
    (void)state;
    chip_t *t = chip_new(prog_store_unmapped, sizeof prog_store_unmapped, NULL, 0);
    assert_int_equal(run_us(t), CM7_STOPPED);
    assert_in_hardfault(t);
    assert_int_equal(t->imprecise, 1);
    assert_int_equal(t->busfaults, 0); /* no PRECISERR, no BFAR */
    frame_t f = frame_at(t, MSP_TOP - 32u);
    /* taken after the store completed, at a later instruction */
    assert_true(f.pc > STORE_STR && f.pc <= PROG + 0x12u);
    assert_int_equal(f.r[1], 9);
    chip_free(t);
}

static void test_store_unmapped_pending_under_faultmask(void **state)
{
    (void)state;
    chip_t *t = chip_new(prog_store_masked, sizeof prog_store_masked, NULL, 0);
    cm7_result_t r = run_us(t);
    assert_false(cm7_halted(t->cpu)); /* no lockup */
    assert_int_equal(r, CM7_STOPPED);
    assert_int_equal(t->imprecise, 1);
    /* pending until cpsie f, then taken */
    assert_in_hardfault(t);
    frame_t f = frame_at(t, MSP_TOP - 32u);
    assert_true(f.pc > PROG + 0x12u && f.pc <= PROG + 0x16u);
    assert_int_equal(f.r[2], 1); /* ran on after the store */
    chip_free(t);
}

static void test_unmodelled_register_halts(void **state)
{
    (void)state;
    chip_t *t = chip_new(prog_unmodelled, sizeof prog_unmodelled, NULL, 0);
    assert_int_equal(run_us(t), CM7_HALTED);
    const char *why = cm7_halt_reason(t->cpu);
    assert_non_null(strstr(why, "TESTP+0x004"));
    assert_non_null(strstr(why, "not modelled"));
    assert_non_null(strstr(why, "PC 0x20000108"));
    assert_non_null(strstr(why, "test_prog+0x8"));
    assert_int_equal(cm7_halt_kind(t->cpu), CM7_HALT_MODEL_GAP);
    assert_int_equal(t->forced, 0);
    chip_free(t);
}

static void test_bus_error_write_faults(void **state)
{
    (void)state;
    chip_t *t = chip_new(prog_bus_error, sizeof prog_bus_error, NULL, 0);
    assert_int_equal(run_us(t), CM7_STOPPED);
    assert_false(cm7_halted(t->cpu));
    assert_in_hardfault(t);
    assert_int_equal(t->imprecise, 1);
    assert_int_equal(t->busfaults, 0);
    frame_t f = frame_at(t, MSP_TOP - 32u);
    assert_true(f.pc > BUS_ERROR_STR && f.pc <= PROG + 0x10u);
    chip_free(t);
}

static void test_ecc_load_after_a_good_load(void **state)
{
    (void)state;
    chip_t *t = chip_new(prog_decoy, sizeof prog_decoy, NULL, 0);
    assert_int_equal(run_us(t), CM7_STOPPED);
    assert_in_hardfault(t);
    frame_t f = frame_at(t, MSP_TOP - 32u);
    assert_int_equal(f.pc, PROG + 0xAu); /* the ldr.w, not the good ldr before it */
    assert_int_equal(f.r[1], 0);
    assert_int_equal(ram32(t, MSP_TOP - 32u + 8u), 0); /* r2: movs r2,#1 did not run */
    chip_free(t);
}

static void test_bus_error_read_is_precise(void **state)
{
    (void)state;
    chip_t *t = chip_new(prog_bus_error_read, sizeof prog_bus_error_read, NULL, 0);
    assert_int_equal(run_us(t), CM7_STOPPED);
    assert_in_hardfault(t);
    assert_int_equal(t->busfaults, 1);
    assert_int_equal(t->bfar, PERIPH + 12u);
    frame_t f = frame_at(t, MSP_TOP - 32u);
    assert_int_equal(f.pc, PROG + 0xAu);
    assert_int_equal(f.r[2], 7);
    chip_free(t);
}

static void test_time_at_cpu_hz(void **state)
{
    (void)state;
    chip_t *t = chip_new(prog_spin, sizeof prog_spin, NULL, 0);
    /* b . is one 2-byte block: one cycle, 10 ns at 100 MHz */
    assert_int_equal(cm7_run(t->cpu, 1000u), CM7_RAN);
    assert_int_equal(sim_clock_now_ns(&t->clock), 1000u);
    assert_int_equal(cm7_cycles(t->cpu), 100u);
    assert_int_equal(cm7_run(t->cpu, 5000u), CM7_RAN);
    assert_int_equal(sim_clock_now_ns(&t->clock), 5000u);
    assert_int_equal(cm7_cycles(t->cpu), 500u);
    chip_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ecc_load_precise),
        cmocka_unit_test(test_ecc_load_ignored_bfhfnmign),
        cmocka_unit_test(test_ecc_load_faultmask_without_bfhfnmign_locks_up),
        cmocka_unit_test(test_fault_in_hardfault_is_lockup),
        cmocka_unit_test(test_fault_from_psp),
        cmocka_unit_test(test_store_unmapped_is_imprecise),
        cmocka_unit_test(test_store_unmapped_pending_under_faultmask),
        cmocka_unit_test(test_unmodelled_register_halts),
        cmocka_unit_test(test_bus_error_write_faults),
        cmocka_unit_test(test_ecc_load_after_a_good_load),
        cmocka_unit_test(test_bus_error_read_is_precise),
        cmocka_unit_test(test_time_at_cpu_hz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
