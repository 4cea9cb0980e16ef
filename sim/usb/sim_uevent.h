/*
 * Hotplug events for the programs under the virtual bus: the "add" and
 * "remove" uevents that libudev monitors (libusb's hotplug thread, fwupd)
 * receive when a device comes and goes.
 *
 * Under umockdev a program's udev monitor is a Unix datagram socket named
 * event<N> in the testbed's root; a message is libudev's monitor format (a
 * header with the "libudev" prefix and hashes of the subsystem and devtype
 * for the socket filters, then KEY=value strings). umockdev's own sender
 * looks the device up through libudev in the sending process, which finds
 * nothing here: the simulator is not under umockdev's preload itself.
 */
#ifndef SIM_UEVENT_H
#define SIM_UEVENT_H

/* One property of the event (besides ACTION, DEVPATH, SUBSYSTEM, SEQNUM). */
typedef struct sim_uevent_prop {
    const char *key; /* "DEVNAME" */
    const char *value;
} sim_uevent_prop_t;

/* Send ACTION for the device at DEVPATH (below /sys, "/devices/...") of
 * SUBSYSTEM/DEVTYPE to every monitor in the testbed at ROOT. Returns how many
 * monitors were sent to. */
int sim_uevent_send(const char *root, const char *action, const char *devpath,
                    const char *subsystem, const char *devtype, const sim_uevent_prop_t *props,
                    int n_props);

/* MurmurHash2 (32 bit, seed = length), the hash libudev's socket filters
 * compare subsystem and devtype by (exposed for its test). */
unsigned sim_uevent_hash(const char *s);

#endif
