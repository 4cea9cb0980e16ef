/* core/dfu/dfu.c, compiled into h7dfu-sim in place of its library's copy, with its
 * file-scope state reachable for board contexts (board_ctx.h). */
#include "../../../core/dfu/dfu.c"

#include "board_ctx.h"

size_t board_ctx_parts_dfu(board_ctx_part_t *out)
{
    out[0] = (board_ctx_part_t){(void *)&s_default_clock, sizeof(s_default_clock)};
    out[1] = (board_ctx_part_t){(void *)&s_default_clock_user, sizeof(s_default_clock_user)};
    return 2;
}
