/*
 * Board contexts (board_ctx.h): the firmware's file-scope state, saved and
 * restored as a whole when another board's turn comes.
 */
#include "board_ctx.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef size_t (*parts_fn)(board_ctx_part_t *out);

static const parts_fn k_sources[] = {
    board_ctx_parts_usbd,       board_ctx_parts_dfu,      board_ctx_parts_hid,
    board_ctx_parts_bootloader, board_ctx_parts_demo_app, board_ctx_parts_rom,
    board_ctx_parts_dcd_sim,
};

#define MAX_PARTS (sizeof(k_sources) / sizeof(k_sources[0]) * BOARD_CTX_MAX_PARTS)

struct board_ctx {
    unsigned char *save; /* every part, one after the other */
};

static board_ctx_part_t s_parts[MAX_PARTS];
static size_t s_nparts, s_total;
static board_ctx_t *s_live;

static void parts_init(void)
{
    if (s_nparts) {
        return;
    }
    for (size_t i = 0; i < sizeof(k_sources) / sizeof(k_sources[0]); i++) {
        s_nparts += k_sources[i](&s_parts[s_nparts]);
    }
    for (size_t i = 0; i < s_nparts; i++) {
        s_total += s_parts[i].len;
    }
}

board_ctx_t *board_ctx_new(void)
{
    parts_init();
    board_ctx_t *c = calloc(1, sizeof(*c));
    if (c && (c->save = calloc(1, s_total)) == NULL) {
        free(c);
        c = NULL;
    }
    return c;
}

void board_ctx_free(board_ctx_t *c)
{
    if (!c) {
        return;
    }
    if (s_live == c) {
        s_live = NULL;
    }
    free(c->save);
    free(c);
}

static void copy_parts(unsigned char *save, bool out)
{
    size_t off = 0;
    for (size_t i = 0; i < s_nparts; i++) {
        if (out) {
            memcpy(save + off, s_parts[i].addr, s_parts[i].len);
        } else {
            memcpy(s_parts[i].addr, save + off, s_parts[i].len);
        }
        off += s_parts[i].len;
    }
}

void board_ctx_enter(board_ctx_t *c)
{
    if (!c || s_live == c) {
        return;
    }
    if (s_live) {
        copy_parts(s_live->save, true);
    }
    copy_parts(c->save, false);
    s_live = c;
}
