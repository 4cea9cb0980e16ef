/*
 * h7_sign: keys and signatures with mbedtls (the Debian library).
 */
#include "h7_sign.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/ecp.h"
#include "mbedtls/entropy.h"
#include "mbedtls/error.h"
#include "mbedtls/pk.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int tls_fail(char *err, size_t errlen, const char *what, int rc)
{
    char m[128];
    mbedtls_strerror(rc, m, sizeof m);
    return fail(err, errlen, "%s: %s", what, m);
}

typedef struct rng {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
} rng_t;

static int rng_init(rng_t *r)
{
    static const char pers[] = "h7dfu key";
    mbedtls_entropy_init(&r->entropy);
    mbedtls_ctr_drbg_init(&r->drbg);
    return mbedtls_ctr_drbg_seed(&r->drbg, mbedtls_entropy_func, &r->entropy,
                                 (const unsigned char *)pers, sizeof pers - 1);
}

static void rng_free(rng_t *r)
{
    mbedtls_ctr_drbg_free(&r->drbg);
    mbedtls_entropy_free(&r->entropy);
}

/* Write data to a new file (mode 0600 for private keys). */
static int write_new(const char *path, const void *data, size_t len, mode_t mode, bool excl,
                     char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | (excl ? O_EXCL : O_TRUNC), mode);
    if (fd < 0) {
        return fail(err, errlen, "%s: %s", path, strerror(errno));
    }
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n <= 0) {
            int e = errno;
            close(fd);
            return fail(err, errlen, "%s: %s", path, strerror(e));
        }
        p += n;
        len -= (size_t)n;
    }
    if (close(fd) != 0) {
        return fail(err, errlen, "%s: %s", path, strerror(errno));
    }
    return 0;
}

int h7_key_generate(const char *path, bool test, char *err, size_t errlen)
{
    mbedtls_pk_context pk;
    rng_t r;
    mbedtls_pk_init(&pk);
    int rc = rng_init(&r);
    unsigned char pem[1024];
    if (rc == 0) {
        rc = mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    }
    if (rc == 0) {
        rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(pk),
                                 mbedtls_ctr_drbg_random, &r.drbg);
    }
    if (rc == 0) {
        rc = mbedtls_pk_write_key_pem(&pk, pem, sizeof pem);
    }
    mbedtls_pk_free(&pk);
    rng_free(&r);
    if (rc != 0) {
        return tls_fail(err, errlen, "generating a P-256 key", rc);
    }
    char text[1200];
    int n = snprintf(text, sizeof text, "%s%s", test ? H7_TEST_KEY_MARKER "\n" : "", (char *)pem);
    rc = write_new(path, text, (size_t)n, 0600, true, err, errlen);
    mbedtls_platform_zeroize(pem, sizeof pem);
    mbedtls_platform_zeroize(text, sizeof text);
    return rc;
}

static int read_file(const char *path, unsigned char **buf, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return fail(err, errlen, "%s: %s", path, strerror(errno));
    }
    unsigned char *b = malloc(65537);
    size_t n = b ? fread(b, 1, 65536, f) : 0;
    bool big = b && !feof(f);
    fclose(f);
    if (!b) {
        return fail(err, errlen, "out of memory");
    }
    if (big) {
        free(b);
        return fail(err, errlen, "%s: too big for a key file", path);
    }
    b[n] = 0; /* mbedtls wants PEM NUL-terminated, length counting the NUL */
    *buf = b;
    *len = n;
    return 0;
}

int h7_key_load(const char *path, h7_key_t *key, char *err, size_t errlen)
{
    memset(key, 0, sizeof *key);
    unsigned char *buf = NULL;
    size_t len = 0;
    if (read_file(path, &buf, &len, err, errlen) != 0) {
        return -1;
    }
    mbedtls_pk_context *pk = calloc(1, sizeof *pk);
    if (!pk) {
        free(buf);
        return fail(err, errlen, "out of memory");
    }
    mbedtls_pk_init(pk);
    bool pem = strstr((char *)buf, "-----BEGIN") != NULL;
    size_t plen = pem ? len + 1 : len;
    int rc = mbedtls_pk_parse_key(pk, buf, plen, NULL, 0);
    key->has_private = rc == 0;
    if (rc != 0) {
        mbedtls_pk_free(pk);
        mbedtls_pk_init(pk);
        rc = mbedtls_pk_parse_public_key(pk, buf, plen);
    }
    key->test = strstr((char *)buf, H7_TEST_KEY_MARKER) != NULL;
    mbedtls_platform_zeroize(buf, len);
    free(buf);
    if (rc != 0) {
        free(pk);
        return fail(err, errlen, "%s: not a P-256 key in PEM or DER (%s)", path,
                    "openssl ec -in KEY -text -noout shows what it holds");
    }
    if (!mbedtls_pk_can_do(pk, MBEDTLS_PK_ECKEY) ||
        mbedtls_pk_ec(*pk)->grp.id != MBEDTLS_ECP_DP_SECP256R1) {
        mbedtls_pk_free(pk);
        free(pk);
        return fail(err, errlen, "%s: not a P-256 (prime256v1) EC key", path);
    }
    mbedtls_ecp_keypair *ec = mbedtls_pk_ec(*pk);
    size_t olen = 0;
    rc = mbedtls_ecp_point_write_binary(&ec->grp, &ec->Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &olen,
                                        key->pub.point, sizeof key->pub.point);
    if (rc != 0 || olen != BOOT_SIG_PUBKEY_LEN) {
        mbedtls_pk_free(pk);
        free(pk);
        return fail(err, errlen, "%s: cannot export the public key", path);
    }
    boot_sig_key_id(key->pub.point, key->pub.id);
    key->pk = pk;
    return 0;
}

