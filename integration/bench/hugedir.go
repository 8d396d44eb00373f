package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// hugeTimeout is the -o timeout of the huge-directory mounts (see hugeDir).
const hugeTimeout = "timeout=300"

// hugeDir lists the directory of n empty files under /NAME/d (NAME huge1 or huge2), on loopback:
// curl's LIST, or `ls -l` on a fresh mount, cold then warm. For ftpmount it also records the
// daemon's memory: VmRSS growth per entry (after the cold listing, against the idle mount) and,
// for huge2, the peak (VmHWM).
//
// The mount gets -o timeout=300 (hugeTimeout): vsftpd reads and sorts the whole directory before it
// sends the first byte, 30 to 60 s for a million entries on a cold disk, and a listing silent for
// the default 30 s fails with EIO and the error naming that option (what a user of such a server
// is told to do).
func (b *bench) hugeDir(ep endpoint, t tool, name string, n int) error {
	timeout := 10*time.Minute + time.Duration(n/1000)*time.Second
	if t == toolCurl {
		argv := []string{"curl", "-sS", "--fail", ep.url("/" + name + "/d/")}
		b.noteCommand("curl list of a huge directory", argv)
		if err := b.dropCaches(); err != nil {
			return err
		}
		r := b.run(timeout, nil, argv...)
		if r.err != nil {
			return r.errOf()
		}
		if got := strings.Count(r.stdout, "\n"); got != n {
			return fmt.Errorf("curl listed %d lines, want %d", got, n)
		}
		b.res.add(ep.lat, name+"-cold", t, r.dur.Seconds())
		return nil
	}
	m, err := b.mountFor(t, ep, "off", hugeTimeout)
	if err != nil {
		return err
	}
	defer b.unmount(m)
	time.Sleep(150 * time.Millisecond)
	idle, ok := rssKiB(m.pid)
	if !ok {
		return fmt.Errorf("no VmRSS for pid %d", m.pid)
	}
	if err := b.dropCaches(); err != nil {
		return err
	}
	argv := []string{"ls", "-l", filepath.Join(m.dir, name, "d")}
	b.noteCommand("mount: ls -l of a huge directory", argv)
	var after int64
	for _, phase := range []string{"cold", "warm"} {
		r := b.run(timeout, nil, argv...)
		if r.err != nil {
			return r.errOf()
		}
		if got := strings.Count(r.stdout, "\n"); got != n+1 { // "total N"
			return fmt.Errorf("ls -l printed %d lines, want %d", got, n+1)
		}
		b.res.add(ep.lat, name+"-"+phase, t, r.dur.Seconds())
		if phase == "cold" {
			after, _ = rssKiB(m.pid)
		}
	}
	hwm, _ := hwmKiB(m.pid)
	b.res.add(ep.lat, name+"-mem", t, float64(after-idle)*1024/float64(n))
	if name == "huge2" {
		b.res.add(ep.lat, name+"-rss", t, float64(hwm)/1024)
	}
	b.res.note(ep.lat, name+"-mem", t, fmt.Sprintf("VmRSS idle %.0f MiB, after the cold ls -l %.0f MiB, peak (VmHWM) %.0f MiB",
		float64(idle)/1024, float64(after)/1024, float64(hwm)/1024))
	return nil
}
