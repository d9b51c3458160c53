/* The real-QEMU smoke scenario, shared by test-qmp-qemu (against qemu-system-x86_64) and
 * test-qmp-replay-qemu (against the transcript recorded from it), so that the recording and the
 * code that produced it cannot drift apart. */
#pragma once

#include <dpuhost/qmp.h>

/* The device hot-plugged into rp1: virtio-rng-pci needs no backend (it makes its own
 * rng-builtin), no option ROM and no netdev, so it realizes on any QEMU build. */
#define SMOKE_DRIVER "virtio-rng-pci"
#define SMOKE_ID "rng0"

/* On a q35 VM paused with -S that has a pcie-root-port rp1: checks query-status, qom-get of rp1,
 * device_add into rp1, an unplug that stays pending (no guest runs), a retried unplug that QEMU
 * refuses as already in progress, system_reset completing it, and quit. Asserts (cmocka) on the
 * way. */
void smoke_scenario(struct dh_qmp *q);
