/* Ctrl-C (SIGINT) and SIGTERM during a device command: the first one asks the
 * running operation to stop at a safe point; a second one ends h7dfu at once. */
#include "cli.h"

#include <string.h>

static volatile sig_atomic_t stop_asked;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_asked = 1;
}

void cli_stop_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    /* SA_RESETHAND: the default action is back once the handler ran, so the
     * second signal ends the program. */
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

volatile sig_atomic_t *cli_stop_flag(void)
{
    return &stop_asked;
}

bool cli_stop_asked(void)
{
    return stop_asked != 0;
}

int cli_interrupted(const cli_opts_t *o, const char *what)
{
    cli_error(o, H7_EXIT_INTERRUPTED, "interrupted: %s", what);
    return H7_EXIT_INTERRUPTED;
}

int cli_write_interrupted(const cli_opts_t *o, const h7_write_report_t *rep)
{
    char what[192];
    snprintf(what, sizeof(what),
             "%llu of %llu bytes written; the board is in DFU mode (dfuIDLE); run the same "
             "command again to finish",
             (unsigned long long)rep->bytes_written, (unsigned long long)rep->bytes_to_write);
    return cli_interrupted(o, what);
}
