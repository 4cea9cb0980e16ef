/* cli_split_serials: the serial numbers of `update -S A,B,C -S D`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "cli.h"

/* Split args and compare with want[0..n_want); n_want -1: refused. */
static void check(const char *const *args, unsigned n, const char *const *want, int n_want)
{
    char **got = NULL;
    int n_got = cli_split_serials(args, n, &got);
    assert_int_equal(n_got, n_want);
    if (n_want < 0) {
        assert_null(got);
        return;
    }
    assert_non_null(got);
    for (int i = 0; i < n_want; i++) {
        assert_string_equal(got[i], want[i]);
    }
    free(got);
}

static void one(void **state)
{
    (void)state;
    const char *args[] = {"H7SIM0001"};
    const char *want[] = {"H7SIM0001"};
    check(args, 1, want, 1);
}

static void list_and_repeated(void **state)
{
    (void)state;
    const char *args[] = {"A,B,C", "D", "E,F"};
    const char *want[] = {"A", "B", "C", "D", "E", "F"};
    check(args, 3, want, 6);
}

static void duplicates_dropped_in_order(void **state)
{
    (void)state;
    const char *args[] = {"B,A,B", "A", "C,B"};
    const char *want[] = {"B", "A", "C"};
    check(args, 3, want, 3);
}

static void empty_serials_refused(void **state)
{
    (void)state;
    const char *bad[][1] = {{""}, {","}, {"A,,B"}, {"A,"}, {",A"}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        check(bad[i], 1, NULL, -1);
    }
    const char *two[] = {"A", ""};
    check(two, 2, NULL, -1);
}

static void none(void **state)
{
    (void)state;
    check(NULL, 0, NULL, 0);
}

static void long_serial(void **state)
{
    (void)state;
    /* A 24-digit chip ID, as the h7dfu bootloader reports it. */
    const char *args[] = {"0042001F3137510B39383538,00420020313751"};
    const char *want[] = {"0042001F3137510B39383538", "00420020313751"};
    check(args, 1, want, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one),
        cmocka_unit_test(list_and_repeated),
        cmocka_unit_test(duplicates_dropped_in_order),
        cmocka_unit_test(empty_serials_refused),
        cmocka_unit_test(none),
        cmocka_unit_test(long_serial),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
