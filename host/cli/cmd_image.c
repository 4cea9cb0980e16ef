/* `h7dfu image stamp|info`: make and inspect images the h7dfu bootloader starts. */
#include "cmd.h"

#include <string.h>

#include "h7_stamp.h"

static const char image_help[] =
    "usage: h7dfu [OPTIONS] image stamp -V VERSION [-s ADDR] [-f FORMAT] IN OUT\n"
    "       h7dfu [OPTIONS] image info [-s ADDR] [-f FORMAT] FILE\n\n"
    "stamp  writes OUT: the application IN (linked for the slot at 0x08020000, its\n"
    "       vector table there) and its image record, the header the bootloader\n"
    "       checks (version, size, device 0x450, CRC32), for the record area at\n"
    "       0x081E0000 (sector 15). OUT's format follows its extension: .hex Intel\n"
    "       HEX and .dfu DfuSe (for 0483:df11) hold the body and the record at their\n"
    "       addresses (dfu-util and programmers write both); anything else is\n"
    "       h7dfu's stamped binary, the 64-byte record then the body, which only\n"
    "       h7dfu reads (it writes the body, then appends the record).\n"
    "info   shows FILE's record and body and whether the bootloader would start it\n"
    "       (exit 3 when it would not).\n\n"
    "  -V VERSION   [v]MAJOR.MINOR.PATCH[-PRE][+BUILD] or what git describe\n"
    "               prints for a tag (stamp)\n"
    "  -s, --address ADDR\n"
    "               address of a raw binary input\n"
    "  -f, --format FORMAT\n"
    "               input format: bin, ihex, srec, dfuse, dfu, elf (default: detect)\n"
    "No device is used: -d, -S, -p, -w and -a are refused.\n";

static const char stamp_help[] =
    "usage: h7dfu [OPTIONS] image stamp -V VERSION [-s ADDR] [-f FORMAT] IN OUT\n\n"
    "Writes OUT: the application IN (linked for the slot at 0x08020000, its vector\n"
    "table there) and its image record, the header the bootloader checks (version,\n"
    "size, device 0x450, CRC32), for the record area at 0x081E0000 (sector 15).\n"
    "OUT's format follows its extension: .hex Intel HEX and .dfu DfuSe (for\n"
    "0483:df11) hold the body and the record at their addresses; anything else is\n"
    "h7dfu's stamped binary, the 64-byte record then the body.\n\n"
    "  -V VERSION   [v]MAJOR.MINOR.PATCH[-PRE][+BUILD], or what git describe\n"
    "               prints: v1.2.3-4-gabcdef is 1.2.3+4 (build = commits\n"
    "               after the tag); pre-release, hash and -dirty are not stored\n"
    "  -s, --address ADDR\n"
    "               address of a raw binary IN\n"
    "  -f, --format FORMAT\n"
    "               format of IN: bin, ihex, srec, dfuse, dfu, elf (default: detect)\n"
    "No device is used: -d, -S, -p, -w and -a are refused. Here -V is the image's\n"
    "version; `h7dfu --version` prints h7dfu's.\n";

static const char info_help[] =
    "usage: h7dfu [OPTIONS] image info [-s ADDR] [-f FORMAT] FILE\n\n"
    "Shows FILE's image record and body and whether the h7dfu bootloader would\n"
    "start it, and if not, why (exit 3).\n\n"
    "  -s, --address ADDR\n"
    "               address of a raw binary FILE\n"
    "  -f, --format FORMAT\n"
    "               format of FILE: bin, ihex, srec, dfuse, dfu, elf (default: detect)\n"
    "No device is used: -d, -S, -p, -w and -a are refused.\n";

/* The options both subcommands take: -s ADDR, -f FORMAT, and for stamp
 * -V VERSION. Returns -1 to go on, else the exit code. */
