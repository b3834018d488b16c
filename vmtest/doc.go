// Package vmtest boots a stock Debian kernel that has the wireguard module
// under qemu and runs the project's kernel-path tests inside it. Our
// machines' kernels have no wireguard module, so this is where the kernel
// side of wg and wg-quick is tested for real.
//
// The pieces, in the order a run uses them:
//
//   - kernel.go finds a kernel: the release a Debian metapackage points at
//     (linux-image-6.12-cloud-amd64 by default), fetched with `apt-get
//     download` and unpacked with `dpkg -x` into a cache, never installed;
//     offline it falls back to the newest cached kernel, then to /boot.
//   - vmlinux.go takes the uncompressed kernel out of the bzImage, so qemu
//     can boot it directly through its PVH entry point (no decompressor,
//     no firmware beyond qboot).
//   - modules.go reads modules.dep and gives a module's closure, in load
//     order, decompressed so busybox's insmod can load it.
//   - initramfs.go builds the newc cpio archive: busybox-static, host
//     programs with the shared libraries they need, our static binaries, the
//     modules, the guest scripts.
//   - qemu.go boots it (microvm; KVM where a one-time probe says it works,
//     TCG otherwise), streams the serial console, stops at a timeout, tells a
//     kernel panic from a normal end, and reads the result files back from a
//     raw disk the guest writes a tar archive to.
//
// The guest side lives in guest/: init (busybox sh, PID 1) and the test
// scripts. vm_test.go ties it together as TestVM, which `make vmtest` runs.
//
// It is used by tests only.
package vmtest
