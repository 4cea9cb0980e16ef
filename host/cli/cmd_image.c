/* `h7dfu image stamp|info`: make and inspect images the h7dfu bootloader starts. */
#include "cmd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "h7_sign.h"
#include "h7_stamp.h"

static const char image_help[] =
    "usage: h7dfu [OPTIONS] image stamp -V VERSION [-k KEY [-c N]] [-s ADDR] [-f FORMAT] IN OUT\n"
    "       h7dfu [OPTIONS] image sign -k KEY [-c N] [-s ADDR] [-f FORMAT] IN OUT\n"
    "       h7dfu [OPTIONS] image info [-k KEY] [-s ADDR] [-f FORMAT] FILE\n\n"
    "stamp  writes OUT: the application IN (linked for the slot at 0x08020000, its\n"
    "       vector table there) and its image record, the header the bootloader\n"
    "       checks (version, size, device 0x450, CRC32), for the record area at\n"
    "       0x081E0000 (sector 15). OUT's format follows its extension: .hex Intel\n"
    "       HEX and .dfu DfuSe (for 0483:df11) hold the body and the record at their\n"
    "       addresses (dfu-util and programmers write both); anything else is\n"
    "       h7dfu's stamped binary, the 64-byte record then the body, which only\n"
    "       h7dfu reads (it writes the body, then appends the record).\n"
    "       With -k KEY (a P-256 private key, `h7dfu key generate`) the body is\n"
    "       followed by its ECDSA signature and security counter.\n"
    "sign   signs a stamped image IN again with KEY (same version and, without\n"
    "       -c, the security counter of a signed IN) into OUT.\n"
    "info   shows FILE's record and body, its signature (checked with -k KEY)\n"
    "       and whether the bootloader would start it (exit 3 when it would not).\n\n"
    "  -k, --key KEY\n"
    "               P-256 key (PEM or DER): private to sign, any to check (info)\n"
    "  -c, --security-counter N\n"
    "               the signed image's security counter (default 0; sign: that\n"
    "               of a signed IN): a signed bootloader refuses images below\n"
    "               the last one it started\n"
    "  -V VERSION   [v]MAJOR.MINOR.PATCH[-PRE][+BUILD] or what git describe\n"
    "               prints for a tag (stamp)\n"
    "  -s, --address ADDR\n"
    "               address of a raw binary input\n"
    "  -f, --format FORMAT\n"
    "               input format: bin, ihex, srec, dfuse, dfu, elf (default: detect)\n"
    "No device is used: -d, -S, -p, -w and -a are refused.\n";

static const char stamp_help[] =
    "usage: h7dfu [OPTIONS] image stamp -V VERSION [-k KEY [-c N]] [-s ADDR] [-f FORMAT] IN OUT\n\n"
    "Writes OUT: the application IN (linked for the slot at 0x08020000, its vector\n"
    "table there) and its image record, the header the bootloader checks (version,\n"
    "size, device 0x450, CRC32), for the record area at 0x081E0000 (sector 15).\n"
    "OUT's format follows its extension: .hex Intel HEX and .dfu DfuSe (for\n"
    "0483:df11) hold the body and the record at their addresses; anything else is\n"
    "h7dfu's stamped binary, the 64-byte record then the body.\n\n"
    "  -V VERSION   [v]MAJOR.MINOR.PATCH[-PRE][+BUILD], or what git describe\n"
    "               prints: v1.2.3-4-gabcdef is 1.2.3+4 (build = commits\n"
    "               after the tag); pre-release, hash and -dirty are not stored\n"
    "  -k, --key KEY\n"
    "               sign with this P-256 private key (PEM or DER, `h7dfu key\n"
    "               generate`): a 128-byte trailer after the body holds the\n"
    "               ECDSA signature over the record, the trailer and the body\n"
    "  -c, --security-counter N\n"
    "               the security counter in the signature (default 0); a signed\n"
    "               bootloader refuses an image below the last one it started\n"
    "  -s, --address ADDR\n"
    "               address of a raw binary IN\n"
    "  -f, --format FORMAT\n"
    "               format of IN: bin, ihex, srec, dfuse, dfu, elf (default: detect)\n"
    "No device is used: -d, -S, -p, -w and -a are refused. Here -V is the image's\n"
    "version; `h7dfu --version` prints h7dfu's.\n";

