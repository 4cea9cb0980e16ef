/*
 * Register access helpers shared by the STM32H743 register headers.
 * Every peripheral is a struct of 32-bit registers overlaid on its base
 * address; offsets are pinned with static asserts against the reference manual.
 */
#ifndef H7_REGS_MMIO_H
#define H7_REGS_MMIO_H

#include <stddef.h>
#include <stdint.h>

#define H7_REG    volatile uint32_t
#define H7_BIT(n) (1u << (n))
/* Field of width w at position p, and its value v placed there. */
#define H7_FIELD(p, w)        ((((uint32_t)1u << (w)) - 1u) << (p))
#define H7_FIELD_VAL(p, w, v) (((uint32_t)(v) << (p)) & H7_FIELD(p, w))

#define H7_CHECK_OFFSET(type, member, off)                                                         \
    _Static_assert(offsetof(type, member) == (off), #type "." #member " offset")

#endif
