/* A small JSON writer: objects and arrays with the commas placed for the
 * caller, strings escaped, and h7dfu's number conventions (addresses as
 * "0x08020000" strings, sizes and counts as integers, times in seconds). */
#ifndef H7_CLI_JSON_H
#define H7_CLI_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CLI_JSON_DEPTH 8

typedef struct cli_json {
    FILE *f;
    int depth;
    bool first[CLI_JSON_DEPTH]; /* nothing written yet at this level */
    char close[CLI_JSON_DEPTH]; /* '}' or ']' */
} cli_json_t;

void cli_json_init(cli_json_t *j, FILE *f);
/* Every value below takes its key, or NULL for an element of an array (or
 * the outermost value). */
void cli_json_begin_object(cli_json_t *j, const char *key);
void cli_json_begin_array(cli_json_t *j, const char *key);
/* Close the innermost object or array. */
void cli_json_end(cli_json_t *j);
/* s NULL: null. */
void cli_json_string(cli_json_t *j, const char *key, const char *s);
void cli_json_int(cli_json_t *j, const char *key, long long v);
void cli_json_bool(cli_json_t *j, const char *key, bool v);
void cli_json_null(cli_json_t *j, const char *key);
/* "0x0802ABCD": 8 upper-case hex digits. */
void cli_json_addr(cli_json_t *j, const char *key, uint32_t addr);
/* A USB ID or BCD number as lsusb shows it: "0483". */
void cli_json_id(cli_json_t *j, const char *key, uint16_t v);
/* A time in seconds, to the millisecond. */
void cli_json_seconds(cli_json_t *j, const char *key, double s);
/* A JSON value written by this program (one object on one line, e.g. another
 * run's document), as it is. */
void cli_json_raw(cli_json_t *j, const char *key, const char *json);
/* s as a JSON string literal, quotes included (NULL: ""). */
void cli_json_escape(FILE *f, const char *s);

#endif
