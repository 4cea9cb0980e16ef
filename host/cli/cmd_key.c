/* `h7dfu key generate|public`: the P-256 keys of signed images. */
#include "cmd.h"

#include <string.h>

#include "h7_sign.h"

static const char key_help[] =
    "usage: h7dfu [OPTIONS] key generate [--test] OUT.pem\n"
    "       h7dfu [OPTIONS] key public KEY OUT\n\n"
    "generate  writes a new ECDSA P-256 private key as PEM (openssl reads it:\n"
    "          `openssl ec -in OUT.pem -pubout`) to OUT.pem, which must not exist;\n"
    "          its key id (the first 16 bytes of SHA-256 of the public point) is\n"
    "          printed. --test marks it as a test key: a production bootloader\n"
    "          build (-DH7_PRODUCTION=ON) refuses it.\n"
    "public    writes KEY's public key to OUT: PEM, or for OUT ending in .c the\n"
    "          C array the signed bootloader is built with.\n\n"
    "  --test       mark the generated key as a test key\n"
    "Sign images with `h7dfu image stamp -k KEY` or `h7dfu image sign -k KEY`.\n"
    "No device is used: -d, -S, -p, -w and -a are refused.\n";

int cmd_key(cli_opts_t *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"test", no_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    static const cli_cmd_t cmd = {"key", key_help, "", longopts, CLI_G_DEVICE | CLI_G_ALT};
    int c, ec = H7_EXIT_OK;
    bool test = false;
    while ((c = cli_getopt(o, argc, argv, &cmd, &ec)) >= 0) {
        if (c == 't') {
            test = true;
        }
    }
    if (c == CLI_OPT_EXIT) {
        return ec;
    }
    int n = argc - optind;
    const char *sub = n > 0 ? argv[optind] : "";
    char err[256], id[2 * BOOT_SIG_KEY_ID_LEN + 1];
    h7_key_t key;
    if (strcmp(sub, "generate") == 0 && n == 2) {
        const char *out = argv[optind + 1];
        if (h7_key_generate(out, test, err, sizeof err) != 0 ||
            h7_key_load(out, &key, err, sizeof err) != 0) {
            cli_error(o, H7_EXIT_FAIL, "%s", err);
            return H7_EXIT_FAIL;
        }
        h7_key_id_str(key.pub.id, id);
        h7_key_free(&key);
        cli_info(o, "wrote %sP-256 private key %s, key id %s", test ? "TEST " : "", out, id);
        cli_json_t j;
        if (cli_doc_begin(o, &j, H7_EXIT_OK)) {
            cli_json_string(&j, "file", out);
            cli_json_string(&j, "key_id", id);
            cli_json_bool(&j, "test", test);
            cli_doc_end(&j);
        }
        return H7_EXIT_OK;
    }
    if (strcmp(sub, "public") == 0 && n == 3 && !test) {
        if (h7_key_load(argv[optind + 1], &key, err, sizeof err) != 0) {
            cli_error(o, H7_EXIT_FILE, "%s", err);
            return H7_EXIT_FILE;
        }
        int rc = h7_key_write_public(&key, argv[optind + 2], err, sizeof err);
        h7_key_id_str(key.pub.id, id);
        bool t = key.test;
        h7_key_free(&key);
        if (rc != 0) {
            cli_error(o, H7_EXIT_FAIL, "%s", err);
            return H7_EXIT_FAIL;
        }
        cli_info(o, "wrote the public key %s%s to %s", id, t ? " (a TEST key)" : "",
                 argv[optind + 2]);
        cli_json_t j;
        if (cli_doc_begin(o, &j, H7_EXIT_OK)) {
            cli_json_string(&j, "file", argv[optind + 2]);
            cli_json_string(&j, "key_id", id);
            cli_json_bool(&j, "test", t);
            cli_doc_end(&j);
        }
        return H7_EXIT_OK;
    }
    cli_error(o, H7_EXIT_USAGE,
              "key wants `generate [--test] OUT.pem` or `public KEY OUT` (see `h7dfu key --help`)");
    return H7_EXIT_USAGE;
}
