package ftpconn

// window keeps the last bytes a download stream delivered, so that a read
// slightly behind the stream (the kernel sends readahead requests
// concurrently, and they can arrive out of order) is served from memory
// instead of restarting the transfer. It is a ring: byte at offset o lives
// at buf[o % len(buf)].
//
// Bytes read in order for the caller are not copied here (the kernel
// caches them; only bytes skipped over are kept, for the late requests):
// they leave a gap, a range inside [start, end) whose ring bytes are stale
// and must not be served.
type window struct {
	size  int // capacity to allocate at the first add; 0 means windowSize
	buf   []byte
	start int64  // first offset held
	end   int64  // one past the last offset held
	gaps  []span // ranges in [start, end) not held, in order
}

// span is the byte range [from, to).
type span struct{ from, to int64 }

// windowSize covers the kernel's readahead and skipMax, so that requests
// that arrived early leave behind them the bytes the late ones need.
const windowSize = 8 << 20

// reset forgets everything and makes off the next offset to be added.
func (w *window) reset(off int64) { w.start, w.end, w.gaps = off, off, w.gaps[:0] }

// gap advances the window past n bytes it does not hold.
func (w *window) gap(n int) {
	if n <= 0 {
		return
	}
	if k := len(w.gaps); k > 0 && w.gaps[k-1].to == w.end {
		w.gaps[k-1].to += int64(n) // extend the last gap
	} else {
		w.gaps = append(w.gaps, span{w.end, w.end + int64(n)})
	}
	w.end += int64(n)
	w.trim()
}

// trim keeps the window within its capacity and drops the gaps before it.
func (w *window) trim() {
	capacity := int64(w.size)
	if w.buf != nil {
		capacity = int64(len(w.buf))
	}
	if capacity <= 0 {
		capacity = windowSize
	}
	if w.end-w.start > capacity {
		w.start = w.end - capacity
	}
	i := 0
	for i < len(w.gaps) && w.gaps[i].to <= w.start {
		i++
	}
	if i > 0 {
		w.gaps = append(w.gaps[:0], w.gaps[i:]...)
	}
}

// add appends p, which holds the bytes at w.end onward.
func (w *window) add(p []byte) {
	if w.buf == nil {
		if w.size <= 0 || w.size > windowSize {
			w.size = windowSize
		}
		w.buf = make([]byte, w.size)
	}
	if len(p) > len(w.buf) { // only the tail can be kept
		w.end += int64(len(p) - len(w.buf))
		w.start = w.end
		p = p[len(p)-len(w.buf):]
	}
	for len(p) > 0 {
		i := int(w.end % int64(len(w.buf)))
		n := copy(w.buf[i:], p)
		p = p[n:]
		w.end += int64(n)
	}
	w.trim()
}

// readAt copies the held bytes from off onward into p and returns how many
// it copied (0 when off is not held).
func (w *window) readAt(p []byte, off int64) int {
	if w.buf == nil || off < w.start || off >= w.end {
		return 0
	}
	limit := w.end
	for _, g := range w.gaps {
		if off >= g.from && off < g.to {
			return 0
		}
		if g.from > off {
			limit = g.from
			break
		}
	}
	n := 0
	for n < len(p) && off < limit {
		i := int(off % int64(len(w.buf)))
		lim := len(w.buf) - i
		if rem := limit - off; int64(lim) > rem {
			lim = int(rem)
		}
		m := copy(p[n:], w.buf[i:i+lim])
		n += m
		off += int64(m)
	}
	return n
}
