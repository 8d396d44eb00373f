// Package ftpfake is an in-memory ftpconn.Client for tests of the layers
// above ftpconn. It behaves like a well-mannered FTP server (the same
// sentinel errors as the real client) and counts the calls it gets, so
// tests can assert how many listings an operation cost. Failures can be
// injected per operation with Fail.
package ftpfake

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ftpmount/ftpmount/ftpconn"
)

type node struct {
	dir   bool
	data  []byte
	mtime time.Time
	mode  uint32 // permission bits set by Chmod; 0: not set
}

// Client is the fake. The zero value is not usable: call New.
type Client struct {
	mu    sync.Mutex
	nodes map[string]*node // GUARDED_BY(mu): absolute path → node; "/" always exists
	calls map[string]int   // GUARDED_BY(mu): operation → count
	fail  map[string]error // GUARDED_BY(mu): operation → error to return once
	// ListDelay, when set, is slept inside every List (to make concurrent
	// callers overlap).
	ListDelay time.Duration
}

var _ ftpconn.Client = (*Client)(nil)

// New returns an empty server with only "/".
func New() *Client {
	return &Client{
		nodes: map[string]*node{"/": {dir: true}},
		calls: map[string]int{},
		fail:  map[string]error{},
	}
}

// WriteFile creates or replaces a file (and its parent directories), as
// another client of the server would.
func (c *Client) WriteFile(p string, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mkdirAll(path.Dir(p))
	c.nodes[p] = &node{data: bytes.Clone(data), mtime: time.Now()}
}

// ReadFile returns a file's content as the server has it.
func (c *Client) ReadFile(p string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.nodes[p]
	if !ok || n.dir {
		return nil, false
	}
	return bytes.Clone(n.data), true
}

// Calls returns how many times op ("List", "Upload", ...) was called.
func (c *Client) Calls(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[op]
}

// Fail makes the next call of op return err.
func (c *Client) Fail(op string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fail[op] = err
}

func (c *Client) mkdirAll(p string) {
	for p != "/" {
		if _, ok := c.nodes[p]; !ok {
			c.nodes[p] = &node{dir: true, mtime: time.Now()}
		}
		p = path.Dir(p)
	}
}

// begin counts a call and returns an injected failure. Needs mu held.
func (c *Client) begin(op string) error {
	c.calls[op]++
	if err, ok := c.fail[op]; ok {
		delete(c.fail, op)
		return err
	}
	return nil
}

func notFound(op, p string) error {
	return &ftpconn.ReplyError{Op: op, Path: p, Code: 550, Msg: "No such file or directory", Kind: ftpconn.ErrNotFound}
}

