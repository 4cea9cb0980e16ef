/* The JSON writer of cli_json.h. */
#include "cli_json.h"

void cli_json_init(cli_json_t *j, FILE *f)
{
    j->f = f;
    j->depth = 0;
    j->first[0] = true;
}

void cli_json_escape(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            fprintf(f, "\\%c", c);
        } else if (c == '\n') {
            fputs("\\n", f);
        } else if (c == '\t') {
            fputs("\\t", f);
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(f, "\\u%04x", c);
        } else {
            fputc(c, f);
        }
    }
    fputc('"', f);
}

/* The comma before a value (when it is not the first of its level), then its key. */
static void key(cli_json_t *j, const char *k)
{
    if (!j->first[j->depth]) {
        fputc(',', j->f);
    }
    j->first[j->depth] = false;
    if (k) {
        cli_json_escape(j->f, k);
        fputc(':', j->f);
    }
}

static void begin(cli_json_t *j, const char *k, char open, char close)
{
    key(j, k);
    fputc(open, j->f);
    if (j->depth + 1 < CLI_JSON_DEPTH) {
        j->depth++;
        j->first[j->depth] = true;
        j->close[j->depth] = close;
    }
}

void cli_json_begin_object(cli_json_t *j, const char *k)
{
    begin(j, k, '{', '}');
}

void cli_json_begin_array(cli_json_t *j, const char *k)
{
    begin(j, k, '[', ']');
}

void cli_json_end(cli_json_t *j)
{
    if (j->depth > 0) {
        fputc(j->close[j->depth--], j->f);
    }
}

void cli_json_string(cli_json_t *j, const char *k, const char *s)
{
    key(j, k);
    if (s) {
        cli_json_escape(j->f, s);
    } else {
        fputs("null", j->f);
    }
}

void cli_json_int(cli_json_t *j, const char *k, long long v)
{
    key(j, k);
    fprintf(j->f, "%lld", v);
}

void cli_json_bool(cli_json_t *j, const char *k, bool v)
{
    key(j, k);
    fputs(v ? "true" : "false", j->f);
}

void cli_json_null(cli_json_t *j, const char *k)
{
    key(j, k);
    fputs("null", j->f);
}

void cli_json_addr(cli_json_t *j, const char *k, uint32_t addr)
{
    key(j, k);
    fprintf(j->f, "\"0x%08X\"", (unsigned)addr);
}

void cli_json_id(cli_json_t *j, const char *k, uint16_t v)
{
    key(j, k);
    fprintf(j->f, "\"%04x\"", (unsigned)v);
}

void cli_json_seconds(cli_json_t *j, const char *k, double s)
{
    key(j, k);
    fprintf(j->f, "%.3f", s);
}

void cli_json_raw(cli_json_t *j, const char *k, const char *json)
{
    key(j, k);
    fputs(json, j->f);
}
