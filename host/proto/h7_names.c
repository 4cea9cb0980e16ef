/* Names and sentences for every DFU state and status (DFU 1.1 6.1.2, AN3156). */
#include "h7_dfu.h"
#include "h7_transport.h"

typedef struct named {
    const char *name;
    const char *text;
} named_t;

static const named_t states[] = {
    {"appIDLE", "the application is running and its DFU run-time interface is idle"},
    {"appDETACH", "the application got DETACH and waits for the USB reset that enters DFU mode"},
    {"dfuIDLE", "the device is in DFU mode and ready for a request"},
    {"dfuDNLOAD-SYNC", "a block was received; the host must ask GETSTATUS to start it"},
    {"dfuDNBUSY", "the device is erasing or programming and must not be disturbed"},
    {"dfuDNLOAD-IDLE", "the last block or command completed; the device awaits the next one"},
    {"dfuMANIFEST-SYNC", "the download is complete; GETSTATUS starts the manifestation"},
    {"dfuMANIFEST", "the device is checking and installing the new firmware"},
    {"dfuMANIFEST-WAIT-RESET", "the manifestation is over; the device waits for a USB reset"},
    {"dfuUPLOAD-IDLE", "an upload is in progress; the device awaits the next UPLOAD"},
    {"dfuERROR", "an error occurred; the device waits for CLRSTATUS"},
};

static const named_t statuses[] = {
    {"OK", "no error: the last request succeeded"},
    {"errTARGET",
     "the device refused the target: the address is not one it lets the host use "
     "(outside its memory, the bootloader's own sector, or, for a read, memory a locked "
     "bootloader does not let the host read back)"},
    {"errFILE", "the file is not meant for this device (vendor-specific check failed)"},
    {"errWRITE", "the device is unable to write memory: the sector is write protected"},
    {"errERASE", "the memory erase failed"},
    {"errCHECK_ERASED", "the memory was not erased before programming"},
    {"errPROG", "programming the memory failed"},
    {"errVERIFY", "the programmed memory failed verification (read-back mismatch or ECC error)"},
    {"errADDRESS", "the device refused the address: it is outside its memory or not aligned to "
                   "a flash word"},
    {"errNOTDONE", "a zero-length download came but the firmware is incomplete"},
    {"errFIRMWARE", "the device's firmware is corrupt and cannot return to run-time mode"},
    {"errVENDOR", "a vendor-specific error: on ST devices, read protection refused the request"},
    {"errUSBR", "the device detected an unexpected USB reset"},
    {"errPOR", "the device detected an unexpected power-on reset (power was lost)"},
    {"errUNKNOWN", "something went wrong, the device cannot say what"},
    {"errSTALLEDPKT", "the device stalled an unexpected request (wrong state, length or "
                      "command)"},
};

static const char *const hints[] = {
    "nothing to do",
    "check the address against the device's memory layout (h7dfu info); the bootloader's "
    "sector cannot be written over USB",
    "use an image built for this device",
    "remove the write protection (option bytes) of that sector, or write elsewhere",
    "retry; if it fails again the flash may be worn or the supply unstable",
    "erase the sectors first (h7dfu write erases what it writes)",
    "retry the write after an erase; if it fails again the flash may be worn",
    "erase and write again; if it fails again the flash may be worn",
    "check the image's addresses: they must lie in writable flash and start on a 32-byte "
    "boundary",
    "write the whole image before leaving DFU mode",
    "write a valid image again",
    "remove read protection with ST's tools if you mean to (it erases the flash)",
    "keep the USB link stable during the update and run the command again",
    "keep the board powered during the update and run the command again",
    "run the command again; if it persists, reset the board",
    "the host sent a request the device did not expect; run the command again (h7dfu clears "
    "the error first)",
};

const char *h7_dfu_state_name(uint8_t state)
{
    return state < sizeof(states) / sizeof(states[0]) ? states[state].name : "unknown-state";
}

const char *h7_dfu_state_text(uint8_t state)
{
    return state < sizeof(states) / sizeof(states[0]) ? states[state].text
                                                      : "a state DFU 1.1 does not define";
}

const char *h7_dfu_status_name(uint8_t status)
{
    return status < sizeof(statuses) / sizeof(statuses[0]) ? statuses[status].name
                                                           : "unknown-status";
}

const char *h7_dfu_status_text(uint8_t status)
{
    return status < sizeof(statuses) / sizeof(statuses[0]) ? statuses[status].text
                                                           : "a status DFU 1.1 does not define";
}

const char *h7_dfu_status_hint(uint8_t status)
{
    return status < sizeof(hints) / sizeof(hints[0]) ? hints[status]
                                                     : "reset the board and run the command again";
}

const char *h7_xfer_error_name(int err)
{
    switch (err) {
    case H7_XFER_STALL:
        return "the device stalled the request";
    case H7_XFER_NO_DEVICE:
        return "the device is gone (unplugged or reset)";
    case H7_XFER_TIMEOUT:
        return "the transfer timed out";
    case H7_XFER_IO:
        return "USB input/output error";
    default:
        return err >= 0 ? "no error" : "unknown transfer error";
    }
}
