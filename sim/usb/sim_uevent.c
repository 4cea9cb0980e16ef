#include "sim_uevent.h"

#include <arpa/inet.h>
#include <glob.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* libudev's monitor message header (systemd sd-device/device-monitor.c
 * defines the layout; a receiver checks the prefix, the magic and the
 * header size, and its BPF filter reads the hashes in network order). */
typedef struct monitor_header {
    char prefix[8]; /* "libudev" */
    uint32_t magic; /* 0xfeedcafe, network order */
    uint32_t header_size;
    uint32_t properties_off;
    uint32_t properties_len;
    uint32_t subsystem_hash; /* network order */
    uint32_t devtype_hash;   /* network order */
    uint32_t tag_bloom_hi;
    uint32_t tag_bloom_lo;
} monitor_header_t;

#define MONITOR_MAGIC 0xfeedcafeu

unsigned sim_uevent_hash(const char *s)
{
    const uint32_t m = 0x5bd1e995u;
    size_t len = strlen(s);
    uint32_t h = (uint32_t)len;
    const unsigned char *p = (const unsigned char *)s;
    for (; len >= 4; len -= 4, p += 4) {
        uint32_t k =
            (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        k *= m;
        k ^= k >> 24;
        k *= m;
        h = h * m ^ k;
    }
    if (len) {
        if (len == 3) {
            h ^= (uint32_t)p[2] << 16;
        }
        if (len >= 2) {
            h ^= (uint32_t)p[1] << 8;
        }
        h ^= p[0];
        h *= m;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return h;
}

/* KEY=value\0 at *off in buf; false when it does not fit. */
static bool put(char *buf, size_t cap, size_t *off, const char *key, const char *value)
{
    int n = snprintf(buf + *off, cap - *off, "%s=%s", key, value);
    if (n < 0 || (size_t)n + 1 > cap - *off) {
        return false;
    }
    *off += (size_t)n + 1; /* the NUL separates the properties */
    return true;
}

int sim_uevent_send(const char *root, const char *action, const char *devpath,
                    const char *subsystem, const char *devtype, const sim_uevent_prop_t *props,
                    int n_props)
{
    static unsigned long long seqnum;
    char body[2048], seq[24];
    size_t len = 0;
    snprintf(seq, sizeof(seq), "%llu", ++seqnum);
    bool ok = put(body, sizeof(body), &len, "ACTION", action) &&
              put(body, sizeof(body), &len, "DEVPATH", devpath) &&
              put(body, sizeof(body), &len, "SUBSYSTEM", subsystem) &&
              put(body, sizeof(body), &len, "SEQNUM", seq) &&
              (!devtype || put(body, sizeof(body), &len, "DEVTYPE", devtype));
    for (int i = 0; ok && i < n_props; i++) {
        ok = put(body, sizeof(body), &len, props[i].key, props[i].value);
    }
    if (!ok) {
        fprintf(stderr, "h7dfu-sim: uevent for %s too long\n", devpath);
        return 0;
    }

    monitor_header_t h = {.prefix = "libudev",
                          .magic = htonl(MONITOR_MAGIC),
                          .header_size = sizeof(h),
                          .properties_off = sizeof(h),
                          .properties_len = (uint32_t)len,
                          .subsystem_hash = htonl(sim_uevent_hash(subsystem)),
                          .devtype_hash = devtype ? htonl(sim_uevent_hash(devtype)) : 0};
    struct iovec iov[2] = {{&h, sizeof(h)}, {body, len}};

    char pattern[4096];
    snprintf(pattern, sizeof(pattern), "%s/event[0-9]*", root);
    glob_t g;
    int sent = 0;
    if (glob(pattern, GLOB_NOSORT, NULL, &g) != 0) {
        return 0;
    }
    for (size_t i = 0; i < g.gl_pathc; i++) {
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        if (strlen(g.gl_pathv[i]) >= sizeof(a.sun_path)) {
            continue;
        }
        strcpy(a.sun_path, g.gl_pathv[i]);
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            continue;
        }
        struct msghdr msg = {
            .msg_name = &a, .msg_namelen = sizeof(a), .msg_iov = iov, .msg_iovlen = 2};
        /* A monitor whose program has exited refuses: nothing to tell it. */
        if (sendmsg(fd, &msg, 0) >= 0) {
            sent++;
        }
        close(fd);
    }
    globfree(&g);
    return sent;
}
