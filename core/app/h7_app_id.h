/*
 * How the host tool recognises an application built on the h7dfu application
 * library, without opening it: the string of its DFU run-time interface
 * (USB 2.0 9.6.5 iInterface) starts with H7_APP_DFU_ITF_NAME. An application
 * may append its own words after a space ("h7dfu runtime (pump controller)").
 * h7dfu update and h7dfu detach, given no device, only ever touch devices
 * that carry it (or whose VID:PID the user lists). No includes: the host
 * tool shares it.
 */
#ifndef H7_APP_ID_H
#define H7_APP_ID_H

#define H7_APP_DFU_ITF_NAME "h7dfu runtime"

#endif
