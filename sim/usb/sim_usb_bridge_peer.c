/*
 * Peer liveness: which programs still have the device node open, so that a
 * program that closed it, exited or was killed loses its interface claims
 * and URBs, as the kernel's usbdev_release() drops them when the file is
 * closed.
 *
 * Why this file exists: a work-around for umockdev 0.17, which does not tell
 * when a program goes (umockdev-ioctl.vala):
 * - "client-vanished" is declared but never emitted;
 * - "connected" turns false only once umockdev has read the end of the
 *   program's socket, and it reads only between requests: it re-arms its read
 *   after it has written a request's answer. A program that dies with a request
 *   in flight (its ioctl sent, the answer not yet written) makes that write
 *   fail, the read is never re-armed, and the client stays "connected" with an
 *   open stream for ever (its claim would stay: EBUSY for the next program);
 *   finalizing it then prints "CRITICAL: Destroying IoctlClient with open
 *   stream!".
 * So the bridge watches our end of each program's socket itself: a hang-up
 * there means every copy of the program's descriptor is closed (it exited, was
 * killed, or closed the node). A live program shows none, however long it is
 * idle. With a umockdev that emits "client-vanished" and closes the streams of
 * dead clients, this file could shrink to bridge_on_client_vanished().
 */
#include "sim_usb_bridge_priv.h"

#include <dirent.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

/* Clients that died with a request in flight: umockdev never closes their
 * stream, so they are never finalized (see above); kept reachable here until
 * the process exits, which closes the sockets. */
static GPtrArray *parked;

peer_t *bridge_peer_of(const sim_usb_bridge_t *b, const UMockdevIoctlClient *c)
{
    for (guint i = 0; i < b->peers->len; i++) {
        peer_t *p = g_ptr_array_index(b->peers, i);
        if (p->client == c) {
            return p;
        }
    }
    return NULL;
}

static bool socket_known(const sim_usb_bridge_t *b, int fd, ino_t ino)
{
    for (guint i = 0; i < b->peers->len; i++) {
        const peer_t *p = g_ptr_array_index(b->peers, i);
        if (p->fd == fd && p->ino == ino) {
            return true;
        }
    }
    return false;
}

/* Our end of the connection umockdev has just accepted on devnode's socket
 * (client-connected is emitted right after the accept, before the next one):
 * a socket that is not a listener, whose address is that socket's path (an
 * accepted socket carries its listener's path; other devices of the testbed
 * have other paths), and not yet known. If several, the newest: socket inode
 * numbers only grow. */
static bool peer_socket(const sim_usb_bridge_t *b, const char *devnode, int *fd_out, ino_t *ino_out)
{
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    if ((size_t)snprintf(path, sizeof(path), "%sioctl%s", b->sock_dir, devnode) >= sizeof(path)) {
        return false;
    }
    DIR *d = opendir("/proc/self/fd");
    if (!d) {
        return false;
    }
    bool found = false;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        if (end == e->d_name || *end || fd == dirfd(d)) {
            continue;
        }
        struct stat st;
        struct sockaddr_un a;
        memset(&a, 0, sizeof(a));
        socklen_t alen = sizeof(a) - 1; /* a.sun_path stays terminated */
        int listening = 1;
        socklen_t llen = sizeof(listening);
        if (fstat((int)fd, &st) != 0 || !S_ISSOCK(st.st_mode) ||
            getsockname((int)fd, (struct sockaddr *)&a, &alen) != 0 || a.sun_family != AF_UNIX ||
            strcmp(a.sun_path, path) != 0 ||
            getsockopt((int)fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &llen) != 0 || listening ||
            socket_known(b, (int)fd, st.st_ino)) {
            continue;
        }
        if (!found || st.st_ino > *ino_out) {
            *fd_out = (int)fd;
            *ino_out = st.st_ino;
            found = true;
        }
    }
    closedir(d);
    return found;
}

