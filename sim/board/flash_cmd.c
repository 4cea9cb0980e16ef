/* h7dfu-sim flash ...: see flash_cmd.h. */
#include "flash_cmd.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_flash.h"

static int usage(FILE *f, int code)
{
    fprintf(f, "usage: h7dfu-sim flash dump FILE ADDR LEN [OUT]\n"
               "       h7dfu-sim flash poke FILE ADDR HEX|@IN\n"
               "       h7dfu-sim flash protect FILE SECTOR on|off\n"
               "       h7dfu-sim flash info FILE\n"
               "The flash file of --flash FILE, read and written by the flash model itself:\n"
               "  dump     LEN bytes of the flash at ADDR (0x08000000..), raw, to OUT or\n"
               "           stdout, whatever the state of their words\n"
               "  poke     put bytes at ADDR, as a debugger would: HEX digits (\"deadbeef\")\n"
               "           or the contents of the file IN; each flash word they touch\n"
               "           is marked programmed, its other bytes kept (a missing FILE is\n"
               "           an erased flash)\n"
               "  protect  set or clear the write protection of SECTOR (0..15), as the\n"
               "           option bytes would\n"
               "  info     the protected sectors, and the programmed and ECC-corrupt words\n"
               "           of each sector that is not erased\n"
               "ADDR, LEN and SECTOR are decimal or 0x hex. Exit status 0, 1 when FILE\n"
               "cannot be read or written, 2 for bad arguments.\n");
    return code;
}

static int bad(const char *what, const char *arg)
{
    fprintf(stderr, "h7dfu-sim flash: bad %s '%s' (see h7dfu-sim flash --help)\n", what, arg);
    return 2;
}

static bool parse_u32(const char *s, uint32_t *out)
{
    char *end;
    if (s[0] < '0' || s[0] > '9') {
        return false;
    }
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end || v > UINT32_MAX) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

/* FILE into a new flash; must_exist: a missing FILE is an error rather than
 * an erased flash. NULL (said) on failure. */
static sim_flash_t *load(const char *path, bool must_exist)
{
    sim_flash_t *f = sim_flash_new(NULL);
    if (f == NULL) {
        fprintf(stderr, "h7dfu-sim flash: out of memory\n");
        return NULL;
    }
    FILE *probe = must_exist ? fopen(path, "rb") : NULL;
    if (must_exist && probe == NULL) {
        fprintf(stderr, "h7dfu-sim flash: %s: %s\n", path, strerror(errno));
        sim_flash_free(f);
        return NULL;
    }
    if (probe) {
        fclose(probe);
    }
    if (sim_flash_load(f, path) != 0) {
        fprintf(stderr, "h7dfu-sim flash: %s: %s\n", path,
                errno == EINVAL ? "not a flash file of h7dfu-sim" : strerror(errno));
        sim_flash_free(f);
        return NULL;
    }
    return f;
}

static int save(sim_flash_t *f, const char *path)
{
    int rc = 0;
    if (sim_flash_save(f, path) != 0) {
        fprintf(stderr, "h7dfu-sim flash: saving %s: %s\n", path, strerror(errno));
        rc = 1;
    }
    sim_flash_free(f);
    return rc;
}

/* [addr, addr + len) inside the flash (len may be 0 at any address in it). */
static bool in_flash(const flash_map_t *m, uint32_t addr, uint32_t len)
{
    return addr >= m->base && addr - m->base <= flash_map_size(m) &&
           len <= flash_map_size(m) - (addr - m->base);
}

static int cmd_dump(int argc, char **argv)
{
    uint32_t addr, len;
    if (argc != 4 && argc != 5) {
        return usage(stderr, 2);
    }
    if (!parse_u32(argv[2], &addr)) {
        return bad("ADDR", argv[2]);
    }
    if (!parse_u32(argv[3], &len)) {
        return bad("LEN", argv[3]);
    }
    sim_flash_t *f = load(argv[1], true);
    if (f == NULL) {
        return 1;
    }
    const flash_map_t *m = sim_flash_map(f);
    if (!in_flash(m, addr, len)) {
        fprintf(stderr, "h7dfu-sim flash: 0x%08x+%u is not inside the flash 0x%08x..0x%08x\n", addr,
                len, m->base, m->base + flash_map_size(m) - 1u);
        sim_flash_free(f);
        return 2;
    }
    FILE *out = argc == 5 ? fopen(argv[4], "wb") : stdout;
    int rc = 0;
    if (out == NULL || fwrite(sim_flash_raw(f) + (addr - m->base), 1, len, out) != len ||
        (argc == 5 ? fclose(out) : fflush(out)) != 0) {
        fprintf(stderr, "h7dfu-sim flash: writing %s: %s\n", argc == 5 ? argv[4] : "stdout",
                strerror(errno));
        rc = 1;
    }
    sim_flash_free(f);
    return rc;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Two hex digits per byte into a new buffer; NULL when s is not that. */
static uint8_t *from_hex(const char *s, size_t *len)
{
    size_t n = strlen(s);
    if (n == 0 || n % 2u) {
        return NULL;
    }
    uint8_t *b = malloc(n / 2u);
    for (size_t i = 0; b != NULL && i < n; i += 2) {
        int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);
        if (hi < 0 || lo < 0) {
            free(b);
            return NULL;
        }
        b[i / 2u] = (uint8_t)(hi << 4 | lo);
    }
    *len = n / 2u;
    return b;
}

