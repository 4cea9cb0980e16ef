/*
 * Signature verification for signed builds (H7_BOOT_SIGNED): SHA-256 and
 * ECDSA P-256 from mbedtls, the trusted key, the counter commit.
 */
#include "boot_sig.h"

#include "mbedtls/bignum.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/ecp.h"
#include "mbedtls/sha256.h"

static const boot_sig_key_t *s_key;

void boot_sig_set_key(const boot_sig_key_t *key)
{
    s_key = key;
}

const boot_sig_key_t *boot_sig_get_key(void)
{
    return s_key;
}

void boot_sig_key_id(const uint8_t point[BOOT_SIG_PUBKEY_LEN], uint8_t id[BOOT_SIG_KEY_ID_LEN])
{
    uint8_t h[32];
    mbedtls_sha256_ret(point, BOOT_SIG_PUBKEY_LEN, h, 0);
    for (unsigned i = 0; i < BOOT_SIG_KEY_ID_LEN; i++) {
        id[i] = h[i];
    }
}

bool boot_sig_verify_hash(const uint8_t point[BOOT_SIG_PUBKEY_LEN], const uint8_t hash[32],
                          const uint8_t rs[BOOT_SIG_RS_LEN])
{
    mbedtls_ecp_group grp;
    mbedtls_ecp_point q;
    mbedtls_mpi r, s;
    mbedtls_ecp_group_init(&grp);
    mbedtls_ecp_point_init(&q);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    bool ok = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1) == 0 &&
              mbedtls_ecp_point_read_binary(&grp, &q, point, BOOT_SIG_PUBKEY_LEN) == 0 &&
              mbedtls_ecp_check_pubkey(&grp, &q) == 0 && mbedtls_mpi_read_binary(&r, rs, 32) == 0 &&
              mbedtls_mpi_read_binary(&s, rs + 32, 32) == 0 &&
              mbedtls_ecdsa_verify(&grp, hash, 32, &q, &r, &s) == 0;
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    mbedtls_ecp_point_free(&q);
    mbedtls_ecp_group_free(&grp);
    return ok;
}

bool boot_counter_commit(const flash_dev_t *dev, const boot_image_info_t *info)
{
    if (info == NULL || !info->has_sig || s_key == NULL) {
        return true; /* nothing checked, nothing to keep */
    }
    return boot_counter_raise(dev, info->security_counter) == FLASH_OK;
}
