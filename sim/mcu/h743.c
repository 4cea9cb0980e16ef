/*
 * The emulated STM32H743 (see h743.h): memories, models and their wiring.
 */
#include "h743.h"

#include <stdlib.h>
#include <string.h>

#include "cm7.h"
#include "flash_ctl.h"
#include "mcu_sys.h"

/* RM0433 2.3.2 memory map (Table 7/8): the RAMs the core can reach. */
#define ITCM_BASE    0x00000000u
#define ITCM_SIZE    (64u * 1024u)
#define DTCM_BASE    0x20000000u
#define DTCM_SIZE    (128u * 1024u)
#define AXI_BASE     0x24000000u
#define AXI_SIZE     (512u * 1024u)
#define SRAM123_BASE 0x30000000u /* SRAM1 128 KiB, SRAM2 128 KiB, SRAM3 32 KiB */
#define SRAM123_SIZE (288u * 1024u)
#define SRAM4_BASE   0x38000000u
#define SRAM4_SIZE   (64u * 1024u)
/* System memory (ST's ROM bootloader, AN2606: STM32H74x/75x at 0x1FF09800),
 * up to the UID/flash-size block at 0x1FF1E800 (a register model). */
#define SYSMEM_BASE     0x1FF00000u
#define SYSMEM_SIZE     0x1E000u
#define SYSMEM_ROM_VEC  0x1FF09800u
#define BKP_BASE        0x38800000u
#define BKP_SIZE        (4u * 1024u)
#define FLASH_BASE      0x08000000u
#define FLASH_SIZE      (2u * 1024u * 1024u)
#define FLASH_BANK_SIZE (1024u * 1024u)
#define GPIO_PORTS      11u /* GPIOA..GPIOK (RM0433 11.4) */

/* OTG_GINTSTS (RM0433 57.14.6, offset 0x014): the events a polled device
 * driver has work for: RXFLVL, USBRST, ENUMDNE, IEPINT, OEPINT. */
#define OTG_GINTSTS_OFF  0x014u
#define OTG_GINTSTS_WORK ((1u << 4) | (1u << 12) | (1u << 13) | (1u << 18) | (1u << 19))

#define MAX_DIRTY 32

typedef struct {
    uint32_t base, size;
    uint8_t *mem;
} ram_t;

struct h743 {
    h743_config_t cfg;
    cm7_t *cpu;
    ram_t ram[6];
    uint8_t *mirror; /* the flash array as the core sees it */
    uint8_t *sysmem; /* ST's ROM: only a vector table, see rom_stub() */
    struct {
        uint32_t lo, hi;
    } dirty[MAX_DIRTY];
    unsigned ndirty;
    bool dirty_all;
    uint64_t silent_seen; /* sim_flash_silent_changes() at the last sync */
    rcc_t *rcc;
    pwr_t *pwr;
    crs_t *crs;
    gpio_t *gpio[GPIO_PORTS];
    sysinfo_t *dbgmcu, *uid;
    scb_t *scb;
    systick_t *systick;
    flash_ctl_t *fctl;
    otg_fs_t *otg;
    mcu_periph_t otg_periph;  /* the model's own, wrapped for idle detection */
    mcu_periph_t fctl_periph; /* the model's own, wrapped for power cuts */
    mcu_periph_t tick_periph; /* the model's own, wrapped for busy waits */
    mcu_periph_t periph[32];
    unsigned nperiph;
    sim_flash_power_hook_t observer;
    void *observer_user;
    bool powered;
    bool reset_pending;
    bool tick_enabled, tick_core_clock, tick_spinning;
    unsigned rng;
};

/* ---- the flash array seen by the core ---- */

static void dirty_add(h743_t *h, uint32_t lo, uint32_t hi)
{
    if (h->ndirty == MAX_DIRTY) {
        h->dirty_all = true;
        return;
    }
    h->dirty[h->ndirty].lo = lo;
    h->dirty[h->ndirty].hi = hi;
    h->ndirty++;
}

/* Every modifying flash operation passes here (sim_flash's power hook):
 * note the cells it changes. */
