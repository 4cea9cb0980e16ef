/* h7dfu: update STM32H7 (and any DfuSe) devices over USB DFU. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static const struct cmd {
    const char *name;
    int (*run)(cli_opts_t *o, int argc, char **argv);
    const char *summary;
} cmds[] = {
    {"list", cmd_list, "list DFU devices and applications with a DFU runtime interface"},
    {"info", cmd_info, "show one device: descriptors, memory layout, DFU state"},
    {"write", cmd_write, "write an image (ihex, srec, dfu, elf, bin), verify it, optionally leave"},
    {"read", cmd_read, "read ADDR:LEN of device memory into a file"},
    {"erase", cmd_erase, "erase the sectors of ADDR:LEN, or the whole flash (--mass)"},
    {"leave", cmd_leave, "leave DFU mode and start the application"},
    {"detach", cmd_detach, "send DFU_DETACH to a running application"},
    {"option-bytes", cmd_optbytes, "show (decoded) or change the option bytes (ST ROM bootloader)"},
    {"image", cmd_image, "stamp an application image for the h7dfu bootloader, or inspect one"},
    {"key", cmd_key, "generate a signing key (P-256), export its public key"},
    {"update", cmd_update, "detach the application, write + verify FILE, wait for it to return"},
    {"update-bootloader", cmd_update_bootloader,
     "replace the h7dfu bootloader in sector 0 through ST's ROM bootloader"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: h7dfu [OPTIONS] COMMAND [ARGS]\n\n"
               "Commands:\n");
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        fprintf(f, "  %-13s %s\n", cmds[i].name, cmds[i].summary);
    }
    fprintf(f, "\nOptions (before or after the command, or among its arguments):\n"
               "  -d, --device VID:PID   only devices with this ID (hex)\n"
               "  -S, --serial SERIAL    only the device with this serial number\n"
               "  -p, --path BUS-PORT    only the device on this USB path (as `list` shows)\n"
               "  -a, --alt N            DFU alternate setting (default: the first)\n"
               "  -w, --wait SECONDS     wait this long for the device to appear (default 0)\n"
               "  -j, --json             print one JSON object on stdout, nothing else\n"
               "  -q, --quiet            no progress, only errors\n"
               "  -v, --verbose          more detail (write, update: the plan and timings)\n"
               "  -h, --help             this text; `h7dfu COMMAND --help` for a command\n"
               "  -V, --version          print the version\n"
               "\nExit codes: 0 ok, 1 other failure, 2 usage (also update/detach with several\n"
               "boards and none selected), 3 bad image file, 4 no (unique)\n"
               "device, 5 image does not fit (nothing written), 6 the device reported a DFU\n"
               "error, 7 verify mismatch, 8 USB transfer failed or device lost, 130\n"
               "interrupted (Ctrl-C or SIGTERM; the device is left in DFU mode, dfuIDLE).\n");
}

int main(int argc, char **argv)
{
    cli_opts_t o;
    memset(&o, 0, sizeof(o));
    o.alt = -1;
    cli_clock_start();
    /* --json anywhere also makes a command-line error JSON. */
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") == 0) {
            o.json = true;
        }
    }
    int c;
    char shorts[32];
    snprintf(shorts, sizeof(shorts), "+:%s", cli_global_shorts);
    opterr = 0;
    while ((c = getopt_long(argc, argv, shorts, cli_global_longs, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return H7_EXIT_OK;
        }
        if (c == '?' || c == ':') {
            if (c == '?' && optopt && optopt < 256) {
                cli_error(&o, H7_EXIT_USAGE, "unknown option '-%c' (see `h7dfu --help`)", optopt);
            } else {
                cli_error(&o, H7_EXIT_USAGE, "%s option '%s' (see `h7dfu --help`)",
                          c == ':' ? "a value is missing after" : "unknown", argv[optind - 1]);
            }
            return H7_EXIT_USAGE;
        }
        bool stop;
        int rc = cli_global_opt(&o, c, optarg, &stop);
        if (rc != H7_EXIT_OK || stop) {
            return rc;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        cli_error(&o, H7_EXIT_USAGE, "no command given (see `h7dfu --help`)");
        return H7_EXIT_USAGE;
    }
    const char *name = argv[optind];
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        if (strcmp(name, cmds[i].name) == 0) {
            /* The command parses its own options: argv[0] is its name. */
            int sub_argc = argc - optind;
            char **sub_argv = argv + optind;
            optind = 0; /* GNU getopt: start afresh (permuting) on the new vector */
            cli_set_command(cmds[i].name);
            return cmds[i].run(&o, sub_argc, sub_argv);
        }
    }
    cli_error(&o, H7_EXIT_USAGE, "unknown command '%s' (see `h7dfu --help`)", name);
    return H7_EXIT_USAGE;
}
