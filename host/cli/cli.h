/* Shared pieces of the h7dfu command: options, exit codes, output helpers. */
#ifndef H7_CLI_H
#define H7_CLI_H

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "h7_dfu.h"
#include "h7_hidapp.h"
#include "h7_error.h"
#include "h7_ops.h"
#include "h7_usb.h"
#include "image_header.h"

#include "cli_json.h"

/* Exit codes (documented in docs/h7dfu.1 and `h7dfu --help`). */
enum h7_exit {
    H7_EXIT_OK = 0,
    H7_EXIT_FAIL = 1,          /* anything not listed below */
    H7_EXIT_USAGE = 2,         /* bad command line; update/detach: several boards, none selected */
    H7_EXIT_FILE = 3,          /* image file unreadable or malformed */
    H7_EXIT_NO_DEVICE = 4,     /* no matching device, or more than one */
    H7_EXIT_REFUSED = 5,       /* the image does not fit the device: nothing was written */
    H7_EXIT_DEVICE = 6,        /* the device reported a DFU error */
    H7_EXIT_VERIFY = 7,        /* read-back differs from the image */
    H7_EXIT_USB = 8,           /* transfer failed, device lost, or timed out */
    H7_EXIT_INTERRUPTED = 130, /* stopped by SIGINT (Ctrl-C) or SIGTERM, device left in dfuIDLE */
};

/* VID:PID pairs the user allows update and detach to touch without a
 * selection (--id, H7DFU_IDS), besides h7dfu's own devices. */
#define CLI_MAX_IDS 32
typedef struct cli_ids {
    unsigned n;
    uint16_t vid[CLI_MAX_IDS], pid[CLI_MAX_IDS];
} cli_ids_t;

#define CLI_MAX_SERIAL_ARGS 64
typedef struct cli_opts {
    h7_usb_filter_t filter;
    cli_ids_t ids;
    uint16_t vid, pid;
    int alt; /* -1: first alt setting */
    bool json;
    bool quiet;
    bool verbose;
    unsigned timeout_ms; /* waiting for devices to appear */
    unsigned given;      /* CLI_G_* of the global options given */
    /* Every -S given, in order (filter.serial is the last one): several, or
     * a comma-separated list, name several boards (update only). */
    const char *serial_args[CLI_MAX_SERIAL_ARGS];
    unsigned n_serial_args;
} cli_opts_t;

/* Global options by what they act on; a command without use for one refuses
 * it rather than ignore it. */
#define CLI_G_DEVICE 0x01u /* -d -S -p -w: which device */
#define CLI_G_ALT    0x02u /* -a: which alternate setting */

/* A device opened for DFU work. */
typedef struct cli_dev {
    h7_usb_t *usb;
    h7_usb_device_t info;
    h7_usb_handle_t *handle;
    h7_transport_t transport;
    h7_dfu_client_t dfu;
    int alt_index; /* index into info.alts */
} cli_dev_t;

/* --- cli_device.c --- */
/* h7_usb_init() with the error said in words; an exit code. */
int cli_usb_init(const cli_opts_t *o, h7_usb_t **usb);
int cli_find_one(h7_usb_t *usb, const cli_opts_t *o, bool want_dfu_mode, h7_usb_device_t *out);
/* Every device matching o->filter (*out to free(), returns how many or < 0),
 * waiting up to o->timeout_ms (-w) until there is one and all are whole. */
int cli_find_all(h7_usb_t *usb, const cli_opts_t *o, h7_usb_device_t **out);
/* -d, -S or -p given: the user chose the device. */
bool cli_selected(const cli_opts_t *o);
/*
 * The board `update` or `detach` acts on, in either mode. Selected (-d -S
 * -p): the one device that matches, whatever it is. Else only candidates:
 * h7dfu applications (h7_usb_is_h7dfu_app), the h7dfu bootloader or ST's ROM
 * bootloader in DFU mode, and devices whose VID:PID is in o->ids; several is
 * a usage error (H7_EXIT_USAGE, each listed). Waits up to o->timeout_ms.
 * H7_EXIT_OK or the exit code, said.
 */
