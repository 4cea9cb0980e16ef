/* sim/board/rom.c, compiled into h7dfu-sim in place of its library's copy, with its
 * file-scope state reachable for board contexts (board_ctx.h). */
#include "../../../sim/board/rom.c"

#include "board_ctx.h"

size_t board_ctx_parts_rom(board_ctx_part_t *out)
{
    out[0] = (board_ctx_part_t){(void *)&s_rom, sizeof(s_rom)};
    return 1;
}
