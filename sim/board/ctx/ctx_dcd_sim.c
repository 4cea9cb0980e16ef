/* sim/usb/dcd_sim.c, compiled into h7dfu-sim in place of its library's copy, with its
 * file-scope state reachable for board contexts (board_ctx.h). */
#include "../../../sim/usb/dcd_sim.c"

#include "board_ctx.h"

size_t board_ctx_parts_dcd_sim(board_ctx_part_t *out)
{
    out[0] = (board_ctx_part_t){(void *)&s, sizeof(s)};
    return 1;
}
