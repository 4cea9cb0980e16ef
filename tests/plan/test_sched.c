/*
 * The order h7dfu sends a write in (host/proto/h7_sched.c): every block
 * after its sector's erase, blocks cut at transfer-size multiples and sector
 * ends, every byte sent once, and, with two banks, both banks kept busy: the
 * flash time sent to each stays close at every point of the stream.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "h7_sched.h"

#define BASE   0x08000000u
#define SECTOR 0x20000u
#define BANK   (8u * SECTOR)
#define XFER   2048u

typedef struct img {
    h7_plan_erase_t erase[16];
    size_t n_erase;
    h7_plan_block_t block[4];
    size_t n_block;
    uint8_t *data;
} img_t;

/* Sectors first..last erased; one block of len bytes at addr. */
static void make(img_t *m, unsigned first, unsigned last, uint32_t addr, uint32_t len)
{
    memset(m, 0, sizeof(*m));
    for (unsigned s = first; s <= last; s++) {
        m->erase[m->n_erase++] = (h7_plan_erase_t){BASE + s * SECTOR, SECTOR, s};
    }
    m->data = malloc(len);
    assert_non_null(m->data);
    for (uint32_t i = 0; i < len; i++) {
        m->data[i] = (uint8_t)(i * 7u);
    }
    m->block[m->n_block++] = (h7_plan_block_t){addr, len, m->data};
}

static h7_sched_item_t *sched(const img_t *m, uint32_t bank_size, size_t *n)
{
    h7_sched_in_t in = {m->erase, m->n_erase, m->block, m->n_block, XFER, BASE, bank_size};
    h7_sched_item_t *it = NULL;
    assert_int_equal(h7_sched_make(&in, &it, n), 0);
    return it;
}

/* Every block after its sector's erase, inside one sector and one transfer
 * window, each byte of the image exactly once. */
static void check_rules(const img_t *m, const h7_sched_item_t *it, size_t n)
{
    uint64_t bytes = 0;
    size_t erases = 0;
    for (size_t i = 0; i < n; i++) {
        if (it[i].kind == H7_SCHED_ERASE) {
            erases++;
            continue;
        }
        uint32_t a = it[i].addr, e = a + it[i].len;
        assert_true(it[i].len > 0 && it[i].len <= XFER);
        assert_int_equal(a / XFER, (e - 1u) / XFER);
        assert_int_equal(a / SECTOR, (e - 1u) / SECTOR);
        bool erased_before = false;
        for (size_t k = 0; k < i; k++) {
            erased_before |= it[k].kind == H7_SCHED_ERASE && it[k].addr == a / SECTOR * SECTOR;
        }
        assert_true(erased_before);
        assert_ptr_equal(it[i].data, m->data + (a - m->block[0].addr));
        bytes += it[i].len;
    }
    assert_int_equal(erases, m->n_erase);
    assert_int_equal(bytes, m->block[0].len);
}

static void test_one_bank_is_dfu_util_order(void **state)
{
    (void)state;
    img_t m;
    make(&m, 1, 3, BASE + SECTOR, 3u * SECTOR - 100u);
    size_t n;
    h7_sched_item_t *it = sched(&m, 0, &n);
    check_rules(&m, it, n);
    /* address order: erase, its blocks, the next erase */
    for (size_t i = 1; i < n; i++) {
        assert_true(it[i].addr > it[i - 1].addr || it[i - 1].kind == H7_SCHED_ERASE);
    }
    assert_int_equal(it[0].kind, H7_SCHED_ERASE);
    assert_int_equal(it[1].kind, H7_SCHED_BLOCK);
    free(it);
    free(m.data);
}

static void test_two_banks_interleave(void **state)
{
    (void)state;
    img_t m;
    /* 1 MiB at sector 1: sectors 1..7 in bank 1, sector 8 in bank 2 */
    make(&m, 1, 8, BASE + SECTOR, 0x100000u);
    size_t n;
    h7_sched_item_t *it = sched(&m, BANK, &n);
    check_rules(&m, it, n);
    /* both erases go first: each bank starts at once */
    assert_int_equal(it[0].kind, H7_SCHED_ERASE);
    assert_int_equal(it[0].addr, BASE + SECTOR);
    assert_int_equal(it[1].kind, H7_SCHED_ERASE);
    assert_int_equal(it[1].addr, BASE + BANK);
    /* bank 2's work is sent while bank 1 still has most of its own to do:
     * all of it within the first quarter of the stream */
    size_t last2 = 0;
    uint64_t w[2] = {0, 0};
    for (size_t i = 0; i < n; i++) {
        unsigned b = it[i].addr >= BASE + BANK;
        w[b] += h7_sched_cost_us(&it[i]);
        if (b) {
            last2 = i;
        }
        /* the work sent to each bank stays within one item of the other's
         * while both have some left */
        if (b && i < last2) {
            assert_true(w[1] <= w[0] + 1000000u);
        }
    }
    assert_true(last2 < n / 4u);
    assert_int_equal(w[0], 7u * (1000000u + 4096u * 100u));
    assert_int_equal(w[1], 1000000u + 4096u * 100u);
    free(it);
    free(m.data);
}

static void test_cut_at_windows_and_bank_edge(void **state)
{
    (void)state;
    img_t m;
    /* starts mid-window, crosses the bank boundary mid-window */
    make(&m, 7, 8, BASE + BANK - 3000u, 6000u);
    size_t n;
    h7_sched_item_t *it = sched(&m, BANK, &n);
    check_rules(&m, it, n);
    int crossing = 0;
    for (size_t i = 0; i < n; i++) {
        if (it[i].kind == H7_SCHED_BLOCK && it[i].addr == BASE + BANK) {
            crossing++;
        }
    }
    assert_int_equal(crossing, 1); /* a block starts exactly at the edge */
    free(it);
    free(m.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_bank_is_dfu_util_order),
        cmocka_unit_test(test_two_banks_interleave),
        cmocka_unit_test(test_cut_at_windows_and_bank_edge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
