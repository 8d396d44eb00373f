package ftpconn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// Legacy name encodings. Old servers (Japanese, Chinese, Korean, western
// European) store names in a code page and know nothing of UTF-8. With
// Config.Encoding set, every path sent is converted from UTF-8 to that
// code page, every name listed is converted back, and OPTS UTF8 ON is not
// sent. Decoders map bytes they can't read to U+FFFD without complaint, so
// a listed name is shown only when it converts back to the very same
// bytes; others are hidden (and logged in debug mode) rather than shown
// wrong — a wrong name could not be opened anyway.

// encodings lists the names -o encoding= accepts.
var encodings = map[string]encoding.Encoding{
	"cp932": japanese.ShiftJIS, "shift_jis": japanese.ShiftJIS, "sjis": japanese.ShiftJIS,
	"windows-31j": japanese.ShiftJIS,
	"euc-jp":      japanese.EUCJP, "iso-2022-jp": japanese.ISO2022JP,
	"gbk": simplifiedchinese.GBK, "cp936": simplifiedchinese.GBK, "gb2312": simplifiedchinese.GBK,
	"gb18030": simplifiedchinese.GB18030,
	"big5":    traditionalchinese.Big5, "cp950": traditionalchinese.Big5,
	"euc-kr": korean.EUCKR, "cp949": korean.EUCKR,
	"latin1": charmap.ISO8859_1, "iso-8859-1": charmap.ISO8859_1,
	"latin9": charmap.ISO8859_15, "iso-8859-15": charmap.ISO8859_15,
	"cp1252": charmap.Windows1252, "windows-1252": charmap.Windows1252,
	"cp1251": charmap.Windows1251, "windows-1251": charmap.Windows1251,
	"koi8-r": charmap.KOI8R, "cp1250": charmap.Windows1250, "cp437": charmap.CodePage437,
	"cp850": charmap.CodePage850, "cp866": charmap.CodePage866,
}

// LookupEncoding returns the encoding of that name (case-insensitive).
func LookupEncoding(name string) (encoding.Encoding, error) {
	if e, ok := encodings[strings.ToLower(name)]; ok {
		return e, nil
	}
	return nil, fmt.Errorf("unknown encoding %q (known: cp932, shift_jis, euc-jp, gbk, gb18030, big5, euc-kr, latin1, cp1252, ...)", name)
}

// codecClient is a Client that converts names between UTF-8 (its callers)
// and the server's encoding (the Client it wraps).
type codecClient struct {
	Client
	enc   encoding.Encoding
	debug func(string, ...any)
}

// toServer converts a UTF-8 path to the server's encoding.
func (c *codecClient) toServer(op, p string) (string, error) {
	out, err := c.enc.NewEncoder().String(p)
	if err != nil {
		return "", &NoReplyError{Op: op, Path: p, Msg: "name cannot be written in the server's encoding", Kind: ErrInvalidName}
	}
	return out, nil
}

// fromServer converts a listed name to UTF-8; ok is false when it does
// not convert back to the same bytes.
func (c *codecClient) fromServer(name string) (string, bool) {
	u, err := c.enc.NewDecoder().String(name)
	if err != nil {
		return "", false
	}
	back, err := c.enc.NewEncoder().String(u)
	if err != nil || back != name {
		return "", false
	}
	return u, true
}

func (c *codecClient) List(ctx context.Context, dir string) ([]Entry, error) {
	sdir, err := c.toServer("LIST", dir)
	if err != nil {
		return nil, err
	}
	raw, err := c.Client.List(ctx, sdir)
	if err != nil && !errors.Is(err, ErrIncomplete) {
		return nil, err
	}
	out := raw[:0]
	for _, e := range raw {
		name, ok := c.fromServer(e.Name)
		if !ok {
			c.debug("LIST %s: hiding %q: it does not convert from the server's encoding and back", dir, e.Name)
			continue
		}
		e.Name = name
		if t, ok := c.fromServer(e.Target); ok {
			e.Target = t
		}
		out = append(out, e)
	}
	return out, err
}

func (c *codecClient) Stat(ctx context.Context, p string) (Entry, error) {
	sp, err := c.toServer("MLST", p)
	if err != nil {
		return Entry{}, err
	}
	e, err := c.Client.Stat(ctx, sp)
	if err == nil {
		e.Name = path.Base(p)
		if t, ok := c.fromServer(e.Target); ok {
			e.Target = t
		}
	}
	return e, err
}

func (c *codecClient) OpenReader(p string, size int64) Reader {
	sp, err := c.toServer("RETR", p)
	if err != nil {
		return failedReader{err}
	}
	return c.Client.OpenReader(sp, size)
}

func (c *codecClient) UploadStream(ctx context.Context, p string, src io.ReaderAt, final func() int64) error {
	sp, err := c.toServer("STOR", p)
	if err != nil {
		return err
	}
	return c.Client.UploadStream(ctx, sp, src, final)
}

func (c *codecClient) Upload(ctx context.Context, p string, src io.ReaderAt, size int64) error {
	sp, err := c.toServer("STOR", p)
	if err != nil {
		return err
	}
	return c.Client.Upload(ctx, sp, src, size)
}

func (c *codecClient) Append(ctx context.Context, p string, src io.ReaderAt, from, size int64) error {
	sp, err := c.toServer("STOR", p)
	if err != nil {
		return err
	}
	return c.Client.Append(ctx, sp, src, from, size)
}

func (c *codecClient) Mkdir(ctx context.Context, p string) error {
	sp, err := c.toServer("MKD", p)
	if err != nil {
		return err
	}
	return c.Client.Mkdir(ctx, sp)
}

func (c *codecClient) Rmdir(ctx context.Context, p string) error {
	sp, err := c.toServer("RMD", p)
	if err != nil {
		return err
	}
	return c.Client.Rmdir(ctx, sp)
}

func (c *codecClient) Delete(ctx context.Context, p string) error {
	sp, err := c.toServer("DELE", p)
	if err != nil {
		return err
	}
	return c.Client.Delete(ctx, sp)
}

func (c *codecClient) Rename(ctx context.Context, from, to string) error {
	sf, err := c.toServer("RNFR", from)
	if err != nil {
		return err
	}
	st, err := c.toServer("RNTO", to)
	if err != nil {
		return err
	}
	return c.Client.Rename(ctx, sf, st)
}

func (c *codecClient) ModTime(ctx context.Context, p string) (time.Time, error) {
	sp, err := c.toServer("MDTM", p)
	if err != nil {
		return time.Time{}, err
	}
	return c.Client.ModTime(ctx, sp)
}

func (c *codecClient) SetTime(ctx context.Context, p string, t time.Time) error {
	sp, err := c.toServer("MFMT", p)
	if err != nil {
		return err
	}
	return c.Client.SetTime(ctx, sp, t)
}

func (c *codecClient) Chmod(ctx context.Context, p string, mode uint32) error {
	sp, err := c.toServer("SITE CHMOD", p)
	if err != nil {
		return err
	}
	return c.Client.Chmod(ctx, sp, mode)
}

func (c *codecClient) Symlink(ctx context.Context, target, p string) error {
	sp, err := c.toServer("SITE SYMLINK", p)
	if err != nil {
		return err
	}
	st, err := c.toServer("SITE SYMLINK", target)
	if err != nil {
		return err
	}
	return c.Client.Symlink(ctx, st, sp)
}

// failedReader is a Reader for a name that could not be converted.
type failedReader struct{ err error }

func (r failedReader) ReadAt(context.Context, []byte, int64) (int, error) { return 0, r.err }
func (r failedReader) Close() error                                       { return nil }