/* The whole file into a new buffer; NULL (said) on failure. */
static uint8_t *from_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    uint8_t *b = NULL;
    size_t n = 0, cap = 0;
    bool ok = fp != NULL;
    while (ok) {
        if (n == cap) {
            cap = cap ? cap * 2u : 65536u;
            uint8_t *nb = realloc(b, cap);
            if (nb == NULL) {
                ok = false;
                break;
            }
            b = nb;
        }
        size_t got = fread(b + n, 1, cap - n, fp);
        n += got;
        if (got == 0) {
            ok = !ferror(fp);
            break;
        }
    }
    if (!ok) {
        fprintf(stderr, "h7dfu-sim flash: %s: %s\n", path, strerror(errno ? errno : EIO));
        free(b);
        b = NULL;
    }
    if (fp) {
        fclose(fp);
    }
    *len = n;
    return b;
}

static int cmd_poke(int argc, char **argv)
{
    uint32_t addr;
    if (argc != 4) {
        return usage(stderr, 2);
    }
    if (!parse_u32(argv[2], &addr)) {
        return bad("ADDR", argv[2]);
    }
    size_t len = 0;
    uint8_t *data = argv[3][0] == '@' ? from_file(argv[3] + 1, &len) : from_hex(argv[3], &len);
    if (data == NULL) {
        return argv[3][0] == '@' ? 1 : bad("HEX", argv[3]);
    }
    int rc = 2;
    sim_flash_t *f = load(argv[1], false);
    if (f == NULL) {
        rc = 1;
    } else if (len == 0) {
        fprintf(stderr, "h7dfu-sim flash: %s is empty: nothing to poke\n", argv[3] + 1);
        sim_flash_free(f);
    } else if (len > UINT32_MAX || !in_flash(sim_flash_map(f), addr, (uint32_t)len) ||
               sim_flash_poke(f, addr, data, len) != FLASH_OK) {
        fprintf(stderr, "h7dfu-sim flash: 0x%08x+%zu is not inside the flash\n", addr, len);
        sim_flash_free(f);
    } else {
        rc = save(f, argv[1]);
    }
    free(data);
    return rc;
}

static int cmd_protect(int argc, char **argv)
{
    uint32_t sector;
    if (argc != 4) {
        return usage(stderr, 2);
    }
    if (!parse_u32(argv[2], &sector)) {
        return bad("SECTOR", argv[2]);
    }
    bool on = strcmp(argv[3], "on") == 0;
    if (!on && strcmp(argv[3], "off") != 0) {
        return bad("protection (want on or off)", argv[3]);
    }
    sim_flash_t *f = load(argv[1], false);
    if (f == NULL) {
        return 1;
    }
    if (sector >= sim_flash_map(f)->sector_count) {
        fprintf(stderr, "h7dfu-sim flash: no sector %u (0..%u)\n", sector,
                sim_flash_map(f)->sector_count - 1u);
        sim_flash_free(f);
        return 2;
    }
    sim_flash_set_write_protect(f, sector, on);
    return save(f, argv[1]);
}

static int cmd_info(int argc, char **argv)
{
    if (argc != 2) {
        return usage(stderr, 2);
    }
    sim_flash_t *f = load(argv[1], true);
    if (f == NULL) {
        return 1;
    }
    const flash_map_t *m = sim_flash_map(f);
    printf("write protected:");
    bool any = false;
    for (unsigned s = 0; s < m->sector_count; s++) {
        if (sim_flash_is_write_protected(f, s)) {
            printf(" %u", s);
            any = true;
        }
    }
    printf("%s\n", any ? "" : " none");
    for (unsigned s = 0; s < m->sector_count; s++) {
        unsigned prog = 0, ecc = 0;
        uint32_t a = flash_map_sector_addr(m, s);
        for (uint32_t off = 0; off < m->sector_size; off += m->word_size) {
            sim_flash_word_state_t st = sim_flash_word_state(f, a + off);
            prog += st == SIM_WORD_PROGRAMMED;
            ecc += st == SIM_WORD_ECC_CORRUPT;
        }
        if (prog || ecc) {
            printf("sector %u 0x%08x: %u programmed, %u ECC-corrupt words\n", s, a, prog, ecc);
        }
    }
    sim_flash_free(f);
    return fflush(stdout) == 0 ? 0 : 1;
}

int flash_cmd_main(int argc, char **argv)
{
    if (argc < 2) {
        return usage(stderr, 2);
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
        return usage(stdout, 0);
    }
    if (!strcmp(cmd, "dump")) {
        return cmd_dump(argc - 1, argv + 1);
    }
    if (!strcmp(cmd, "poke")) {
        return cmd_poke(argc - 1, argv + 1);
    }
    if (!strcmp(cmd, "protect")) {
        return cmd_protect(argc - 1, argv + 1);
    }
    if (!strcmp(cmd, "info")) {
        return cmd_info(argc - 1, argv + 1);
    }
    fprintf(stderr, "h7dfu-sim flash: no command '%s'\n", cmd);
    return usage(stderr, 2);
}