void h7_key_free(h7_key_t *key)
{
    if (key->pk) {
        mbedtls_pk_free(key->pk);
        free(key->pk);
    }
    memset(key, 0, sizeof *key);
}

int h7_key_sign_hash(const h7_key_t *key, const uint8_t hash[32], uint8_t rs[BOOT_SIG_RS_LEN],
                     char *err, size_t errlen)
{
    if (!key->has_private) {
        return fail(err, errlen, "signing needs the private key (this one is public only)");
    }
    mbedtls_ecp_keypair *ec = mbedtls_pk_ec(*(mbedtls_pk_context *)key->pk);
    rng_t r;
    mbedtls_mpi R, S;
    mbedtls_mpi_init(&R);
    mbedtls_mpi_init(&S);
    int rc = rng_init(&r);
    /* Deterministic ECDSA (RFC 6979): the same image and key sign the same. */
    if (rc == 0) {
        rc = mbedtls_ecdsa_sign_det_ext(&ec->grp, &R, &S, &ec->d, hash, 32, MBEDTLS_MD_SHA256,
                                        mbedtls_ctr_drbg_random, &r.drbg);
    }
    if (rc == 0) {
        rc = mbedtls_mpi_write_binary(&R, rs, 32);
    }
    if (rc == 0) {
        rc = mbedtls_mpi_write_binary(&S, rs + 32, 32);
    }
    mbedtls_mpi_free(&R);
    mbedtls_mpi_free(&S);
    rng_free(&r);
    if (rc != 0) {
        return tls_fail(err, errlen, "signing", rc);
    }
    return 0;
}

void h7_key_id_str(const uint8_t id[BOOT_SIG_KEY_ID_LEN], char out[2 * BOOT_SIG_KEY_ID_LEN + 1])
{
    for (unsigned i = 0; i < BOOT_SIG_KEY_ID_LEN; i++) {
        snprintf(out + 2 * i, 3, "%02x", id[i]);
    }
}

int h7_key_write_public(const h7_key_t *key, const char *path, char *err, size_t errlen)
{
    size_t pl = strlen(path);
    if (pl > 2 && strcmp(path + pl - 2, ".c") == 0) {
        char id[2 * BOOT_SIG_KEY_ID_LEN + 1];
        h7_key_id_str(key->pub.id, id);
        char text[1024];
        int n = snprintf(text, sizeof text,
                         "/* The public key the signed h7dfu bootloader trusts (key id %s)%s. */\n"
                         "#include \"boot_sig.h\"\n\n"
                         "const uint8_t h7_signing_key_point[BOOT_SIG_PUBKEY_LEN] = {",
                         id, key->test ? ": a TEST key" : "");
        for (unsigned i = 0; i < BOOT_SIG_PUBKEY_LEN; i++) {
            n += snprintf(text + n, sizeof text - (size_t)n, "%s0x%02x,", i % 12 ? " " : "\n    ",
                          key->pub.point[i]);
        }
        n += snprintf(text + n, sizeof text - (size_t)n,
                      "\n};\nconst int h7_signing_key_test = %d;\n", key->test ? 1 : 0);
        return write_new(path, text, (size_t)n, 0644, false, err, errlen);
    }
    unsigned char pem[512];
    int rc = mbedtls_pk_write_pubkey_pem(key->pk, pem, sizeof pem);
    if (rc != 0) {
        return tls_fail(err, errlen, "writing the public key", rc);
    }
    char text[600];
    int n =
        snprintf(text, sizeof text, "%s%s", key->test ? H7_TEST_KEY_MARKER "\n" : "", (char *)pem);
    return write_new(path, text, (size_t)n, 0644, false, err, errlen);
}
