/* The h7dfu subcommands; each parses its own options (argv[0] is its name). */
#ifndef H7_CMD_H
#define H7_CMD_H

#include "cli.h"

int cmd_list(const cli_opts_t *o, int argc, char **argv);
int cmd_info(const cli_opts_t *o, int argc, char **argv);
int cmd_write(const cli_opts_t *o, int argc, char **argv);
int cmd_read(const cli_opts_t *o, int argc, char **argv);
int cmd_erase(const cli_opts_t *o, int argc, char **argv);
int cmd_leave(const cli_opts_t *o, int argc, char **argv);
int cmd_detach(const cli_opts_t *o, int argc, char **argv);
int cmd_update(const cli_opts_t *o, int argc, char **argv);
int cmd_image(const cli_opts_t *o, int argc, char **argv);
int cmd_optbytes(const cli_opts_t *o, int argc, char **argv);

#endif
