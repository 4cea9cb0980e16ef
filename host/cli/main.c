/* h7dfu: update STM32H7 (and any DfuSe) devices over USB DFU. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static const struct cmd {
    const char *name;
    int (*run)(const cli_opts_t *o, int argc, char **argv);
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
    {"update", cmd_update, "detach the application, write + verify FILE, wait for it to return"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: h7dfu [OPTIONS] COMMAND [ARGS]\n\n"
               "Commands:\n");
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        fprintf(f, "  %-13s %s\n", cmds[i].name, cmds[i].summary);
    fprintf(f, "\nOptions (before the command):\n"
               "  -d, --device VID:PID   only devices with this ID (hex)\n"
               "  -S, --serial SERIAL    only the device with this serial number\n"
               "  -p, --path BUS-PORT    only the device on this USB path (as `list` shows)\n"
               "  -a, --alt N            DFU alternate setting (default: the first)\n"
               "  -w, --wait SECONDS     wait this long for the device to appear (default 0)\n"
               "  -j, --json             print one JSON object on stdout, nothing else\n"
               "  -q, --quiet            no progress, only errors\n"
               "  -v, --verbose          more detail\n"
               "  -h, --help             this text; `h7dfu COMMAND --help` for a command\n"
               "  -V, --version          print the version\n"
               "\nExit codes: 0 ok, 1 other failure, 2 usage, 3 bad image file, 4 no (unique)\n"
               "device, 5 image does not fit (nothing written), 6 the device reported a DFU\n"
               "error, 7 verify mismatch, 8 USB transfer failed or device lost.\n");
}

int main(int argc, char **argv)
{
    cli_opts_t o;
    memset(&o, 0, sizeof(o));
    o.alt = -1;
    static const struct option longopts[] = {
        {"device", required_argument, NULL, 'd'},
        {"serial", required_argument, NULL, 'S'},
        {"path", required_argument, NULL, 'p'},
        {"alt", required_argument, NULL, 'a'},
        {"wait", required_argument, NULL, 'w'},
        {"json", no_argument, NULL, 'j'},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;
    uint32_t v;
    while ((c = getopt_long(argc, argv, "+d:S:p:a:w:jqvhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            if (!cli_parse_vidpid(optarg, &o.vid, &o.pid)) {
                cli_error(&o, H7_EXIT_USAGE, "-d wants VID:PID in hex, e.g. 0483:df11");
                return H7_EXIT_USAGE;
            }
            o.filter.vid = o.vid;
            o.filter.pid = o.pid;
            break;
        case 'S':
            o.filter.serial = optarg;
            break;
        case 'p':
            o.filter.path = optarg;
            break;
        case 'a':
            if (!cli_parse_u32(optarg, &v) || v > 255) {
                cli_error(&o, H7_EXIT_USAGE, "-a wants an alternate setting number 0..255");
                return H7_EXIT_USAGE;
            }
            o.alt = (int)v;
            break;
        case 'w':
            if (!cli_parse_u32(optarg, &v) || v > 3600) {
                cli_error(&o, H7_EXIT_USAGE, "-w wants seconds (0..3600)");
                return H7_EXIT_USAGE;
            }
            o.timeout_ms = v * 1000u;
            break;
        case 'j':
            o.json = true;
            break;
        case 'q':
            o.quiet = true;
            break;
        case 'v':
            o.verbose = true;
            break;
        case 'h':
            usage(stdout);
            return H7_EXIT_OK;
        case 'V':
            printf("h7dfu %s\n", H7DFU_VERSION);
            return H7_EXIT_OK;
        default:
            usage(stderr);
            return H7_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return H7_EXIT_USAGE;
    }
    const char *name = argv[optind];
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        if (strcmp(name, cmds[i].name) == 0) {
            /* The command parses its own options: argv[0] is its name. */
            int sub_argc = argc - optind;
            char **sub_argv = argv + optind;
            optind = 1;
            return cmds[i].run(&o, sub_argc, sub_argv);
        }
    }
    cli_error(&o, H7_EXIT_USAGE, "unknown command '%s' (see `h7dfu --help`)", name);
    return H7_EXIT_USAGE;
}
