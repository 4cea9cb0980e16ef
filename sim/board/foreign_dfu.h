/*
 * A device of another maker on the virtual bus: a USB dock with a DFU
 * run-time interface (DFU 1.1 4.1), as docks, keyboards and other products
 * carry one. h7dfu must leave it alone unless the user selects it. It is
 * served beside the board (sim_usb_bridge_config_t.beside) through the same
 * device-end operations as the board's controller.
 *
 * VID:PID FOREIGN_DFU_VID:FOREIGN_DFU_PID, serial FOREIGN_DFU_SERIAL. A
 * DFU_DETACH makes it restart in DFU mode (bitWillDetach set): it leaves the
 * bus and comes back with a DFU-mode interface, so a detach shows.
 */
#ifndef H7_SIM_FOREIGN_DFU_H
#define H7_SIM_FOREIGN_DFU_H

#include <stdbool.h>

#include "sim_usb_bridge.h"

#define FOREIGN_DFU_VID    0x1209u /* pid.codes test VID:PID */
#define FOREIGN_DFU_PID    0x0001u
#define FOREIGN_DFU_SERIAL "DOCK0001"

typedef struct foreign_dfu foreign_dfu_t;

foreign_dfu_t *foreign_dfu_new(void);
void foreign_dfu_free(foreign_dfu_t *f);
/* Its device end, for sim_usb_bridge_config_t.dev_ops (dev = f). */
const sim_usb_device_ops_t *foreign_dfu_ops(void);
/* sim_usb_bridge_config_t.step: it answers at once, nothing runs on its own. */
void foreign_dfu_step(void *f);
/* True once it took a DFU_DETACH. */
bool foreign_dfu_detached(const foreign_dfu_t *f);

#endif
