/* The h7dfu subcommands; each parses its own options and the global ones
 * (argv[0] is its name; cli_getopt). */
#ifndef H7_CMD_H
#define H7_CMD_H

#include "cli.h"

int cmd_list(cli_opts_t *o, int argc, char **argv);
int cmd_info(cli_opts_t *o, int argc, char **argv);
int cmd_write(cli_opts_t *o, int argc, char **argv);
int cmd_read(cli_opts_t *o, int argc, char **argv);
int cmd_erase(cli_opts_t *o, int argc, char **argv);
int cmd_leave(cli_opts_t *o, int argc, char **argv);
int cmd_detach(cli_opts_t *o, int argc, char **argv);
int cmd_update(cli_opts_t *o, int argc, char **argv);
int cmd_image(cli_opts_t *o, int argc, char **argv);
int cmd_key(cli_opts_t *o, int argc, char **argv);
int cmd_optbytes(cli_opts_t *o, int argc, char **argv);
int cmd_update_bootloader(cli_opts_t *o, int argc, char **argv);

/* `update` on several boards (-S A,B,... or --all): each board in a run of
 * its own, `h7dfu --json -q -S SERIAL update [options] FILE`, at most
 * parallel at once; a result line per board and one document for all. */
#define CLI_MAX_PARALLEL 64
typedef struct cli_many {
    bool all;          /* every h7dfu board present */
    unsigned parallel; /* boards at once */
    const char *file;
    /* update's own options as given (NULL: not given), for each board's run */
    const char *address, *format, *wait_dfu, *wait_app;
    bool force, no_skip;
} cli_many_t;
int cli_update_many(cli_opts_t *o, const cli_many_t *m);

#endif
