/*
 * Shared by the loaders and writers of host/image; not part of the interface.
 */
#ifndef H7_IMAGE_INTERNAL_H
#define H7_IMAGE_INTERNAL_H

#include "h7_image.h"

#include <stdarg.h>

/* Fill err (if not NULL). line 0 / offset -1 when not applicable. Returns -1. */
int img_fail(h7_image_error_t *err, h7_image_errc_t code, const char *file, unsigned line,
             long offset, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/*
 * Collects pieces of data as a loader finds them, each with its origin (line or
 * byte offset), then sorts them into segments and finds overlaps precisely.
 */
typedef struct img_piece {
    uint8_t alt;
    uint32_t addr;
    uint32_t len;
    size_t off; /* into buf */
    long origin;
} img_piece_t;

typedef struct img_builder {
    img_piece_t *p;
    size_t n, cap;
    uint8_t *buf;
    size_t blen, bcap;
} img_builder_t;

/* What img_builder_finish reports on an overlap. */
typedef struct img_overlap {
    uint8_t alt;
    uint32_t addr;      /* lowest address written twice */
    long origin_first;  /* the earlier of the two pieces (in file order) */
    long origin_second; /* the later one: the offender */
} img_overlap_t;

void img_builder_init(img_builder_t *b);
void img_builder_free(img_builder_t *b);
/* 0, or -1 when out of memory. addr + len must not pass 4 GiB (caller checks). */
int img_builder_add(img_builder_t *b, uint8_t alt, uint32_t addr, const uint8_t *data, uint32_t len,
                    long origin);
/* 0: segments moved into img. 1: overlap (ov filled). -1: out of memory. */
int img_builder_finish(img_builder_t *b, h7_image_t *img, img_overlap_t *ov);

/* A growable output buffer for the writers. */
typedef struct img_out {
    uint8_t *buf;
    size_t len, cap;
    bool oom;
} img_out_t;

void img_out_put(img_out_t *o, const void *data, size_t len);
void img_out_printf(img_out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Text line splitting shared by IHEX and S-record: next line of buf starting at
 * *pos, without its CR/LF. Returns false at the end. */
bool img_next_line(const uint8_t *buf, size_t len, size_t *pos, const uint8_t **line,
                   size_t *line_len);
/* Value of a hex digit, or -1. */
int img_hexval(uint8_t c);

/* The format loaders. name is for messages. */
int img_load_ihex(h7_image_t *img, const uint8_t *buf, size_t len, const char *name,
                  h7_image_error_t *err);
int img_load_srec(h7_image_t *img, const uint8_t *buf, size_t len, const char *name,
                  h7_image_error_t *err);
int img_load_elf(h7_image_t *img, const uint8_t *buf, size_t len, const char *name,
                 h7_image_error_t *err);
/* DfuSe and plain DFU; base is used for plain DFU only. */
int img_load_dfu(h7_image_t *img, const uint8_t *buf, size_t len, const char *name,
                 h7_image_format_t fmt, const h7_load_opts_t *opts, h7_image_error_t *err);
/* True if buf ends with a well-formed DFU suffix whose CRC matches. */
bool img_has_dfu_suffix(const uint8_t *buf, size_t len);

int img_write_ihex(const h7_image_t *img, img_out_t *o);
int img_write_dfuse(const h7_image_t *img, const h7_write_opts_t *opts, img_out_t *o);

#endif
