package userspace

import (
	"errors"
	"os"
	"sync"

	"golang.zx2c4.com/wireguard/tun"
)

// goneTUN is the TUN device as the daemon hands it to wireguard-go, telling
// the daemon when the interface has been deleted: the TUN descriptor then
// reads as closed (wireguard-go turns EBADFD into os.ErrClosed). The
// daemon exits at once, where wireguard-go would first close the device,
// stopping its peers one by one (seconds with thousands of peers on a
// loaded machine, which wg-quick down waits for).
type goneTUN struct {
	tun.Device
	once sync.Once
	gone chan struct{}
}

func newGoneTUN(d tun.Device) *goneTUN { return &goneTUN{Device: d, gone: make(chan struct{})} }

func (t *goneTUN) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	n, err := t.Device.Read(bufs, sizes, offset)
	if err != nil && errors.Is(err, os.ErrClosed) {
		t.once.Do(func() { close(t.gone) })
	}
	return n, err
}

// Gone is closed once the interface is gone.
func (t *goneTUN) Gone() <-chan struct{} { return t.gone }