static const char sign_help[] =
    "usage: h7dfu [OPTIONS] image sign -k KEY [-c N] [-s ADDR] [-f FORMAT] IN OUT\n\n"
    "Signs the stamped image IN (signed or not) with KEY, keeping its version,\n"
    "into OUT (format from its extension, as for stamp). An earlier signature is\n"
    "replaced; its security counter is kept unless -c gives another.\n\n"
    "  -k, --key KEY\n"
    "               P-256 private key (PEM or DER, `h7dfu key generate`)\n"
    "  -c, --security-counter N\n"
    "               the security counter in the signature (default: that of\n"
    "               a signed IN, 0 for an unsigned one)\n"
    "  -s, --address ADDR\n"
    "               address of a raw binary IN\n"
    "  -f, --format FORMAT\n"
    "               format of IN: bin, ihex, srec, dfuse, dfu, elf (default: detect)\n"
    "No device is used: -d, -S, -p, -w and -a are refused.\n";

static const char info_help[] =
    "usage: h7dfu [OPTIONS] image info [-k KEY] [-s ADDR] [-f FORMAT] FILE\n\n"
    "Shows FILE's image record and body, its signature, and whether the h7dfu\n"
    "bootloader would start it, and if not, why (exit 3). With -k KEY (public or\n"
    "private) as a signed bootloader holding KEY would: unsigned images, other\n"
    "keys and signatures that do not verify are refused.\n\n"
    "  -k, --key KEY\n"
    "               P-256 key (PEM or DER) to check the signature with\n"
    "  -s, --address ADDR\n"
    "               address of a raw binary FILE\n"
    "  -f, --format FORMAT\n"
    "               format of FILE: bin, ihex, srec, dfuse, dfu, elf (default: detect)\n"
    "No device is used: -d, -S, -p, -w and -a are refused.\n";

typedef enum sub { SUB_STAMP, SUB_SIGN, SUB_INFO } sub_t;

/* The options the subcommands take: -s ADDR, -f FORMAT, -k KEY, and for
 * stamp -V VERSION, for stamp and sign -c N. Returns -1 to go on, else the
 * exit code. */
static int parse_opts(cli_opts_t *o, int argc, char **argv, sub_t sub, h7_load_opts_t *lo,
                      h7_stamp_opts_t *so, bool *have_version, const char **key_path,
                      bool *have_counter)
{
    static const struct option longopts[] = {
        {"address", required_argument, NULL, 's'},
        {"format", required_argument, NULL, 'f'},
        {"key", required_argument, NULL, 'k'},
        {"security-counter", required_argument, NULL, 'c'},
        {NULL, 0, NULL, 0},
    };
    static const struct option info_longopts[] = {
        {"address", required_argument, NULL, 's'},
        {"format", required_argument, NULL, 'f'},
        {"key", required_argument, NULL, 'k'},
        {NULL, 0, NULL, 0},
    };
    static const cli_cmd_t stamp = {"image stamp", stamp_help, "V:s:f:k:c:", longopts,
                                    CLI_G_DEVICE | CLI_G_ALT};
    static const cli_cmd_t sign = {"image sign", sign_help, "s:f:k:c:", longopts,
                                   CLI_G_DEVICE | CLI_G_ALT};
    static const cli_cmd_t info = {"image info", info_help, "s:f:k:", info_longopts,
                                   CLI_G_DEVICE | CLI_G_ALT};
    const cli_cmd_t *cmd = sub == SUB_STAMP ? &stamp : sub == SUB_SIGN ? &sign : &info;
    int c, ec = H7_EXIT_OK;
    while ((c = cli_getopt(o, argc, argv, cmd, &ec)) >= 0) {
        switch (c) {
        case 'k':
            *key_path = optarg;
            break;
        case 'c': {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(optarg, &end, 0);
            if (errno || *end || end == optarg || optarg[0] == '-' || v > 0xFFFFFFFFull) {
                cli_error(o, H7_EXIT_USAGE,
                          "bad -c '%s': the security counter is a number 0..4294967295", optarg);
                return H7_EXIT_USAGE;
            }
            so->security_counter = (uint32_t)v;
            *have_counter = true;
        } break;
        case 'V': {
            char note[256], why[256];
            if (!h7_stamp_parse_version_text(optarg, &so->version, note, sizeof note, why,
                                             sizeof why)) {
                cli_error(o, H7_EXIT_USAGE, "%s", why);
                return H7_EXIT_USAGE;
            }
            if (note[0] != '\0') {
                cli_info(o, "%s", note);
            }
            *have_version = true;
        } break;
        case 's':
        case 'f':
            if (!cli_load_opt(o, c, optarg, lo)) {
                return H7_EXIT_USAGE;
            }
            break;
        }
    }
    if (c == CLI_OPT_EXIT) {
        return ec;
    }
    return -1;
}

