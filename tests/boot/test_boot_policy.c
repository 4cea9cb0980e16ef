/*
 * boot_decide truth table and the request block that survives a reset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "boot.h"

static const boot_request_t all_requests[] = {BOOT_REQ_NONE, BOOT_REQ_STAY_IN_DFU,
                                              BOOT_REQ_START_APP, BOOT_REQ_ENTER_ROM_BOOTLOADER};

static void test_decide_truth_table(void **state)
{
    (void)state;
    for (unsigned r = 0; r < 4; r++) {
        boot_request_t req = all_requests[r];
        for (int v = 0; v < BOOT_VALIDATE_COUNT; v++) {
            boot_decision_t d = boot_decide(req, (boot_validate_t)v);
            assert_int_equal(d.validation, v);
            switch (req) {
            case BOOT_REQ_STAY_IN_DFU:
                /* Asked for DFU: DFU, even with a valid image. */
                assert_int_equal(d.action, BOOT_STAY_IN_DFU);
                assert_int_equal(d.why, BOOT_WHY_DFU_REQUESTED);
                break;
            case BOOT_REQ_ENTER_ROM_BOOTLOADER:
                assert_int_equal(d.action, BOOT_ENTER_ROM_BOOTLOADER);
                assert_int_equal(d.why, BOOT_WHY_ROM_REQUESTED);
                break;
            case BOOT_REQ_NONE:
            case BOOT_REQ_START_APP:
                if (v == BOOT_VALID) {
                    assert_int_equal(d.action, BOOT_START_APP);
                    assert_int_equal(d.why, req == BOOT_REQ_NONE ? BOOT_WHY_IMAGE_VALID
                                                                 : BOOT_WHY_START_REQUESTED);
                } else {
                    /* Never start an invalid image, even when asked to. */
                    assert_int_equal(d.action, BOOT_STAY_IN_DFU);
                    assert_int_equal(d.why, BOOT_WHY_IMAGE_INVALID);
                }
                break;
            }
        }
    }
    /* A request value the enum does not know is treated as no request. */
    boot_decision_t d = boot_decide((boot_request_t)9, BOOT_ERR_BODY_CRC);
    assert_int_equal(d.action, BOOT_STAY_IN_DFU);
}

static void test_request_roundtrip(void **state)
{
    (void)state;
    for (unsigned r = 0; r < 4; r++) {
        boot_request_block_t blk;
        memset(&blk, 0xA5, sizeof blk);
        boot_request_set(&blk, all_requests[r]);
        assert_int_equal(blk.magic, BOOT_REQ_MAGIC);
        assert_int_equal(blk.check, ~(uint32_t)all_requests[r]);
        assert_int_equal(boot_request_get(&blk), all_requests[r]);
        /* A system reset keeps RAM: a copy of the words is the same block. */
        boot_request_block_t after_reset;
        memcpy(&after_reset, &blk, sizeof blk);
        assert_int_equal(boot_request_get(&after_reset), all_requests[r]);
        /* Reading does not consume it; clearing does. */
        assert_int_equal(boot_request_get(&after_reset), all_requests[r]);
        boot_request_clear(&after_reset);
        assert_int_equal(boot_request_get(&after_reset), BOOT_REQ_NONE);
    }
}

/* The application-to-bootloader hand-over: set, reset, get, clear, decide. */
static void test_request_flow(void **state)
{
    (void)state;
    static boot_request_block_t noinit; /* stands for the .noinit block */
    boot_request_set(&noinit, BOOT_REQ_STAY_IN_DFU);
    /* reset */
    boot_request_t req = boot_request_get(&noinit);
    boot_request_clear(&noinit);
    assert_int_equal(boot_decide(req, BOOT_VALID).action, BOOT_STAY_IN_DFU);
    /* manifest: START_APP, reset */
    boot_request_set(&noinit, BOOT_REQ_START_APP);
    req = boot_request_get(&noinit);
    boot_request_clear(&noinit);
    assert_int_equal(boot_decide(req, BOOT_VALID).action, BOOT_START_APP);
    /* next reset (e.g. the app's watchdog): no request left, image decides */
    req = boot_request_get(&noinit);
    assert_int_equal(req, BOOT_REQ_NONE);
    assert_int_equal(boot_decide(req, BOOT_ERR_NO_IMAGE).action, BOOT_STAY_IN_DFU);
}

static void test_request_garbage(void **state)
{
    (void)state;
    boot_request_block_t blk;
    /* Power-on patterns. */
    memset(&blk, 0, sizeof blk);
    assert_int_equal(boot_request_get(&blk), BOOT_REQ_NONE);
    memset(&blk, 0xFF, sizeof blk);
    assert_int_equal(boot_request_get(&blk), BOOT_REQ_NONE);
    /* Right magic, broken complement. */
    blk = (boot_request_block_t){BOOT_REQ_MAGIC, BOOT_REQ_STAY_IN_DFU, 0};
    assert_int_equal(boot_request_get(&blk), BOOT_REQ_NONE);
    blk =
        (boot_request_block_t){BOOT_REQ_MAGIC, BOOT_REQ_START_APP, ~(uint32_t)BOOT_REQ_STAY_IN_DFU};
    assert_int_equal(boot_request_get(&blk), BOOT_REQ_NONE);
    /* Right complement, wrong magic. */
    blk = (boot_request_block_t){BOOT_REQ_MAGIC ^ 1u, BOOT_REQ_START_APP,
                                 ~(uint32_t)BOOT_REQ_START_APP};
    assert_int_equal(boot_request_get(&blk), BOOT_REQ_NONE);
    /* Consistent block with an unknown request value. */
    blk = (boot_request_block_t){BOOT_REQ_MAGIC, 7u, ~7u};
    assert_int_equal(boot_request_get(&blk), BOOT_REQ_NONE);
    /* Pseudo-random RAM contents: never a request. */
    uint32_t x = 0x12345678u;
    unsigned accepted = 0;
    for (unsigned i = 0; i < 100000; i++) {
        uint32_t w[3];
        for (unsigned k = 0; k < 3; k++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            w[k] = x;
        }
        blk = (boot_request_block_t){w[0], w[1] & 3u, w[2]};
        accepted += boot_request_get(&blk) != BOOT_REQ_NONE;
    }
    assert_int_equal(accepted, 0);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(boot_request_name(BOOT_REQ_STAY_IN_DFU), "stay in DFU");
    assert_string_equal(boot_request_name((boot_request_t)42), "unknown");
    assert_string_equal(boot_action_name(BOOT_START_APP), "start application");
    assert_string_equal(boot_action_name((boot_action_t)42), "unknown");
    assert_string_equal(boot_why_name(BOOT_WHY_IMAGE_INVALID), "no valid application");
    assert_string_equal(boot_why_name((boot_why_t)42), "unknown");
    for (unsigned w = 0; w <= BOOT_WHY_ROM_REQUESTED; w++) {
        assert_string_not_equal(boot_why_name((boot_why_t)w), "unknown");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decide_truth_table),
        cmocka_unit_test(test_request_roundtrip),
        cmocka_unit_test(test_request_flow),
        cmocka_unit_test(test_request_garbage),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