static bool peer_alive(const peer_t *p)
{
    if (p->gone || !umockdev_ioctl_client_get_connected(p->client)) {
        return false;
    }
    if (p->fd < 0) {
        return true; /* socket not found: only umockdev's word */
    }
    struct stat st;
    if (fstat(p->fd, &st) != 0 || st.st_ino != p->ino) {
        return false; /* umockdev has closed it (the number may be reused) */
    }
    struct pollfd pf = {.fd = p->fd, .events = 0};
    return !(poll(&pf, 1, 0) == 1 && (pf.revents & (POLLHUP | POLLERR | POLLNVAL)));
}

/* The program is gone: release its claims and drop its URBs (usbdev_release). */
static void peer_gone(sim_usb_bridge_t *b, peer_t *p)
{
    if (p->gone) {
        return;
    }
    p->gone = true;
    UMockdevIoctlClient *c = p->client;
    unsigned claims = 0;
    for (unsigned i = 0; i < G_N_ELEMENTS(b->claim); i++) {
        if (b->claim[i] == c) {
            bridge_claim_set(b, i, NULL);
            claims++;
        }
    }
    unsigned urbs = bridge_urbs_drop(b, c);
    if (claims || urbs) {
        LOG(b, "program gone (socket %d): released %u claim(s), dropped %u URB(s)\n", p->fd, claims,
            urbs);
    }
}

/* Our reference goes; a client whose stream is still open is parked instead
 * of finalized (see above). */
static void peer_free(peer_t *p)
{
    if (umockdev_ioctl_client_get_connected(p->client)) {
        if (!parked) {
            parked = g_ptr_array_new();
        }
        g_ptr_array_add(parked, p->client);
    } else {
        g_object_unref(p->client);
    }
    g_free(p);
}

void bridge_peers_sweep(sim_usb_bridge_t *b)
{
    for (guint i = 0; i < b->peers->len;) {
        peer_t *p = g_ptr_array_index(b->peers, i);
        if (!peer_alive(p)) {
            peer_gone(b, p);
        }
        if (!umockdev_ioctl_client_get_connected(p->client)) {
            g_ptr_array_remove_index_fast(b->peers, i);
            peer_free(p);
            continue;
        }
        i++;
    }
}

void bridge_peers_free(sim_usb_bridge_t *b)
{
    for (guint i = 0; i < b->peers->len; i++) {
        peer_free(g_ptr_array_index(b->peers, i));
    }
    g_ptr_array_free(b->peers, TRUE);
    b->peers = NULL;
}

bool bridge_client_alive(sim_usb_bridge_t *b, UMockdevIoctlClient *c)
{
    peer_t *p = bridge_peer_of(b, c);
    if (!p) {
        return umockdev_ioctl_client_get_connected(c);
    }
    if (!peer_alive(p)) {
        peer_gone(b, p);
    }
    return !p->gone;
}

/* A program opened the node: find our end of its socket (see peer_socket()). */
void bridge_on_client_connected(UMockdevIoctlBase *h, UMockdevIoctlClient *c, gpointer user)
{
    (void)h;
    sim_usb_bridge_t *b = user;
    bridge_lock(b);
    peer_t *p = g_new0(peer_t, 1);
    p->client = g_object_ref(c);
    p->fd = -1;
    if (!peer_socket(b, umockdev_ioctl_client_get_devnode(c), &p->fd, &p->ino)) {
        fprintf(stderr,
                "h7dfu-sim: warning: no socket for a program on %s: if it dies with a "
                "request in flight, its claims stay\n",
                umockdev_ioctl_client_get_devnode(c));
    }
    g_ptr_array_add(b->peers, p);
    bridge_unlock(b);
}

/* Never emitted by umockdev 0.17 (see above); handled in case a later one does. */
void bridge_on_client_vanished(UMockdevIoctlBase *h, UMockdevIoctlClient *c, gpointer user)
{
    (void)h;
    sim_usb_bridge_t *b = user;
    bridge_lock(b);
    peer_t *p = bridge_peer_of(b, c);
    if (p) {
        peer_gone(b, p);
    }
    bridge_unlock(b);
}