/* Load -k KEY (NULL path: none). Returns H7_EXIT_OK or the exit code. */
static int load_key(cli_opts_t *o, const char *path, h7_key_t *key, bool need_private)
{
    memset(key, 0, sizeof *key);
    if (path == NULL) {
        return H7_EXIT_OK;
    }
    char err[256];
    if (h7_key_load(path, key, err, sizeof err) != 0) {
        cli_error(o, H7_EXIT_FILE, "%s", err);
        return H7_EXIT_FILE;
    }
    if (need_private && !key->has_private) {
        cli_error(o, H7_EXIT_FILE,
                  "%s holds a public key: signing needs the private key (`h7dfu key generate`)",
                  path);
        h7_key_free(key);
        return H7_EXIT_FILE;
    }
    return H7_EXIT_OK;
}

/* The signature trailer at addr in img (alt 0), parsed: false when img does
 * not hold all of its bytes or they are not a trailer. */
static bool find_trailer(const h7_image_t *img, uint32_t addr, boot_sig_trailer_t *t)
{
    uint8_t raw[BOOT_SIG_SIZE];
    size_t have = 0;
    for (size_t i = 0; i < img->count; i++) {
        const h7_segment_t *s = &img->seg[i];
        uint64_t lo = s->addr > addr ? s->addr : addr;
        uint64_t hi = (uint64_t)s->addr + s->len;
        if (hi > (uint64_t)addr + BOOT_SIG_SIZE) {
            hi = (uint64_t)addr + BOOT_SIG_SIZE;
        }
        if (s->alt != 0 || hi <= lo) {
            continue;
        }
        memcpy(raw + (lo - addr), s->data + (lo - s->addr), (size_t)(hi - lo));
        have += (size_t)(hi - lo);
    }
    return have == BOOT_SIG_SIZE && boot_sig_parse(raw, t) == BOOT_VALID;
}

/* IN cut to what its record covers: the body up to image_size (an old
 * signature trailer dropped), nothing in the record area. *counter: the old
 * trailer's security counter (0 when IN has none). */