int cli_find_target(h7_usb_t *usb, const cli_opts_t *o, h7_usb_device_t *out);
/* -S named several boards (repeated, or "A,B"): a usage error, said, for a
 * command that works on one device. H7_EXIT_OK or H7_EXIT_USAGE. */
int cli_one_serial(const cli_opts_t *o);
/* Every h7dfu board present, for `update --all`: h7dfu applications and the
 * h7dfu bootloader in DFU mode (never ST's ROM bootloader, which any STM32
 * has), and devices whose VID:PID is in o->ids; within o->filter's VID:PID.
 * Waits up to o->timeout_ms for one, and until all are whole. How many (*out
 * to free()), or < 0: a libusb error. */
int cli_find_boards(h7_usb_t *usb, const cli_opts_t *o, h7_usb_device_t **out);
/* True for a device listed while half added: none of its strings could be read. */
bool cli_dev_half_seen(const h7_usb_device_t *d);
/* A monotonic millisecond clock, and a wait, for the device polls. */
uint64_t cli_now_ms(void);
void cli_sleep_ms(unsigned ms);
/* After a leave from the h7dfu bootloader: wait for the board and say what
 * it did (the application started, with its version; or back in DFU mode,
 * with the bootloader's reason). H7_EXIT_OK, or H7_EXIT_DEVICE. */
int cli_after_leave(const cli_opts_t *o, const cli_dev_t *d);
/* Leave DFU mode at addr and say so; on the h7dfu bootloader (h7bl) then
 * cli_after_leave(). H7_EXIT_OK or the exit code (said). */
int cli_leave_and_report(const cli_opts_t *o, cli_dev_t *d, uint32_t addr, bool h7bl);
/* The running application's version (its HID report); 0 or < 0. */
int cli_app_version(const h7_usb_device_t *app, h7_app_version_t *v);
/* The same for a look (list, info): an application another program holds is
 * not waited for. */
int cli_look_app_version(const h7_usb_device_t *app, h7_app_version_t *v);
/* The h7dfu bootloader's boot status (vendor request 0xC4: its boot
 * decision, the slot check, the newest record's version) of a DFU-mode
 * device, opened for this only. recover: clear the device's state first and
 * wait for its interface (after a leave); otherwise a device that is held by
 * another program, or is not in dfuIDLE, is left alone. 0, or < 0 (also for
 * a device without the request: not the h7dfu bootloader). */
int cli_look_boot_status(const h7_usb_device_t *bl, bool recover, h7_boot_status_t *bs);
int cli_open_dfu(const cli_opts_t *o, cli_dev_t *d);
void cli_close(cli_dev_t *d);
/* Where `leave` without an address sends the device: the first writable
 * sector of the selected alt setting's layout (the application's start). A
 * DfuSe leave needs a set-address first unless it directly follows a
 * download (DFU 1.1 A.2.6), and a write that was verified ends in dfuIDLE. */
uint32_t cli_default_start(const cli_dev_t *d);
/* Map a libh7dfu failure to an exit code and print it. */
int cli_fail_dfu(const cli_opts_t *o, const h7_dfu_client_t *dfu, const char *what);

/* --- cli_signal.c: SIGINT / SIGTERM during a device command --- */
/* From now on the first SIGINT or SIGTERM only sets the stop flag (the
 * operation stops at its next safe point); the next one ends the program. */
void cli_stop_install(void);
/* The flag, for h7_write_cfg_t.cancel. */
volatile sig_atomic_t *cli_stop_flag(void);
bool cli_stop_asked(void);
/* Say that the command stopped on the signal ("interrupted: " what: how far
 * it got, the board's state, what to do); returns H7_EXIT_INTERRUPTED. */
int cli_interrupted(const cli_opts_t *o, const char *what);
/* The same for a write that failed with H7_E_CANCELLED. */
int cli_write_interrupted(const cli_opts_t *o, const h7_write_report_t *rep);

/* --- cli_image.c --- */
/* Load an image; on failure say what and where (file:line / offset), return
 * H7_EXIT_FILE with img freed. */
int cli_load_image(const cli_opts_t *o, const char *path, const h7_load_opts_t *lo,
                   h7_image_t *img);