static bool flash_event(void *user, const sim_flash_event_t *ev)
{
    h743_t *h = user;
    uint32_t off = ev->addr - FLASH_BASE;
    switch (ev->op) {
    case SIM_FLASH_OP_ERASE_SECTOR:
        dirty_add(h, off & ~(128u * 1024u - 1u), (off & ~(128u * 1024u - 1u)) + 128u * 1024u);
        break;
    case SIM_FLASH_OP_ERASE_BANK:
        dirty_add(h, ev->sector * FLASH_BANK_SIZE, (ev->sector + 1u) * FLASH_BANK_SIZE);
        break;
    default:
        dirty_add(h, off & ~31u, (off & ~31u) + 32u);
        break;
    }
    return h->observer ? h->observer(h->observer_user, ev) : false;
}

void h743_set_flash_observer(h743_t *h, sim_flash_power_hook_t fn, void *user)
{
    h->observer = fn;
    h->observer_user = user;
}

static void array_sync(void *ctx)
{
    h743_t *h = ctx;
    const uint8_t *raw = sim_flash_raw(h->cfg.flash);
    uint64_t silent = sim_flash_silent_changes(h->cfg.flash);
    if (silent != h->silent_seen) {
        h->silent_seen = silent;
        h->dirty_all = true;
    }
    if (h->dirty_all) {
        memcpy(h->mirror, raw, FLASH_SIZE);
    } else {
        for (unsigned i = 0; i < h->ndirty; i++) {
            uint32_t lo = h->dirty[i].lo,
                     hi = h->dirty[i].hi > FLASH_SIZE ? FLASH_SIZE : h->dirty[i].hi;
            if (lo < hi) {
                memcpy(h->mirror + lo, raw + lo, hi - lo);
            }
        }
    }
    h->ndirty = 0;
    h->dirty_all = false;
}

static bool array_store(void *ctx, uint32_t addr, unsigned size, uint32_t val, const char **why)
{
    h743_t *h = ctx;
    dirty_add(h, (addr - FLASH_BASE) & ~3u, ((addr - FLASH_BASE) & ~3u) + 8u);
    bool ok = flash_ctl_array_write(h->fctl, addr, size, val, why);
    if (!sim_flash_powered(h->cfg.flash)) {
        cm7_stop(h->cpu);
    }
    return ok;
}

static bool array_load_ok(void *ctx, uint32_t addr, unsigned size)
{
    h743_t *h = ctx;
    /* Fast path: only a corrupt word can fail (sim_flash_word_state). */
    if (sim_flash_word_state(h->cfg.flash, addr) != SIM_WORD_ECC_CORRUPT &&
        sim_flash_word_state(h->cfg.flash, addr + size - 1u) != SIM_WORD_ECC_CORRUPT) {
        return true;
    }
    return flash_ctl_array_read(h->fctl, addr, size) == FLASH_CTL_READ_OK;
}

static uint64_t array_busy_until(void *ctx, uint32_t addr)
{
    h743_t *h = ctx;
    uint64_t until = 0;
    unsigned bank = (addr - FLASH_BASE) / FLASH_BANK_SIZE;
    return flash_ctl_bank_busy(h->fctl, bank, &until) ? until : 0;
}

/* ---- the core's registers in the SCB model ---- */

static uint32_t sys_vtor(void *ctx)
{
    return scb_vtor(((h743_t *)ctx)->scb);
}

static uint32_t sys_ccr(void *ctx)
{
    return scb_ccr(((h743_t *)ctx)->scb);
}

static void sys_busfault(void *ctx, uint32_t addr, bool precise)
{
    scb_record_busfault(((h743_t *)ctx)->scb, addr, precise);
}

static void sys_forced(void *ctx)
{
    scb_record_hardfault_forced(((h743_t *)ctx)->scb);
}

static void sys_vectactive(void *ctx, uint32_t exception)
{
    scb_set_vectactive(((h743_t *)ctx)->scb, exception);
}

static uint32_t sys_cpu_hz(void *ctx)
{
    return rcc_cpu_hz(((h743_t *)ctx)->rcc);
}

/* ---- wiring ---- */

static void on_sysresetreq(void *user)
{
    h743_t *h = user;
    h->reset_pending = true;
    cm7_stop(h->cpu);
}

static void on_periph_reset(void *user, const char *periph)
{
    h743_t *h = user;
    if (strcmp(periph, "OTG_FS") == 0) {
        mcu_periph_t p = otg_fs_periph(h->otg);
        p.reset(p.ctx, false);
    }
}

