/*
 * h7dfu-sim flash ...: look into and change a flash file (--flash FILE,
 * sim/flash/sim_flash.h) without a board run, through the flash model's own
 * load and save, so no script needs to know the file's layout:
 *
 *   h7dfu-sim flash dump FILE ADDR LEN [OUT]     the bytes at ADDR.., raw
 *   h7dfu-sim flash poke FILE ADDR HEX|@IN       put bytes there (words marked
 *                                                programmed)
 *   h7dfu-sim flash protect FILE SECTOR on|off   a sector's write protection
 *   h7dfu-sim flash info FILE                    protection, words per sector
 */
#ifndef H7_SIM_FLASH_CMD_H
#define H7_SIM_FLASH_CMD_H

/* argv[0] is "flash". Returns the exit status: 0, 1 (the file cannot be read
 * or written), 2 (bad arguments). */
int flash_cmd_main(int argc, char **argv);

#endif