func (c *Client) List(ctx context.Context, dir string) ([]ftpconn.Entry, error) {
	if c.ListDelay > 0 {
		time.Sleep(c.ListDelay)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.begin("List"); err != nil {
		return nil, err
	}
	if n, ok := c.nodes[dir]; !ok || !n.dir {
		return nil, notFound("LIST", dir)
	}
	var out []ftpconn.Entry
	prefix := strings.TrimSuffix(dir, "/") + "/"
	for p, n := range c.nodes {
		if p == "/" || path.Dir(p) != path.Clean(dir) || !strings.HasPrefix(p, prefix) {
			continue
		}
		e := ftpconn.Entry{Name: path.Base(p), ModTime: n.mtime, Mode: n.mode}
		if n.dir {
			e.Type = ftpconn.TypeDir
		} else {
			e.Size = int64(len(n.data))
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (c *Client) OpenReader(p string, size int64) ftpconn.Reader {
	return &reader{c: c, p: p}
}

type reader struct {
	c *Client
	p string
}

func (r *reader) ReadAt(ctx context.Context, buf []byte, off int64) (int, error) {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	if err := r.c.begin("Read"); err != nil {
		return 0, err
	}
	n, ok := r.c.nodes[r.p]
	if !ok || n.dir {
		return 0, notFound("RETR", r.p)
	}
	if off >= int64(len(n.data)) {
		return 0, io.EOF
	}
	m := copy(buf, n.data[off:])
	if m < len(buf) {
		return m, io.EOF
	}
	return m, nil
}

func (r *reader) Close() error { return nil }

// UploadStream reads src to its end, then stores it like Upload.
func (c *Client) UploadStream(ctx context.Context, p string, src io.ReaderAt, final func() int64) error {
	data, err := io.ReadAll(io.NewSectionReader(src, 0, math.MaxInt64))
	if err != nil {
		return err
	}
	if int64(len(data)) != final() {
		return fmt.Errorf("stream gave %d bytes, final size %d", len(data), final())
	}
	return c.Upload(ctx, p, bytes.NewReader(data), int64(len(data)))
}

func (c *Client) Upload(ctx context.Context, p string, src io.ReaderAt, size int64) error {
	data := make([]byte, size)
	if _, err := src.ReadAt(data, 0); err != nil && !(errors.Is(err, io.EOF) && size == 0) {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.begin("Upload"); err != nil {
		return err
	}
	if n, ok := c.nodes[path.Dir(p)]; !ok || !n.dir {
		return notFound("STOR", p)
	}
	c.nodes[p] = &node{data: data, mtime: time.Now()}
	return nil
}

func (c *Client) Mkdir(ctx context.Context, p string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.begin("Mkdir"); err != nil {
		return err
	}
	if _, ok := c.nodes[p]; ok {
		return &ftpconn.ReplyError{Op: "MKD", Path: p, Code: 550, Msg: "exists", Kind: ftpconn.ErrExists}
	}
	if n, ok := c.nodes[path.Dir(p)]; !ok || !n.dir {
		return notFound("MKD", p)
	}
	c.nodes[p] = &node{dir: true, mtime: time.Now()}
	return nil
}

func (c *Client) Rmdir(ctx context.Context, p string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.begin("Rmdir"); err != nil {
		return err
	}
	n, ok := c.nodes[p]
	if !ok {
		return notFound("RMD", p)
	}
	if !n.dir {
		// As the real client reports it (see ftpconn/conformance).
		return &ftpconn.ReplyError{Op: "RMD", Path: p, Code: 550, Msg: "Not a directory", Kind: ftpconn.ErrPermission}
	}
	for q := range c.nodes {
		if path.Dir(q) == p && q != "/" {
			return &ftpconn.ReplyError{Op: "RMD", Path: p, Code: 550, Msg: "not empty", Kind: ftpconn.ErrNotEmpty}
		}
	}
	delete(c.nodes, p)
	return nil
}

func (c *Client) Delete(ctx context.Context, p string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.begin("Delete"); err != nil {
		return err
	}
	n, ok := c.nodes[p]
	if !ok {
		return notFound("DELE", p)
	}
	if n.dir {
		// As the real client reports it (see ftpconn/conformance).
		return &ftpconn.ReplyError{Op: "DELE", Path: p, Code: 550, Msg: "Is a directory", Kind: ftpconn.ErrPermission}
	}
	delete(c.nodes, p)
	return nil
}

func (c *Client) Rename(ctx context.Context, from, to string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.begin("Rename"); err != nil {
		return err
	}
	if _, ok := c.nodes[from]; !ok {
		return notFound("RNFR", from)
	}
	if n, ok := c.nodes[path.Dir(to)]; !ok || !n.dir {
		return notFound("RNTO", to)
	}
	moved := map[string]*node{}
	for p, n := range c.nodes {
		if p == from || strings.HasPrefix(p, from+"/") {
			moved[to+strings.TrimPrefix(p, from)] = n
			delete(c.nodes, p)
		}
	}
	for p, n := range moved {
		c.nodes[p] = n
	}
	return nil
}

func (c *Client) ModTime(ctx context.Context, p string) (time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.begin("ModTime"); err != nil {
		return time.Time{}, err
	}
	n, ok := c.nodes[p]
	if !ok {
		return time.Time{}, notFound("MDTM", p)
	}
	return n.mtime.UTC().Truncate(time.Second), nil
}

func (c *Client) SetTime(ctx context.Context, p string, t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.begin("SetTime"); err != nil {
		return err
	}
	n, ok := c.nodes[p]
	if !ok {
		return notFound("MFMT", p)
	}
	n.mtime = t
	return nil
}

// Stat finds one name, as MLST does.
func (c *Client) Stat(ctx context.Context, p string) (ftpconn.Entry, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.begin("Stat"); err != nil {
		return ftpconn.Entry{}, err
	}
	n, ok := c.nodes[p]
	if !ok {
		return ftpconn.Entry{}, notFound("MLST", p)
	}
	e := ftpconn.Entry{Name: path.Base(p), ModTime: n.mtime, Mode: n.mode}
	if n.dir {
		e.Type = ftpconn.TypeDir
	} else {
		e.Size = int64(len(n.data))
	}
	return e, nil
}

// Chmod sets the permission bits, as SITE CHMOD on most servers.
func (c *Client) Chmod(ctx context.Context, p string, mode uint32) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.begin("Chmod"); err != nil {
		return err
	}
	n, ok := c.nodes[p]
	if !ok {
		return notFound("SITE CHMOD", p)
	}
	n.mode = mode & 0o7777
	return nil
}

// Symlink: the fake, like most servers, has no SITE SYMLINK.
func (c *Client) Symlink(ctx context.Context, target, p string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.begin("Symlink"); err != nil {
		return err
	}
	return &ftpconn.ReplyError{Op: "SITE SYMLINK", Path: p, Code: 500, Msg: "unknown command", Kind: ftpconn.ErrNotSupported}
}

func (c *Client) Close() error { return nil }

// Append writes bytes [from, size) of src at offset from, like REST+STOR.
// The fake refuses when the file does not hold exactly from bytes.
func (c *Client) Append(ctx context.Context, p string, src io.ReaderAt, from, size int64) error {
	data := make([]byte, size-from)
	if _, err := src.ReadAt(data, from); err != nil && !(errors.Is(err, io.EOF) && len(data) == 0) {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.begin("Append"); err != nil {
		return err
	}
	n, ok := c.nodes[p]
	if !ok || n.dir || int64(len(n.data)) != from {
		return &ftpconn.ReplyError{Op: "STOR", Path: p, Code: 451, Msg: "cannot resume", Kind: ftpconn.ErrNotSupported}
	}
	n.data = append(n.data, data...)
	n.mtime = time.Now()
	return nil
}