static bool otg_gate(void *user)
{
    h743_t *h = user;
    return h->powered && rcc_otg_fs_clocked(h->rcc) && pwr_usb33_ready(h->pwr);
}

/* OTG_FS with the polled driver's idle loop noticed: GINTSTS with nothing
 * to do, several times in a row, ends the core's time slice. */
static bool otg_read(void *ctx, uint32_t off, unsigned size, uint32_t *val, const char **why)
{
    h743_t *h = ctx;
    bool ok = h->otg_periph.read(h->otg_periph.ctx, off, size, val, why);
    flash_ctl_note_other_access(h->fctl);
    if (ok && off == OTG_GINTSTS_OFF) {
        cm7_idle_poll(h->cpu, (*val & OTG_GINTSTS_WORK) == 0u);
    }
    return ok;
}

/* A write may let the host's control transfer finish (the status stage
 * armed): the host side moves at once, and when the transfer finishes the
 * slice ends (at the next block boundary), so the host learns of it at the
 * virtual time it happened, not after whatever the firmware does next (a
 * flash operation it then waits for, while the host waits its bwPollTimeout
 * in parallel). */
static bool otg_write(void *ctx, uint32_t off, unsigned size, uint32_t val, const char **why)
{
    h743_t *h = ctx;
    cm7_idle_poll(h->cpu, false);
    flash_ctl_note_other_access(h->fctl);
    bool was_done = otg_fs_host_control_done(h->otg);
    bool ok = h->otg_periph.write(h->otg_periph.ctx, off, size, val, why);
    otg_fs_poll(h->otg);
    if (!was_done && otg_fs_host_control_done(h->otg)) {
        cm7_stop(h->cpu);
    }
    return ok;
}

static bool flash_read(void *ctx, uint32_t off, unsigned size, uint32_t *val, const char **why)
{
    h743_t *h = ctx;
    return h->fctl_periph.read(h->fctl_periph.ctx, off, size, val, why);
}

/* A write that starts an operation may cut the power (injected cut). */
static bool flash_write(void *ctx, uint32_t off, unsigned size, uint32_t val, const char **why)
{
    h743_t *h = ctx;
    bool ok = h->fctl_periph.write(h->fctl_periph.ctx, off, size, val, why);
    if (!sim_flash_powered(h->cfg.flash)) {
        cm7_stop(h->cpu);
    }
    return ok;
}

/* SysTick: a read of SYST_CSR right after one that found the counter
 * enabled and COUNTFLAG clear is a busy wait (ARMv7-M B3.3.3): the core
 * would spin until the counter reaches 0, so the clock moves to that moment
 * (CVR ticks ahead) and the read sees it. */
#define SYST_CSR_OFF       0x0u
#define SYST_CVR_OFF       0x8u
#define SYST_CSR_ENABLE    (1u << 0)
#define SYST_CSR_CLKSOURCE (1u << 2)
#define SYST_CSR_COUNTFLAG (1u << 16)

static bool tick_read(void *ctx, uint32_t off, unsigned size, uint32_t *val, const char **why)
{
    h743_t *h = ctx;
    mcu_periph_t *t = &h->tick_periph;
    if (off != SYST_CSR_OFF) {
        return t->read(t->ctx, off, size, val, why);
    }
    uint64_t hz = rcc_cpu_hz(h->rcc);
    uint32_t cvr = 0;
    const char *w = NULL;
    if (h->tick_spinning && hz && t->read(t->ctx, SYST_CVR_OFF, 4, &cvr, &w)) {
        uint64_t div = h->tick_core_clock ? 1u : 8u; /* CLKSOURCE 0: the reference clock */
        uint64_t ns = ((uint64_t)(cvr ? cvr : 1u) * div * 1000000000ull + hz - 1u) / hz;
        sim_clock_wait_until(h->cfg.clock, sim_clock_now_ns(h->cfg.clock) + ns);
    }
    bool ok = t->read(t->ctx, off, size, val, why);
    h->tick_spinning = ok && h->tick_enabled && (*val & SYST_CSR_COUNTFLAG) == 0u;
    return ok;
}