static int parse_opts(cli_opts_t *o, int argc, char **argv, h7_load_opts_t *lo, h7_stamp_opts_t *so,
                      bool *have_version)
{
    static const struct option longopts[] = {
        {"address", required_argument, NULL, 's'},
        {"format", required_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    static const cli_cmd_t stamp = {"image stamp", stamp_help, "V:s:f:", longopts,
                                    CLI_G_DEVICE | CLI_G_ALT};
    static const cli_cmd_t info = {"image info", info_help, "s:f:", longopts,
                                   CLI_G_DEVICE | CLI_G_ALT};
    int c, ec = H7_EXIT_OK;
    while ((c = cli_getopt(o, argc, argv, so ? &stamp : &info, &ec)) >= 0) {
        switch (c) {
        case 'V': {
            char note[256], why[256];
            if (!h7_stamp_parse_version_text(optarg, &so->version, note, sizeof note, why,
                                             sizeof why)) {
                cli_error(o, H7_EXIT_USAGE, "%s", why);
                return H7_EXIT_USAGE;
            }
            if (note[0] != '\0')
                cli_info(o, "%s", note);
            *have_version = true;
        } break;
        case 's':
            if (!cli_parse_u32(optarg, &lo->base)) {
                cli_error(o, H7_EXIT_USAGE, "bad -s '%s': want an address", optarg);
                return H7_EXIT_USAGE;
            }
            lo->has_base = true;
            break;
        case 'f':
            if (!cli_parse_format(o, optarg, &lo->format))
                return H7_EXIT_USAGE;
            break;
        }
    }
    if (c == CLI_OPT_EXIT)
        return ec;
    return -1;
}

static int image_stamp(cli_opts_t *o, int argc, char **argv)
{
    h7_load_opts_t lo = {.format = H7_FMT_AUTO};
    h7_stamp_opts_t so;
    memset(&so, 0, sizeof(so));
    bool have_version = false;
    int prc = parse_opts(o, argc, argv, &lo, &so, &have_version);
    if (prc >= 0)
        return prc;
    if (optind + 2 < argc) {
        cli_error(o, H7_EXIT_USAGE,
                  "image stamp takes IN OUT: '%s' is one argument too many (see `h7dfu image "
                  "stamp --help`)",
                  argv[optind + 2]);
        return H7_EXIT_USAGE;
    }
    if (!have_version || optind + 2 != argc) {
        cli_error(o, H7_EXIT_USAGE,
                  "image stamp wants -V VERSION IN OUT (see `h7dfu image "
                  "stamp --help`)");
        return H7_EXIT_USAGE;
    }
    h7_image_t in, out;
    int rc = cli_load_image(o, argv[optind], &lo, &in);
    if (rc != H7_EXIT_OK)
        return rc;
    if ((rc = cli_check_base_used(o, argv[optind], &lo, &in)) != H7_EXIT_OK)
        return rc;
    char err[256];
    if (h7_stamp(&in, &so, &out, err, sizeof(err)) != 0) {
        cli_error(o, H7_EXIT_FILE, "%s: %s", argv[optind], err);
        h7_image_free(&in);
        return H7_EXIT_FILE;
    }
    const char *path = argv[optind + 1];
    /* A .dfu is for the h7dfu bootloader's VID:PID. */
    rc = cli_save_stamped(o, &out, path, 0x0483, 0xdf11);
    if (rc == H7_EXIT_OK) {
        char ver[32];
        h7_stamp_version_str(&so.version, ver, sizeof(ver));
        cli_info(o, "stamped %s as version %s: %s (%llu bytes)", argv[optind], ver, path,
                 (unsigned long long)h7_image_total_size(&out));
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
    return rc;
}

static int image_info(cli_opts_t *o, int argc, char **argv)
{
    h7_load_opts_t lo = {.format = H7_FMT_AUTO};
    int prc = parse_opts(o, argc, argv, &lo, NULL, NULL);
    if (prc >= 0)
        return prc;
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
    h7_image_t img;
    int rc = cli_load_image(o, argv[optind], &lo, &img);
    if (rc != H7_EXIT_OK)
        return rc;
    if ((rc = cli_check_base_used(o, argv[optind], &lo, &img)) != H7_EXIT_OK)
        return rc;
    h7_stamp_info_t si;
    if (h7_stamp_inspect(&img, 0, &si) != 0) {
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
        if (text[0] && text[strlen(text) - 1] != '\n')
            fputc('\n', stdout);
    }
    h7_image_free(&img);
    return rc;
}
int cmd_image(cli_opts_t *o, int argc, char **argv)
{
    /* The subcommand is the first argument that is not an option; options
     * before it are the image command's (global ones, or --help). */
    int sub = 1;
    while (sub < argc && argv[sub][0] == '-' && strcmp(argv[sub], "--") != 0)
        sub++;
    if (sub < argc && (strcmp(argv[sub], "stamp") == 0 || strcmp(argv[sub], "info") == 0)) {
        /* The subcommand's vector: its name, then everything else. */
        char *name = argv[sub];
        for (int i = sub; i > 1; i--)
            argv[i] = argv[i - 1];
        argv[1] = name;
        optind = 0;
        cli_set_command(strcmp(name, "stamp") == 0 ? "image stamp" : "image info");
        return strcmp(name, "stamp") == 0 ? image_stamp(o, argc - 1, argv + 1)
                                          : image_info(o, argc - 1, argv + 1);
    }
    static const cli_cmd_t cmd = {"image", image_help, "", NULL, CLI_G_DEVICE | CLI_G_ALT};
    int ec = H7_EXIT_OK;
    if (cli_getopt(o, argc, argv, &cmd, &ec) != CLI_OPT_END)
        return ec;
    if (optind < argc)
        cli_error(o, H7_EXIT_USAGE,
                  "unknown image command '%s': stamp or info (see `h7dfu "
                  "image --help`)",
                  argv[optind]);
    else
        cli_error(o, H7_EXIT_USAGE, "image wants stamp or info (see `h7dfu image --help`)");
    return H7_EXIT_USAGE;
}
