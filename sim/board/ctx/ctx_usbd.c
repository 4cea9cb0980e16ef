/* core/usb/usbd.c, compiled into h7dfu-sim in place of its library's copy, with its
 * file-scope state reachable for board contexts (board_ctx.h). */
#include "../../../core/usb/usbd.c"

#include "board_ctx.h"

size_t board_ctx_parts_usbd(board_ctx_part_t *out)
{
    out[0] = (board_ctx_part_t){(void *)&s_dev, sizeof(s_dev)};
    out[1] = (board_ctx_part_t){(void *)&ctrl_default_buf, sizeof(ctrl_default_buf)};
    return 2;
}
