/*
 * DFU 1.1 run-time interface for applications (DFU 1.1 4.1 and A.1): states
 * appIDLE / appDETACH, GETSTATUS, GETSTATE and DETACH. DETACH calls the
 * application's callback; with willDetach the application then hands over
 * to the bootloader itself (the boot layer resets into DFU mode), otherwise
 * the host's bus reset during appDETACH does it (detach_reset callback).
 */
#ifndef H7_DFU_RUNTIME_H
#define H7_DFU_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>

#include "dfu_defs.h"
#include "usb_std.h"
#include "usbd_class.h"

typedef struct dfu_runtime_config {
    uint8_t itf_num;
    uint8_t attributes;         /* DFU_ATTR_*, for the functional descriptor */
    uint16_t detach_timeout_ms; /* wDetachTimeOut */
    /* DETACH accepted; timeout_ms is the host's wValue (clamped to ours). */
    void (*detach)(void *user, uint16_t timeout_ms);
    /* Bus reset while in appDETACH: enter DFU mode now. May be NULL. */
    void (*detach_reset)(void *user);
    void *user;
} dfu_runtime_config_t;

typedef struct dfu_runtime {
    dfu_runtime_config_t cfg;
    dfu_state_t state; /* DFU_STATE_APP_IDLE or DFU_STATE_APP_DETACH */
    uint16_t detach_ms;
} dfu_runtime_t;

void dfu_runtime_init(dfu_runtime_t *rt, const dfu_runtime_config_t *cfg);
void dfu_runtime_reset(dfu_runtime_t *rt);
int dfu_runtime_control(dfu_runtime_t *rt, const usb_setup_t *setup, uint8_t *data, uint16_t cap);
/* The detach timer ran out without a bus reset: back to appIDLE. */
void dfu_runtime_timeout(dfu_runtime_t *rt);

usbd_class_driver_t dfu_runtime_class_driver(dfu_runtime_t *rt);

#endif