/* -s ADDR given (lo->has_base) for a file that carries its own addresses
 * (not a raw binary or a plain DFU file): a usage error, said, rather than an
 * address silently unused. H7_EXIT_OK or H7_EXIT_USAGE (img freed). */
int cli_check_base_used(const cli_opts_t *o, const char *path, const h7_load_opts_t *lo,
                        h7_image_t *img);
/* -f FORMAT; false after printing the error. */
bool cli_parse_format(const cli_opts_t *o, const char *arg, h7_image_format_t *fmt);
/* -s ADDR (where a raw binary goes) or -f FORMAT, c being 's' or 'f': the
 * image-file options update and image stamp/sign/info take alike, applied to
 * lo; false after saying what is wrong. (write's -s is an ADDR[:leave...]
 * spec of its own.) */
bool cli_load_opt(const cli_opts_t *o, int c, const char *arg, h7_load_opts_t *lo);
/* Format of a file h7dfu writes, from its name: .hex/.ihex, .dfu, else raw. */
h7_image_format_t cli_output_format(const char *path);
/* Write img to path in cli_output_format(path) (a .dfu names vid:pid);
 * H7_EXIT_OK or, after printing why, H7_EXIT_FILE. */
int cli_save_image(const cli_opts_t *o, const h7_image_t *img, const char *path, uint16_t vid,
                   uint16_t pid);

/* A stamped image (body + record) to path: as cli_save_image, except that a
 * raw binary is h7dfu's stamped container (the 64-byte record, then the body;
 * cli_load_image splits it again). */
int cli_save_stamped(const cli_opts_t *o, const h7_image_t *img, const char *path, uint16_t vid,
                     uint16_t pid);

/* --- cli_slot.c: the h7dfu bootloader's application slot --- */
/* When img has data in the record area (sector 15): leave only the body in
 * img and point cfg at the newest record found there (kept in record), which
 * the write appends after the body. Returns 0, or -1 when out of memory. */
int cli_slot_prepare(h7_image_t *img, h7_write_cfg_t *cfg, uint8_t record[BOOT_REC_SIZE]);
/* False (with the bootloader's reason in why) when img targets the slot but
 * the bootloader would refuse to start it. */
bool cli_slot_image_ok(const h7_image_t *img, char *why, size_t len);
/* Would the h7dfu bootloader start what its slot holds now? The check it runs
 * at reset (core/boot's boot_validate), on the flash as read back: its boot
 * status only tells what it found at the last reset, before any write since.
 * 1: yes; 0: no, with its reason in why; -1: the device could not be read
 * (dfu->err); 2: the device refuses to be read (a locked bootloader,
 * docs/production.md): unknown, the bootloader checks at its reset. The
 * device ends in dfuIDLE. */
int cli_slot_check_device(h7_dfu_client_t *dfu, char *why, size_t len);