static bool tick_write(void *ctx, uint32_t off, unsigned size, uint32_t val, const char **why)
{
    h743_t *h = ctx;
    if (off == SYST_CSR_OFF) {
        h->tick_enabled = (val & SYST_CSR_ENABLE) != 0;
        h->tick_core_clock = (val & SYST_CSR_CLKSOURCE) != 0;
        h->tick_spinning = false;
    }
    return h->tick_periph.write(h->tick_periph.ctx, off, size, val, why);
}

/* A model: the core sees it as mapped (a wrapper of the chip's around the
 * model, or the model itself); resets go to the model itself. */
static bool add_wrapped(h743_t *h, mcu_periph_t model, mcu_periph_t mapped)
{
    if (h->nperiph == sizeof(h->periph) / sizeof(h->periph[0])) {
        return false;
    }
    h->periph[h->nperiph++] = model;
    return cm7_add_periph(h->cpu, &mapped);
}

static bool add(h743_t *h, mcu_periph_t model)
{
    return add_wrapped(h, model, model);
}

/* ST's ROM bootloader is not modelled, but where it starts is: a vector
 * table at 0x1FF09800 (SP at the top of DTCM, reset vector just after the
 * table) whose reset handler the core halts at, so a hand-over to the ROM
 * ends in a clear "the ROM bootloader started" instead of a bus fault. */
static uint8_t *rom_stub(void)
{
    uint8_t *m = malloc(SYSMEM_SIZE);
    if (!m) {
        return NULL;
    }
    memset(m, 0xFF, SYSMEM_SIZE);
    uint32_t off = SYSMEM_ROM_VEC - SYSMEM_BASE;
    uint32_t vec[2] = {DTCM_BASE + DTCM_SIZE, SYSMEM_ROM_VEC + 0x400u + 1u};
    memcpy(m + off, vec, sizeof vec);
    static const uint8_t branch_self[2] = {0xFE, 0xE7}; /* b . (Thumb) */
    memcpy(m + off + 0x400u, branch_self, sizeof branch_self);
    return m;
}

void h743_free(h743_t *h)
{
    if (!h) {
        return;
    }
    cm7_free(h->cpu);
    for (unsigned i = 0; i < sizeof(h->ram) / sizeof(h->ram[0]); i++) {
        free(h->ram[i].mem);
    }
    free(h->mirror);
    free(h->sysmem);
    otg_fs_free(h->otg);
    flash_ctl_free(h->fctl);
    systick_free(h->systick);
    scb_free(h->scb);
    sysinfo_free(h->uid);
    sysinfo_free(h->dbgmcu);
    for (unsigned i = 0; i < GPIO_PORTS; i++) {
        gpio_free(h->gpio[i]);
    }
    crs_free(h->crs);
    pwr_free(h->pwr);
    rcc_free(h->rcc);
    free(h);
}

