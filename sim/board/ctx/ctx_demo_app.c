/* firmware/demo-app/demo_app.c, compiled into h7dfu-sim in place of its library's copy, with its
 * file-scope state reachable for board contexts (board_ctx.h). */
#include "../../../firmware/demo-app/demo_app.c"

#include "board_ctx.h"

size_t board_ctx_parts_demo_app(board_ctx_part_t *out)
{
    out[0] = (board_ctx_part_t){(void *)&s_app, sizeof(s_app)};
    return 1;
}
