/*
 * The bootloader's start-up path on QEMU's mps2-an500 (Cortex-M7), for a
 * test without a board: the port's Reset_Handler (startup.c: .data/.bss,
 * FPU, h743_early_boot, caches, main), the port's request block and jump
 * (reset.c), and core/boot's validation and decision. What is H7-only sits
 * behind this board layer:
 *
 *   - the flash: QEMU has no memory at 0x08000000, so the "flash" is SSRAM1
 *     at 0x00000000 (4 MiB) described by a flash map of the same shape as the
 *     H743's (16 x 128 KiB, sector 0 the bootloader's): the slot is
 *     0x00020000 (its vector table at the start), the record area the last
 *     sector 0x001E0000; reads are plain loads, as on the H743 (flash_h7.c),
 *     erase/program are not needed here;
 *   - clocks, USB and the flash controller are not modelled: the DFU branch
 *     prints its reason and exits;
 *   - output is ARM semihosting (SYS_WRITE0, SYS_EXIT), QEMU
 *     -semihosting-config enable=on,target=native.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "boot.h"
#include "h743_port.h"
#include "qemu_semihost.h"

#define QEMU_SLOT 0x00020000u

static const flash_map_t s_map = {
    .name = "QEMU SSRAM1 as flash",
    .base = 0x00000000u,
    .sector_size = 128u * 1024u,
    .sector_count = 16,
    .sectors_per_bank = 8,
    .word_size = 32,
    .reserved_mask = 1u, /* sector 0: this bootloader */
};

static flash_status_t mem_read(void *ctx, uint32_t addr, void *buf, size_t len)
{
    (void)ctx;
    if (!flash_map_contains(&s_map, addr, (uint32_t)len)) {
        return FLASH_ERR_ADDRESS;
    }
    memcpy(buf, (const void *)(uintptr_t)addr, len);
    return FLASH_OK;
}

static const flash_ops_t s_ops = {.read = mem_read};
static const flash_dev_t s_flash = {.ops = &s_ops, .ctx = NULL, .map = &s_map};

static void put_u(uint32_t v)
{
    char buf[11];
    char *p = buf + sizeof buf - 1;
    *p = '\0';
    do {
        *--p = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0u);
    qemu_puts(p);
}

static boot_decision_t s_decision;

void h743_early_boot(void)
{
    /* core/boot's step 1, as bootloader_decide() does it for the H743 slot. */
    boot_request_t req = boot_request_get(&h7_boot_request);
    boot_request_clear(&h7_boot_request);
    boot_image_info_t info;
    boot_validate_t v = boot_validate(&s_flash, QEMU_SLOT, &info);
    s_decision = boot_decide(req, v);
    if (s_decision.action == BOOT_START_APP) {
        qemu_puts("boot: valid image v");
        put_u(info.hdr.version.major);
        qemu_puts(".");
        put_u(info.hdr.version.minor);
        qemu_puts(".");
        put_u(info.hdr.version.patch);
        qemu_puts(" -> start app\n");
        h743_jump_to_vectors(info.vector_table);
    }
}

/* The DFU branch: on the H743, clocks + USB + DfuSe (bootloader.c). */
int main(void)
{
    qemu_puts("boot: stay in DFU (");
    qemu_puts(boot_why_name(s_decision.why));
    qemu_puts(": ");
    qemu_puts(boot_validate_reason_name(s_decision.validation));
    qemu_puts(")\n");
    qemu_exit(0);
    return 0;
}
