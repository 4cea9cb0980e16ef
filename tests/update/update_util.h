/*
 * Helpers of the end-to-end update tests: test images built with the real
 * stamping code, the virtual board run as a separate process (h7dfu-sim with
 * h7dfu and app_helper under it, over libusb), and checks of the flash file
 * it leaves with the bootloader's own validation.
 */
#ifndef H7_TEST_UPDATE_UTIL_H
#define H7_TEST_UPDATE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UT_SERIAL "H7UPD0001"

/* Output of the last ut_board() run: the script's stdout, and stderr (board
 * events, h7dfu's messages, the sim's statistics). */
extern char ut_out[65536];
extern char ut_err[262144];

/* Make a fresh work directory with app images: v1.hex, v2.hex, v3.hex (stamped
 * 1.0.0 / 2.0.0 / 3.0.0, different bodies), raw.hex (the v2 body without a
 * record), big4.hex and big5.hex (4.0.0 / 5.0.0, three sectors of body that
 * differ in one byte of the second sector). Returns its path. */
const char *ut_setup(void);
void ut_teardown(void);
/* Path of a file in the work directory (static buffer, one of 4 in rotation). */
const char *ut_path(const char *name);

/*
 * Run the shell script `script` (with $H7DFU, $HELPER, $D = work dir exported)
 * under the virtual board: h7dfu-sim --fast --events --serial UT_SERIAL
 * --flash $D/flash.h7 SIM_OPTS run -- sh -c SCRIPT. Returns the sim's exit
 * status (the script's), output in ut_out / ut_err.
 */
int ut_board(const char *sim_opts, const char *script);
/* Erase the board's flash and factory-install v1. */
void ut_fresh_board_v1(void);

/* Flash file check: the slot validates (boot_validate) as version
 * major.minor.patch and holds exactly the bytes of image file `image`. */
bool ut_flash_holds(const char *image, unsigned major, unsigned minor, unsigned patch);
/* The slot does not validate (the bootloader would stay in DFU mode). */
bool ut_flash_slot_invalid(void);

/* Integer after `key` in ut_err (e.g. "flash: " -> operations). -1: none. */
long ut_err_number_before(const char *suffix);

#endif
