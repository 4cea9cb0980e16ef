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

#endif