/* --- cli_output.c --- */
void cli_progress(void *user, h7_phase_t phase, uint64_t done, uint64_t total);
void cli_progress_end(void);
void cli_info(const cli_opts_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A failure: said on stderr, and with --json the error document on stdout. */
void cli_error(const cli_opts_t *o, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* cli_error with what to do (NULL: the exit code's usual advice) and the
 * device's DFU state and status (NULL: none). */
void cli_error_hint(const cli_opts_t *o, int code, const char *hint, const h7_error_t *dfu,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The one JSON document of a run, on stdout with --json (docs/h7dfu.1, JSON
 * OUTPUT): "schema", "command", "ok" (exit 0), "exit", then the command's
 * fields. A command writes it once it knows how it ends; cli_error writes the
 * error document. */
#define CLI_JSON_SCHEMA 1
/* The command the document names ("write", "image stamp"). */
void cli_set_command(const char *name);
/* The device the command works on: its serial and path go into an error
 * document as well. */
void cli_note_device(const h7_usb_device_t *d);
/* The short word of an exit code: usage, file, no-device, ... */
const char *cli_exit_category(int code);
/* Start the document; false (write nothing) without --json or when the
 * run's document was printed already. */
bool cli_doc_begin(const cli_opts_t *o, cli_json_t *j, int exit_code);
/* Close whatever is open and end the line. */
void cli_doc_end(cli_json_t *j);
/* "serial" and "path" (USB bus path). */
void cli_doc_device(cli_json_t *j, const h7_usb_device_t *d);
/* Versions: {"major","minor","patch",("build",)"text"}; NULL: null. */
void cli_doc_image_version(cli_json_t *j, const char *key, const boot_image_version_t *v);
void cli_doc_app_version(cli_json_t *j, const char *key, const h7_app_version_t *v);
/* The h7dfu bootloader's boot status: the slot check and the newest record;
 * NULL: null. */
void cli_doc_slot(cli_json_t *j, const char *key, const h7_boot_status_t *bs);
/* The "error" object: category, message, hint, decoded DFU state/status. */
void cli_doc_error(cli_json_t *j, int code, const char *msg, const char *hint,
                   const h7_error_t *dfu);

/* --- parsing helpers (cli_parse.c) --- */
bool cli_parse_u32(const char *s, uint32_t *v);
/* A length: a number as cli_parse_u32, optionally followed by K (KiB) or M
 * (MiB), e.g. 128K, 1M, 0x20000. */
bool cli_parse_len(const char *s, uint32_t *v);
bool cli_parse_vidpid(const char *s, uint16_t *vid, uint16_t *pid);
/* "VID:PID[,VID:PID...]" added to ids; false (ids may be part filled) for a
 * bad pair or more than CLI_MAX_IDS in all. */
bool cli_parse_ids(const char *s, cli_ids_t *ids);
/* The serial numbers of n -S arguments, each "S" or "S1,S2,...": split at the
 * commas, duplicates dropped, in order. *out (free() it: one block) holds
 * the count of pointers; returns how many, or -1 for an empty serial ("A,,B",
 * a trailing comma) or no memory. */
int cli_split_serials(const char *const *args, unsigned n, char ***out);
/* --id ARG, or (arg NULL) the H7DFU_IDS environment variable when set, into
 * o->ids. H7_EXIT_OK, or H7_EXIT_USAGE after saying what is wrong. */
int cli_add_ids(cli_opts_t *o, const char *arg);
/* dfu-util style "ADDR[:LEN][:leave][:mass-erase][:force]". */
typedef struct cli_addr_spec {
    bool has_addr, has_len, leave, mass_erase, force;
    uint32_t addr, len;
} cli_addr_spec_t;
bool cli_parse_addr_spec(const char *s, cli_addr_spec_t *out);

/* The command line of one command: its own options and the global ones, in
 * any order before and after its positional arguments ("--" ends them). */
typedef struct cli_cmd {
    const char *name;           /* "write", "image stamp" */
    const char *help;           /* printed on stdout by -h / --help */
    const char *shorts;         /* own short options, getopt syntax ("s:f:") */
    const struct option *longs; /* own long options, NULL-terminated, or NULL */
    unsigned unused;            /* CLI_G_* the command has no use for: refused */
} cli_cmd_t;
#define CLI_OPT_END  (-1) /* no more options: argv[optind..] are the arguments */
#define CLI_OPT_EXIT (-2) /* stop with *exit_code (help printed, or an error said) */
/* Next own option of the command (getopt_long's value, optarg set); global
 * options are applied to o on the way. argv[0] is the command's name. */
int cli_getopt(cli_opts_t *o, int argc, char **argv, const cli_cmd_t *c, int *exit_code);
/* Apply global option c (its short letter) with arg; H7_EXIT_OK to go on,
 * else the exit code (after the error, or --version, was printed). */
int cli_global_opt(cli_opts_t *o, int c, const char *arg, bool *stop);
/* The arguments after the options: exactly want of them (min..max), or a
 * usage error naming the first one too many (what: "FILE", "ADDR:LEN FILE").
 * H7_EXIT_OK or H7_EXIT_USAGE. */
int cli_want_args(const cli_opts_t *o, int argc, char **argv, const cli_cmd_t *c, int min, int max,
                  const char *what);
/* The global options, for main(). */
extern const struct option cli_global_longs[];
extern const char cli_global_shorts[];
/* Seconds since the program started (for the elapsed times printed). */
double cli_elapsed(void);
void cli_clock_start(void);

#endif
