package fs

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// The kernel reads ahead of a sequential reader by the backing device's
// read_ahead_kb, which for a FUSE mount starts at 128 KiB; FUSE's own
// max_readahead can only lower it. With 128 KiB the daemon serves one small
// request after another with the stream idle in between; with a few MiB
// the kernel keeps several 1 MiB requests in flight and a cold sequential
// read runs about twice as fast. Only root may raise it (sysfs), so this
// is best effort.

// setReadahead sets the read_ahead_kb of the mount at mountpoint.
func setReadahead(mountpoint string, kb int) error {
	var st syscall.Stat_t
	if err := syscall.Stat(mountpoint, &st); err != nil {
		return err
	}
	major := (st.Dev >> 8) & 0xfff
	minor := (st.Dev & 0xff) | ((st.Dev >> 12) & 0xfff00)
	p := fmt.Sprintf("/sys/class/bdi/%d:%d/read_ahead_kb", major, minor)
	return os.WriteFile(p, []byte(strconv.Itoa(kb)), 0o644)
}
