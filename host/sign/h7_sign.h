/*
 * Signing keys for h7dfu images (core/boot/boot_sig.h): ECDSA P-256, PEM
 * files as openssl reads and writes them.
 */
#ifndef H7_SIGN_H
#define H7_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot_sig.h"

/* The line `h7dfu key generate --test` puts above a test key's PEM block.
 * A production bootloader build refuses a key file holding it, or named
 * test-*. */
#define H7_TEST_KEY_MARKER "h7dfu TEST KEY: not for production"

typedef struct h7_key {
    bool has_private;
    bool test;          /* the file carries H7_TEST_KEY_MARKER */
    boot_sig_key_t pub; /* the public point and its id */
    void *pk;           /* mbedtls_pk_context */
} h7_key_t;

/* Generate a P-256 private key and write it as PEM ("EC PRIVATE KEY") to
 * path, which must not exist. test: put the test-key marker above it.
 * Returns 0, or -1 with a message in err. */
int h7_key_generate(const char *path, bool test, char *err, size_t errlen);
/* Load a private key (PEM or DER) or a public key (PEM or DER). Returns 0,
 * or -1 with a message in err. Free with h7_key_free. */
int h7_key_load(const char *path, h7_key_t *key, char *err, size_t errlen);
void h7_key_free(h7_key_t *key);
/* Sign a SHA-256 hash: r || s, 32 bytes each, big endian. Needs a private
 * key. Returns 0, or -1 with a message in err. */
int h7_key_sign_hash(const h7_key_t *key, const uint8_t hash[32], uint8_t rs[BOOT_SIG_RS_LEN],
                     char *err, size_t errlen);
/* Write the public key: PEM ("PUBLIC KEY", SubjectPublicKeyInfo) or, for a
 * path ending in .c, a C array of the point for the bootloader. */
int h7_key_write_public(const h7_key_t *key, const char *path, char *err, size_t errlen);
/* "0123abcd..." (32 hex digits) of a key id. */
void h7_key_id_str(const uint8_t id[BOOT_SIG_KEY_ID_LEN], char out[2 * BOOT_SIG_KEY_ID_LEN + 1]);

#endif
