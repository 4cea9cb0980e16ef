/*
 * boot_validate: the header's load address must be the slot itself, not
 * merely inside the flash or above the slot.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "boot.h"
#include "boot_test_util.h"
#include "sim_flash.h"

static boot_validate_t check_img(const test_img_t *img)
{
    sim_flash_t *f = sim_flash_new(NULL);
    assert_non_null(f);
    assert_int_equal(img_program(f, img), FLASH_OK);
    flash_dev_t dev = sim_flash_dev(f);
    boot_validate_t v = boot_validate(&dev, SLOT, NULL);
    sim_flash_free(f);
    return v;
}

static void test_load_addr_must_be_the_slot(void **state)
{
    (void)state;
    static const uint32_t wrong[] = {SLOT + 32u, SLOT + 0x400u, SLOT + 0x20000u,
                                     REC_AREA,   0x08100000u,   SLOT - 0x20000u};
    test_img_t img;
    img_make(&img, 2048, 11);
    assert_int_equal(check_img(&img), BOOT_VALID);
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        img.h.load_addr = wrong[i];
        img_reencode(&img);
        assert_int_equal(check_img(&img), BOOT_ERR_BAD_ADDRESS);
    }
    img_free(&img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_addr_must_be_the_slot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