h743_t *h743_new(const h743_config_t *cfg)
{
    if (!cfg || !cfg->clock || !cfg->flash) {
        return NULL;
    }
    h743_t *h = calloc(1, sizeof(*h));
    if (!h) {
        return NULL;
    }
    h->cfg = *cfg;
    if (!h->cfg.rev_id) {
        h->cfg.rev_id = 0x2003u; /* revision V (RM0433 DBGMCU_IDCODE REV_ID) */
    }
    h->rng = 0x2545F491u ^ cfg->uid[0] ^ cfg->uid[1] ^ cfg->uid[2];
    const ram_t rams[6] = {
        {ITCM_BASE, ITCM_SIZE, NULL},   {DTCM_BASE, DTCM_SIZE, NULL},
        {AXI_BASE, AXI_SIZE, NULL},     {SRAM123_BASE, SRAM123_SIZE, NULL},
        {SRAM4_BASE, SRAM4_SIZE, NULL}, {BKP_BASE, BKP_SIZE, NULL},
    };
    h->cpu = cm7_new(cfg->clock, cfg->symbols);
    h->mirror = malloc(FLASH_SIZE);
    h->sysmem = rom_stub();
    h->rcc = rcc_new(cfg->clock);
    h->pwr = pwr_new();
    h->otg = otg_fs_new();
    h->fctl = flash_ctl_new(cfg->flash, cfg->clock);
    h->scb = scb_new();
    bool ok = h->cpu && h->mirror && h->sysmem && h->rcc && h->pwr && h->otg && h->fctl && h->scb &&
              cm7_map_rom(h->cpu, SYSMEM_BASE, SYSMEM_SIZE, h->sysmem);
    if (ok) {
        h->crs = crs_new(h->rcc);
        h->dbgmcu = dbgmcu_new(h->cfg.rev_id);
        h->uid = uid_new(cfg->uid);
        h->systick = systick_new(cfg->clock, h->rcc);
        ok = h->crs && h->dbgmcu && h->uid && h->systick;
    }
    for (unsigned i = 0; ok && i < GPIO_PORTS; i++) {
        ok = (h->gpio[i] = gpio_new(i)) != NULL;
    }
    for (unsigned i = 0; ok && i < 6; i++) {
        h->ram[i] = rams[i];
        ok = (h->ram[i].mem = malloc(rams[i].size)) != NULL &&
             cm7_map_ram(h->cpu, rams[i].base, rams[i].size, h->ram[i].mem);
    }
    if (!ok) {
        h743_free(h);
        return NULL;
    }
    cm7_array_t arr = {.base = FLASH_BASE,
                       .size = FLASH_SIZE,
                       .mirror = h->mirror,
                       .ctx = h,
                       .store = array_store,
                       .load_ok = array_load_ok,
                       .busy_until = array_busy_until,
                       .sync = array_sync};
    cm7_set_array(h->cpu, &arr);
    cm7_system_t sys = {.ctx = h,
                        .vtor = sys_vtor,
                        .ccr = sys_ccr,
                        .busfault = sys_busfault,
                        .hardfault_forced = sys_forced,
                        .cpu_hz = sys_cpu_hz,
                        .vectactive = sys_vectactive};
    cm7_set_system(h->cpu, &sys);
    sim_flash_set_power_hook(cfg->flash, flash_event, h);
    scb_set_reset_hook(h->scb, on_sysresetreq, h);
    pwr_set_usb_supply_present(h->pwr, !cfg->no_usb_supply);
    flash_ctl_stick(h->fctl, cfg->flash_stuck_op);
    /* VTOR out of reset holds the boot address (RM0433 4.4.7 BOOT_ADD0). */
    scb_set_reset_vtor(h->scb, H743_BOOT_ADDR);
    systick_attach_scb(h->systick, h->scb);
    for (unsigned i = 0; i < GPIO_PORTS; i++) {
        gpio_set_rcc(h->gpio[i], h->rcc);
    }
    rcc_set_periph_reset_hook(h->rcc, on_periph_reset, h);
    otg_fs_set_gate(h->otg, otg_gate, h);

    h->otg_periph = otg_fs_periph(h->otg);
    mcu_periph_t otg = h->otg_periph;
    otg.ctx = h;
    otg.read = otg_read;
    otg.write = otg_write;
    h->fctl_periph = flash_ctl_periph(h->fctl);
    mcu_periph_t fl = h->fctl_periph;
    fl.ctx = h;
    fl.read = flash_read;
    fl.write = flash_write;
    h->tick_periph = systick_periph(h->systick);
    mcu_periph_t tick = h->tick_periph;
    tick.ctx = h;
    tick.read = tick_read;
    tick.write = tick_write;
    ok = add(h, rcc_periph(h->rcc)) && add(h, pwr_periph(h->pwr)) && add(h, crs_periph(h->crs)) &&
         add(h, dbgmcu_periph(h->dbgmcu)) && add(h, uid_periph(h->uid)) &&
         add(h, scb_periph(h->scb)) && add_wrapped(h, h->tick_periph, tick) &&
         add(h, dwt_periph(h->systick)) && add_wrapped(h, h->otg_periph, otg);
    for (unsigned i = 0; ok && i < GPIO_PORTS; i++) {
        ok = add(h, gpio_periph(h->gpio[i]));
    }
    ok = ok && add_wrapped(h, h->fctl_periph, fl);
    if (!ok) {
        h743_free(h);
        return NULL;
    }
    return h;
}

