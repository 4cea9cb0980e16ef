/*
 * The bridge's lifecycle and main loop: creating and freeing a bridge (alone
 * or beside another on the same testbed), bringing the devices onto the bus,
 * running the program under umockdev's preload library, and the 1 ms tick
 * that steps the boards between requests. The rest of the bridge is in the
 * files listed in sim_usb_bridge_priv.h.
 */
#include "sim_usb_bridge_priv.h"

#include <sys/wait.h>

#include "dcd_sim.h"

void bridge_lock(sim_usb_bridge_t *b)
{
    g_mutex_lock(b->lk);
    if (b->cfg.enter) {
        b->cfg.enter(b->cfg.user);
    }
}

void bridge_unlock(sim_usb_bridge_t *b)
{
    g_mutex_unlock(b->lk);
}

/* The device end when the config names none: dcd_sim's host side. */
static bool dcd_connected(void *dev)
{
    (void)dev;
    return dcd_sim_host_connected();
}
static unsigned dcd_epoch(void *dev)
{
    (void)dev;
    return dcd_sim_host_connect_epoch();
}
static void dcd_bus_reset(void *dev)
{
    (void)dev;
    dcd_sim_host_bus_reset();
}
static uint8_t dcd_address(void *dev)
{
    (void)dev;
    return dcd_sim_host_address();
}
static int dcd_control_start(void *dev, const uint8_t setup[8], uint8_t *data)
{
    (void)dev;
    return dcd_sim_host_control_start(setup, data);
}
static int dcd_control_result(void *dev, uint16_t *actual)
{
    (void)dev;
    return dcd_sim_host_control_result(actual);
}
static void dcd_control_cancel(void *dev)
{
    (void)dev;
    dcd_sim_host_control_cancel();
}
static const sim_usb_device_ops_t dcd_sim_ops = {
    .connected = dcd_connected,
    .connect_epoch = dcd_epoch,
    .bus_reset = dcd_bus_reset,
    .address = dcd_address,
    .control_start = dcd_control_start,
    .control_result = dcd_control_result,
    .control_cancel = dcd_control_cancel,
};

/* The board runs on its own between requests (manifest, self reset). */
static gboolean on_tick(gpointer user)
{
    sim_usb_bridge_t *b = user;
    bridge_lock(b);
    b->cfg.step(b->cfg.user);
    bridge_pump(b, PUMP_STEPS);
    bridge_sync_presence(b);
    if (++b->sweep >= SWEEP_TICKS) {
        b->sweep = 0;
        bridge_peers_sweep(b);
    }
    bridge_unlock(b);
    return G_SOURCE_CONTINUE;
}

static void on_child_exit(GPid pid, gint status, gpointer user)
{
    sim_usb_bridge_t *b = user;
    g_spawn_close_pid(pid);
    b->child_status = status;
    b->child_done = true;
    g_main_loop_quit(b->loop);
}

/* ---- public ----------------------------------------------------------- */

sim_usb_bridge_t *sim_usb_bridge_new(const sim_usb_bridge_config_t *cfg)
{
    if (!cfg || !cfg->step) {
        return NULL;
    }
    sim_usb_bridge_t *b = g_new0(sim_usb_bridge_t, 1);
    b->cfg = *cfg;
    b->dev_ops = cfg->dev_ops ? cfg->dev_ops : &dcd_sim_ops;
    if (!b->cfg.busnum) {
        b->cfg.busnum = 1;
    }
    if (!b->cfg.port) {
        b->cfg.port = 1;
    }
    b->wall0_ns = bridge_wall_ns();
    b->virt0_ns = b->cfg.clock ? sim_clock_now_ns(b->cfg.clock) : 0;
    snprintf(b->port, sizeof(b->port), "%u-%u", b->cfg.busnum, b->cfg.port);
    b->root = b;
    b->lk = &b->lock;
    if (cfg->beside) {
        sim_usb_bridge_t *last = cfg->beside;
        while (last->neighbour) {
            last = last->neighbour;
        }
        last->neighbour = b;
        b->root = cfg->beside->root;
        b->lk = b->root->lk;
    }
    b->tb = cfg->beside ? g_object_ref(cfg->beside->tb) : umockdev_testbed_new();
    gchar *root = umockdev_testbed_get_root_dir(b->tb);
    snprintf(b->sock_dir, sizeof(b->sock_dir), "%s/", root);
    g_free(root);
    b->peers = g_ptr_array_new();
    b->attached = g_ptr_array_new_with_free_func(g_free);
    b->handler = umockdev_ioctl_base_new();
    g_signal_connect(b->handler, "handle-ioctl", G_CALLBACK(bridge_on_ioctl), b);
    g_signal_connect(b->handler, "client-connected", G_CALLBACK(bridge_on_client_connected), b);
    g_signal_connect(b->handler, "client-vanished", G_CALLBACK(bridge_on_client_vanished), b);
    g_queue_init(&b->pending);
    g_queue_init(&b->done);
    b->loop = g_main_loop_new(NULL, FALSE);
    g_mutex_init(&b->lock);
    return b;
}

