/*
 * mbedtls configuration of the signed bootloader (MBEDTLS_CONFIG_FILE): only
 * what ECDSA P-256 verification over SHA-256 needs, no heap (mbedtls's own
 * buffer allocator over a static arena, signed.c), no platform functions.
 */
#ifndef H7_MBEDTLS_CONFIG_FW_H
#define H7_MBEDTLS_CONFIG_FW_H

#define MBEDTLS_HAVE_ASM /* bn_mul.h: UMAAL on the Cortex-M7 */
#define MBEDTLS_NO_PLATFORM_ENTROPY

#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_PLATFORM_NO_STD_FUNCTIONS
#define MBEDTLS_PLATFORM_EXIT_MACRO h7_mbedtls_exit
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C

#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
/* Verification works on public data only: no blinding, so no RNG. */
#define MBEDTLS_ECP_NO_INTERNAL_RNG
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ASN1_PARSE_C /* required by ECDSA_C; unused code is dropped */
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_SHA256_C

#define MBEDTLS_MPI_WINDOW_SIZE       2
#define MBEDTLS_MPI_MAX_SIZE          32
#define MBEDTLS_ECP_MAX_BITS          256
#define MBEDTLS_ECP_WINDOW_SIZE       2
#define MBEDTLS_ECP_FIXED_POINT_OPTIM 0

void h7_mbedtls_exit(int status);

#include "mbedtls/check_config.h"

#endif