static void reset_models(h743_t *h, bool power_on)
{
    for (unsigned i = 0; i < h->nperiph; i++) {
        const mcu_periph_t *p = &h->periph[i];
        if (p->reset) {
            p->reset(p->ctx, power_on);
        }
    }
    h->tick_enabled = false; /* SYST_CSR resets to 0 */
    h->tick_spinning = false;
}

static bool boot(h743_t *h)
{
    h->dirty_all = true;
    return cm7_reset(h->cpu, H743_BOOT_ADDR);
}

bool h743_power_on(h743_t *h)
{
    for (unsigned i = 0; i < 6; i++) {
        /* SRAM after power-up: undefined; xorshift32 garbage */
        uint32_t *w = (uint32_t *)(void *)h->ram[i].mem;
        for (uint32_t k = 0; k < h->ram[i].size / 4u; k++) {
            h->rng ^= h->rng << 13;
            h->rng ^= h->rng >> 17;
            h->rng ^= h->rng << 5;
            w[k] = h->rng;
        }
    }
    h->powered = true;
    h->reset_pending = false;
    reset_models(h, true);
    return boot(h);
}

void h743_power_off(h743_t *h)
{
    h->powered = false;
    reset_models(h, true);
}

bool h743_powered(const h743_t *h)
{
    return h->powered;
}

/* The earliest end of a flash operation in progress (either bank). */
static bool flash_busy_until(const h743_t *h, uint64_t *t)
{
    bool any = false;
    for (unsigned bank = 0; bank < 2u; bank++) {
        uint64_t u;
        if (flash_ctl_bank_busy(h->fctl, bank, &u) && (!any || u < *t)) {
            *t = u;
            any = true;
        }
    }
    return any;
}

uint64_t h743_next_event_ns(const h743_t *h)
{
    uint64_t t = 0;
    return h->powered && flash_busy_until(h, &t) ? t : 0;
}

h743_event_t h743_run(h743_t *h, uint64_t until_ns)
{
    if (!h->powered) {
        return H743_RAN;
    }
    otg_fs_poll(h->otg);
    cm7_result_t r = cm7_run(h->cpu, until_ns);
    otg_fs_poll(h->otg);
    /* Idle on USB, but a flash bank is still working: the firmware is
     * waiting for it (a polled driver, RM0433 4.3.3), not for the host. Its
     * polling loop would spin until the bank is done: time moves there and
     * the firmware goes on (when that is in this slice; later ends are for
     * h743_next_event_ns()). */
    uint64_t done;
    while (r == CM7_IDLE && flash_busy_until(h, &done) && done <= until_ns &&
           sim_flash_powered(h->cfg.flash)) {
        sim_clock_wait_until(h->cfg.clock, done);
        r = cm7_run(h->cpu, until_ns);
        otg_fs_poll(h->otg);
    }
    if (!sim_flash_powered(h->cfg.flash)) {
        h743_power_off(h);
        return H743_POWER_LOST;
    }
    if (r == CM7_HALTED) {
        return H743_HALTED;
    }
    if (h->reset_pending) {
        h->reset_pending = false;
        reset_models(h, false);
        if (!boot(h)) {
            return H743_HALTED;
        }
        return H743_RESET;
    }
    return r == CM7_IDLE ? H743_IDLE : H743_RAN;
}

const char *h743_halt_reason(const h743_t *h)
{
    return cm7_halt_reason(h->cpu);
}

bool h743_halt_is_model_gap(const h743_t *h)
{
    return cm7_halt_kind(h->cpu) == CM7_HALT_MODEL_GAP;
}

bool h743_halt_is_rom(const h743_t *h)
{
    return cm7_halt_kind(h->cpu) == CM7_HALT_ROM;
}

otg_fs_t *h743_otg(h743_t *h)
{
    return h->otg;
}

uint32_t h743_vtor(const h743_t *h)
{
    return scb_vtor(h->scb);
}

bool h743_read_ram(const h743_t *h, uint32_t addr, void *buf, uint32_t len)
{
    for (unsigned i = 0; i < 6; i++) {
        const ram_t *r = &h->ram[i];
        if (addr >= r->base && len <= r->size && addr - r->base <= r->size - len) {
            memcpy(buf, r->mem + (addr - r->base), len);
            return true;
        }
    }
    return false;
}

uint64_t h743_cycles(const h743_t *h)
{
    return cm7_cycles(h->cpu);
}
