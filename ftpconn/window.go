package ftpconn

// window keeps the last bytes a download stream delivered, so that a read
// slightly behind the stream (the kernel sends readahead requests
// concurrently, and they can arrive out of order) is served from memory
// instead of restarting the transfer. It is a ring: byte at offset o lives
// at buf[o % len(buf)].
type window struct {
	size  int // capacity to allocate at the first add; 0 means windowSize
	buf   []byte
	start int64 // first offset held
	end   int64 // one past the last offset held
}

// windowSize covers the kernel's readahead and skipMax, so that requests
// that arrived early leave behind them the bytes the late ones need.
const windowSize = 8 << 20

// reset forgets everything and makes off the next offset to be added.
func (w *window) reset(off int64) { w.start, w.end = off, off }

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
	if w.end-w.start > int64(len(w.buf)) {
		w.start = w.end - int64(len(w.buf))
	}
}

// readAt copies the held bytes from off onward into p and returns how many
// it copied (0 when off is not held).
func (w *window) readAt(p []byte, off int64) int {
	if w.buf == nil || off < w.start || off >= w.end {
		return 0
	}
	n := 0
	for n < len(p) && off < w.end {
		i := int(off % int64(len(w.buf)))
		lim := len(w.buf) - i
		if rem := w.end - off; int64(lim) > rem {
			lim = int(rem)
		}
		m := copy(p[n:], w.buf[i:i+lim])
		n += m
		off += int64(m)
	}
	return n
}