static int stamped_body(const h7_image_t *in, h7_image_t *out, boot_image_header_t *h,
                        uint32_t *counter, char *err, size_t errlen)
{
    h7_image_t body;
    uint8_t rec[BOOT_REC_SIZE];
    bool has = false;
    h7_image_init(out);
    if (h7_stamp_split(in, &body, rec, &has) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    boot_header_decode(rec, h);
    if (!has || h->magic != BOOT_HDR_MAGIC || boot_header_crc(rec) != h->hdr_crc) {
        h7_image_free(&body);
        snprintf(err, errlen,
                 "not a stamped image (no valid image record): stamp it with `h7dfu image stamp "
                 "-V VERSION -k KEY IN OUT`");
        return -1;
    }
    uint64_t end = (uint64_t)h->load_addr + h->image_size;
    boot_sig_trailer_t t;
    *counter = end <= UINT32_MAX && find_trailer(&body, (uint32_t)end, &t) ? t.security_counter : 0;
    for (size_t i = 0; i < body.count; i++) {
        const h7_segment_t *s = &body.seg[i];
        uint64_t e = (uint64_t)s->addr + s->len < end ? (uint64_t)s->addr + s->len : end;
        if (s->alt == 0 && e > s->addr &&
            h7_image_add(out, 0, s->addr, s->data, (size_t)(e - s->addr), NULL) != 0) {
            h7_image_free(&body);
            h7_image_free(out);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    out->format = in->format;
    h7_image_free(&body);
    return 0;
}

static int image_stamp(cli_opts_t *o, int argc, char **argv, bool resign)
{
    h7_load_opts_t lo = {.format = H7_FMT_AUTO};
    h7_stamp_opts_t so;
    memset(&so, 0, sizeof(so));
    bool have_version = false, have_counter = false;
    const char *key_path = NULL;
    const char *name = resign ? "sign" : "stamp";
    int prc = parse_opts(o, argc, argv, resign ? SUB_SIGN : SUB_STAMP, &lo, &so, &have_version,
                         &key_path, &have_counter);
    if (prc >= 0) {
        return prc;
    }
    if (resign && key_path == NULL) {
        cli_error(o, H7_EXIT_USAGE,
                  "image sign wants -k KEY IN OUT (see `h7dfu image sign --help`)");
        return H7_EXIT_USAGE;
    }
    if (have_counter && key_path == NULL) {
        cli_error(o, H7_EXIT_USAGE,
                  "-c (security counter) is part of the signature: it needs -k KEY");
        return H7_EXIT_USAGE;
    }
    if (resign) {
        have_version = true;
    }
    if (optind + 2 < argc) {
        cli_error(o, H7_EXIT_USAGE,
                  "image %s takes IN OUT: '%s' is one argument too many (see `h7dfu image "
                  "%s --help`)",
                  name, argv[optind + 2], name);
        return H7_EXIT_USAGE;
    }
    if (!have_version || optind + 2 != argc) {
        cli_error(o, H7_EXIT_USAGE, "image %s wants %s IN OUT (see `h7dfu image %s --help`)", name,
                  resign ? "-k KEY" : "-V VERSION", name);
        return H7_EXIT_USAGE;
    }
    h7_key_t key;
    int rc = load_key(o, key_path, &key, true);
    if (rc != H7_EXIT_OK) {
        return rc;
    }
    so.key = key_path ? &key : NULL;
    h7_image_t in, out;
    rc = cli_load_image(o, argv[optind], &lo, &in);
    if (rc == H7_EXIT_OK) {
        rc = cli_check_base_used(o, argv[optind], &lo, &in);
    }
    if (rc != H7_EXIT_OK) {
        h7_key_free(&key);
        return rc;
    }
    char err[256];
    if (resign) {
        boot_image_header_t h;
        h7_image_t cut;
        uint32_t counter;
        if (stamped_body(&in, &cut, &h, &counter, err, sizeof err) != 0) {
            cli_error(o, H7_EXIT_FILE, "%s: %s", argv[optind], err);
            h7_image_free(&in);
            h7_key_free(&key);
            return H7_EXIT_FILE;
        }
        h7_image_free(&in);
        in = cut;
        so.version = h.version;
        so.slot = h.load_addr;
        so.device_id = h.device_id;
        /* Without -c a signed IN keeps its counter: re-signing (another
         * key, a moved body) must not lower it to 0 by accident. */
        if (!have_counter) {
            so.security_counter = counter;
        }
    }
    if (h7_stamp(&in, &so, &out, err, sizeof(err)) != 0) {
        cli_error(o, H7_EXIT_FILE, "%s: %s", argv[optind], err);
        h7_image_free(&in);
        h7_key_free(&key);
        return H7_EXIT_FILE;
    }
    const char *path = argv[optind + 1];
    /* A .dfu is for the h7dfu bootloader's VID:PID. */
    rc = cli_save_stamped(o, &out, path, 0x0483, 0xdf11);
    if (rc == H7_EXIT_OK) {
        char ver[32];
        h7_stamp_version_str(&so.version, ver, sizeof(ver));
        char signer[128] = "";
        if (so.key) {
            char id[2 * BOOT_SIG_KEY_ID_LEN + 1];
            h7_key_id_str(key.pub.id, id);
            snprintf(signer, sizeof signer, ", signed by key %s, security counter %lu", id,
                     (unsigned long)so.security_counter);
        }
        cli_info(o, "%s %s as version %s%s: %s (%llu bytes)", resign ? "signed" : "stamped",
                 argv[optind], ver, signer, path, (unsigned long long)h7_image_total_size(&out));
        cli_json_t j;
        if (cli_doc_begin(o, &j, H7_EXIT_OK)) {
            cli_json_string(&j, "input", argv[optind]);
            cli_json_string(&j, "file", path);
            cli_doc_image_version(&j, "version", &so.version);
            cli_json_int(&j, "bytes", (long long)h7_image_total_size(&out));
            cli_doc_end(&j);
        }
    }
    h7_image_free(&in);
    h7_image_free(&out);
    h7_key_free(&key);
    return rc;
}

static int image_info(cli_opts_t *o, int argc, char **argv)
{
    h7_load_opts_t lo = {.format = H7_FMT_AUTO};
    h7_stamp_opts_t so;
    memset(&so, 0, sizeof so);
    bool have_version = false, have_counter = false;
    const char *key_path = NULL;
    int prc =
        parse_opts(o, argc, argv, SUB_INFO, &lo, &so, &have_version, &key_path, &have_counter);
    if (prc >= 0) {
        return prc;
    }
    if (optind + 1 < argc) {
        cli_error(o, H7_EXIT_USAGE,
                  "image info takes one FILE: '%s' is one argument too many (see `h7dfu image "
                  "info --help`)",
                  argv[optind + 1]);
        return H7_EXIT_USAGE;
    }
    if (optind + 1 != argc) {
        cli_error(o, H7_EXIT_USAGE, "image info wants a FILE (see `h7dfu image info --help`)");
        return H7_EXIT_USAGE;
    }
    h7_key_t key;
    int rc = load_key(o, key_path, &key, false);
    if (rc != H7_EXIT_OK) {
        return rc;
    }
    h7_image_t img;
    rc = cli_load_image(o, argv[optind], &lo, &img);
    if (rc == H7_EXIT_OK) {
        rc = cli_check_base_used(o, argv[optind], &lo, &img);
    }
    if (rc != H7_EXIT_OK) {
        h7_key_free(&key);
        return rc;
    }
    h7_stamp_info_t si;
    int irc = h7_stamp_inspect_key(&img, 0, key_path ? &key.pub : NULL, &si);
    h7_key_free(&key);
    if (irc != 0) {
        cli_error(o, H7_EXIT_FAIL, "out of memory");
        h7_image_free(&img);
        return H7_EXIT_FAIL;
    }
    char text[2048];
    h7_stamp_describe(&si, text, sizeof(text));
    bool valid = si.result == BOOT_VALID;
    /* Exit 3 when the bootloader would refuse the image: scripts can gate on it. */
    rc = valid ? H7_EXIT_OK : H7_EXIT_FILE;
    cli_json_t j;
    if (cli_doc_begin(o, &j, rc)) {
        const boot_image_info_t *bi = &si.info;
        cli_json_string(&j, "file", argv[optind]);
        cli_json_bool(&j, "valid", valid);
        cli_json_string(&j, "check", boot_validate_reason_name(si.result));
        if (bi->record != 0 && bi->hdr.magic == BOOT_HDR_MAGIC) {
            cli_doc_image_version(&j, "version", &bi->hdr.version);
            cli_json_addr(&j, "load_address", bi->hdr.load_addr);
            cli_json_int(&j, "image_size", bi->hdr.image_size);
            cli_json_addr(&j, "device_id", bi->hdr.device_id);
            cli_json_addr(&j, "body_crc", bi->hdr.body_crc);
            cli_json_bool(&j, "signed", bi->has_sig);
            if (bi->has_sig) {
                char id[2 * BOOT_SIG_KEY_ID_LEN + 1];
                h7_key_id_str(bi->key_id, id);
                cli_json_string(&j, "key_id", id);
                cli_json_int(&j, "security_counter", bi->security_counter);
            }
            if (si.sig_checked) {
                cli_json_bool(&j, "signature_verifies", si.sig_result == BOOT_VALID);
            }
        } else {
            cli_json_null(&j, "version");
        }
        if (!valid) {
            char msg[256];
            snprintf(msg, sizeof(msg), "%s is not an image the h7dfu bootloader would start: %s",
                     argv[optind], boot_validate_reason_name(si.result));
            cli_doc_error(&j, rc, msg,
                          "stamp it with `h7dfu image stamp -V VERSION IN OUT`; the text output "
                          "says which check failed",
                          NULL);
        }
        cli_doc_end(&j);
    } else if (!o->json) {
        fputs(text, stdout);
        if (text[0] && text[strlen(text) - 1] != '\n') {
            fputc('\n', stdout);
        }
    }
    h7_image_free(&img);
    return rc;
}
int cmd_image(cli_opts_t *o, int argc, char **argv)
{
    /* The subcommand is the first argument that is not an option; options
     * before it are the image command's (global ones, or --help). */
    int sub = 1;
    while (sub < argc && argv[sub][0] == '-' && strcmp(argv[sub], "--") != 0) {
        sub++;
    }
    if (sub < argc && (strcmp(argv[sub], "stamp") == 0 || strcmp(argv[sub], "info") == 0 ||
                       strcmp(argv[sub], "sign") == 0)) {
        /* The subcommand's vector: its name, then everything else. */
        char *name = argv[sub];
        for (int i = sub; i > 1; i--) {
            argv[i] = argv[i - 1];
        }
        argv[1] = name;
        optind = 0;
        if (strcmp(name, "info") == 0) {
            cli_set_command("image info");
            return image_info(o, argc - 1, argv + 1);
        }
        bool resign = strcmp(name, "sign") == 0;
        cli_set_command(resign ? "image sign" : "image stamp");
        return image_stamp(o, argc - 1, argv + 1, resign);
    }
    static const cli_cmd_t cmd = {"image", image_help, "", NULL, CLI_G_DEVICE | CLI_G_ALT};
    int ec = H7_EXIT_OK;
    if (cli_getopt(o, argc, argv, &cmd, &ec) != CLI_OPT_END) {
        return ec;
    }
    if (optind < argc) {
        cli_error(o, H7_EXIT_USAGE,
                  "unknown image command '%s': stamp, sign or info (see `h7dfu "
                  "image --help`)",
                  argv[optind]);
    } else {
        cli_error(o, H7_EXIT_USAGE, "image wants stamp, sign or info (see `h7dfu image --help`)");
    }
    return H7_EXIT_USAGE;
}