static gchar **child_env(void)
{
    gchar **env = g_get_environ();
    const gchar *pre = g_environ_getenv(env, "LD_PRELOAD");
    gchar *v = pre && *pre ? g_strdup_printf("libumockdev-preload.so.0 %s", pre)
                           : g_strdup("libumockdev-preload.so.0");
    env = g_environ_setenv(env, "LD_PRELOAD", v, TRUE);
    g_free(v);
    /* An ASan program under the preload library would abort: ASan wants to be
     * first in the link order; with the preload library first it still works
     * (the preload forwards to ASan's interceptors), so turn the check off. */
    const gchar *asan = g_environ_getenv(env, "ASAN_OPTIONS");
    v = asan && *asan ? g_strdup_printf("%s:verify_asan_link_order=0", asan)
                      : g_strdup("verify_asan_link_order=0");
    env = g_environ_setenv(env, "ASAN_OPTIONS", v, TRUE);
    g_free(v);
    return env;
}

/* Power the device's bus and enumerate it; false when it stays off. */
static bool bring_up(sim_usb_bridge_t *b)
{
    bridge_lock(b);
    b->epoch_seen = DEV(b, connect_epoch) - 1u;
    /* An emulated chip needs a few hundred steps (its start-up runs
     * instruction by instruction); a board that stays off ends it early. */
    for (int i = 0; i < START_STEPS && !DEV(b, connected); i++) {
        b->cfg.step(b->cfg.user);
    }
    bridge_sync_presence(b);
    bool present = b->present;
    bridge_unlock(b);
    return present;
}

int sim_usb_bridge_run(sim_usb_bridge_t *b, char *const argv[])
{
    /* Every device is on the bus before the program starts. */
    if (!bring_up(b)) {
        fprintf(stderr, "h7dfu-sim: warning: the board is not on the bus\n");
    }
    for (sim_usb_bridge_t *n = b->neighbour; n; n = n->neighbour) {
        if (!bring_up(n)) {
            fprintf(stderr, "h7dfu-sim: warning: the device at %s is not on the bus\n", n->port);
        }
    }

    gchar **env = child_env();
    GPid pid;
    GError *err = NULL;
    gboolean ok = g_spawn_async(NULL, (gchar **)argv, env,
                                G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
                                    G_SPAWN_CHILD_INHERITS_STDIN,
                                NULL, NULL, &pid, &err);
    g_strfreev(env);
    if (!ok) {
        fprintf(stderr, "h7dfu-sim: cannot run %s: %s\n", argv[0], err->message);
        g_error_free(err);
        return -1;
    }
    g_child_watch_add(pid, on_child_exit, b);
    for (sim_usb_bridge_t *n = b; n; n = n->neighbour) {
        n->tick = g_timeout_add(1, on_tick, n);
    }
    g_main_loop_run(b->loop);
    for (sim_usb_bridge_t *n = b; n; n = n->neighbour) {
        g_source_remove(n->tick);
        n->tick = 0;
    }
    if (WIFEXITED(b->child_status)) {
        return WEXITSTATUS(b->child_status);
    }
    if (WIFSIGNALED(b->child_status)) {
        return 128 + WTERMSIG(b->child_status);
    }
    return 1;
}

void sim_usb_bridge_get_stats(const sim_usb_bridge_t *b, sim_usb_bridge_stats_t *st)
{
    *st = b->st;
}

void sim_usb_bridge_free(sim_usb_bridge_t *b)
{
    if (!b) {
        return;
    }
    for (sim_usb_bridge_t *p = b->cfg.beside; p; p = p->neighbour) {
        if (p->neighbour == b) {
            p->neighbour = b->neighbour;
            break;
        }
    }
    bridge_lock(b);
    /* Parked clients keep the handler alive: no more calls into b from it. */
    g_signal_handlers_disconnect_by_data(b->handler, b);
    bridge_device_remove(b);
    bridge_node_detach_all(b);
    g_ptr_array_free(b->attached, TRUE);
    urb_t *u;
    while ((u = g_queue_pop_head(&b->done)) != NULL) {
        bridge_urb_free(u);
    }
    bridge_peers_free(b);
    bridge_unlock(b);
    g_object_unref(b->handler);
    g_object_unref(b->tb);
    g_main_loop_unref(b->loop);
    g_mutex_clear(&b->lock);
    g_free(b);
}
