/*
 * USB serial number from the 96-bit unique device ID (RM0433 61.1 "Unique
 * device ID register", base 0x1FF1 E800, same as ST's CMSIS UID_BASE for the
 * H743): 24 upper-case hex digits, so the
 * host can tell two boards apart in bootloader and application alike.
 */
#include "h743_port.h"

#define H7_UID_BASE 0x1FF1E800u

void h743_serial_string(char out[25])
{
    static const char hex[] = "0123456789ABCDEF";
    const volatile uint32_t *uid = (const volatile uint32_t *)H7_UID_BASE;
    unsigned pos = 0;
    for (unsigned w = 0; w < 3u; w++) {
        uint32_t v = uid[w];
        for (int sh = 28; sh >= 0; sh -= 4) {
            out[pos++] = hex[(v >> (unsigned)sh) & 0xFu];
        }
    }
    out[pos] = '\0';
}
