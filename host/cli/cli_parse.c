/* Parsing of numbers, VID:PID pairs and dfu-util style address specs. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool cli_parse_u32(const char *s, uint32_t *v)
{
    if (!s || !*s)
        return false;
    errno = 0;
    char *end = NULL;
    unsigned long long n = strtoull(s, &end, 0);
    if (errno || *end || n > 0xffffffffull || *s == '-')
        return false;
    *v = (uint32_t)n;
    return true;
}

static bool parse_hex16(const char *s, size_t n, uint16_t *v)
{
    char buf[8];
    if (n == 0 || n > 6)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end = NULL;
    unsigned long x = strtoul(buf, &end, 16);
    if (*end || x > 0xffff)
        return false;
    *v = (uint16_t)x;
    return true;
}

bool cli_parse_vidpid(const char *s, uint16_t *vid, uint16_t *pid)
{
    const char *colon = strchr(s, ':');
    if (!colon)
        return false;
    return parse_hex16(s, (size_t)(colon - s), vid) &&
           parse_hex16(colon + 1, strlen(colon + 1), pid);
}

bool cli_parse_addr_spec(const char *s, cli_addr_spec_t *out)
{
    memset(out, 0, sizeof(*out));
    char buf[128];
    if (strlen(s) >= sizeof(buf))
        return false;
    strcpy(buf, s);
    char *save = NULL;
    int field = 0;
    for (char *tok = strtok_r(buf, ":", &save); tok; tok = strtok_r(NULL, ":", &save), field++) {
        if (strcmp(tok, "leave") == 0)
            out->leave = true;
        else if (strcmp(tok, "mass-erase") == 0)
            out->mass_erase = true;
        else if (strcmp(tok, "force") == 0)
            out->force = true;
        else if (strcmp(tok, "will-reset") == 0)
            ; /* dfu-util compatibility: we always expect the device to reset */
        else if (field == 0 && cli_parse_u32(tok, &out->addr))
            out->has_addr = true;
        else if (field == 1 && out->has_addr && cli_parse_u32(tok, &out->len))
            out->has_len = true;
        else
            return false;
    }
    /* ":leave" alone (no address) is valid. */
    return true;
}

bool cli_want_help(int argc, char **argv, const char *text)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(text, stdout);
            return true;
        }
    }
    return false;
}
