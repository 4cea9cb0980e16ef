/*
 * The signed bootloader's additions (firmware target bootloader-signed):
 * the public key it was built with (H7_SIGNING_KEY), the static arena
 * mbedtls allocates from, and its fatal-error exit.
 */
#include <stdint.h>

#include "boot_sig.h"
#include "bootloader.h"
#include "h743_port.h"
#include "mbedtls/memory_buffer_alloc.h"

/* Generated from H7_SIGNING_KEY (firmware/CMakeLists.txt). */
extern const uint8_t h7_signing_key_point[BOOT_SIG_PUBKEY_LEN];

/* The heap of ECDSA P-256 verification with mbedtls_config_fw.h. Too small
 * an arena fails the verification (the image is refused, never started);
 * tests/fw_emu/signed.sh verifies good and tampered images with this one. */
#define H7_MBEDTLS_ARENA 6144u
static uint8_t s_arena[H7_MBEDTLS_ARENA] __attribute__((aligned(8)));
static boot_sig_key_t s_key;

void h7_mbedtls_exit(int status)
{
    (void)status;
    /* The allocator found its arena corrupted: nothing can be trusted. */
    h743_system_reset();
}

void bootloader_signed_init(void)
{
    mbedtls_memory_buffer_alloc_init(s_arena, sizeof s_arena);
    for (unsigned i = 0; i < BOOT_SIG_PUBKEY_LEN; i++) {
        s_key.point[i] = h7_signing_key_point[i];
    }
    boot_sig_key_id(s_key.point, s_key.id);
    boot_sig_set_key(&s_key);
}
