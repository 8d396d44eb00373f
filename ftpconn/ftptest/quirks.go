package ftptest

import (
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	server "goftp.io/server/v2"
)

// Quirks makes the server behave like the servers people really mount
// (routers and NAS boxes, Windows hosts, shared web hosting, old Unix
// ftpd), one behaviour per field, as public bug reports describe them.
// The zero value is a well-behaved server. Most quirks concern LIST, so
// they are usually combined with Options.NoMLSD.
type Quirks struct {
	// ListLine formats one LIST line for fi (nil: `ls -l`, see lsLine).
	// LsNoGroup, DOSLine and EPLFLine are ready-made; loc is ListZone.
	ListLine func(fi os.FileInfo, loc *time.Location) string
	// ListZone is the zone LIST times are printed in (nil: UTC), as on
	// vsftpd with use_localtime=YES or Windows servers.
	ListZone *time.Location
	// ExtraListLines are sent after the real entries of every LIST and
	// MLSD of a directory (a 300-byte name no disk can hold, say).
	ExtraListLines []string

	// DashA is what LIST does with options ("LIST -a /d"): "" strips them
	// (as most servers do), "refuse" answers 550, "pattern" takes "-a"
	// as the name to list and finds nothing (226 and no lines).
	DashA string
	// EmptyDir550 answers LIST and MLSD of an empty directory with "550
	// No files found" (seen on Windows and embedded servers).
	EmptyDir550 bool
	// ListLimit > 0 stops LIST and MLSD after that many entries and says
	// so in the 226, as pure-ftpd does at 10,000 by default.
	ListLimit int
	// ListIgnoresPath makes LIST list the working directory whatever its
	// argument (FritzBox NAS, game-console and phone servers).
	ListIgnoresPath bool
	// Reply250 ends transfers (RETR, STOR, APPE, LIST, MLSD) with 250
	// instead of 226 (RFC 959 allows both).
	Reply250 bool
	// MLSDSymlinks lists symlinks in MLSD as pure-ftpd does:
	// "type=OS.unix=slink:TARGET", the size being the target text's.
	MLSDSymlinks bool
	// UnixMode adds UNIX.mode to MLSD lines (proftpd, pure-ftpd).
	UnixMode bool
	// CaseInsensitive refuses a rename onto a name that differs from an
	// existing one only in case, the source itself included ("553 file
	// exists"), as Windows servers do.
	CaseInsensitive bool
	// SiteChmod serves SITE CHMOD (and SITE SYMLINK with SiteSymlink);
	// without them SITE answers 500.
	SiteChmod, SiteSymlink bool
}

// LsNoGroup is `ls -l` without the group column, as some embedded
// servers print it: "-rw-r--r--    1 owner     70962 Apr 11  2007 name".
func LsNoGroup(fi os.FileInfo, loc *time.Location) string {
	kind, when := lsKindWhen(fi, loc)
	return fmt.Sprintf("%s%s    1 owner %9d %s %s\r\n", kind, fi.Mode().Perm().String()[1:], fi.Size(), when, fi.Name())
}

// DOSLine is the MS-DOS style of IIS: "04-11-07  10:00PM       <DIR>          name".
func DOSLine(fi os.FileInfo, loc *time.Location) string {
	t := fi.ModTime().In(loc)
	size := fmt.Sprintf("%20d", fi.Size())
	if fi.IsDir() {
		size = fmt.Sprintf("%-20s", "       <DIR>")
	}
	return fmt.Sprintf("%s %s %s\r\n", t.Format("01-02-06  03:04PM"), size, fi.Name())
}

// EPLFLine is Easily Parsed LIST Format: "+m825718503,r,s280,\tname".
func EPLFLine(fi os.FileInfo, _ *time.Location) string {
	kind := "r,s" + fmt.Sprint(fi.Size())
	if fi.IsDir() {
		kind = "/"
	}
	return fmt.Sprintf("+m%d,%s,up%o,\t%s\r\n", fi.ModTime().Unix(), kind, fi.Mode().Perm(), fi.Name())
}

func lsKindWhen(fi os.FileInfo, loc *time.Location) (string, string) {
	kind := "-"
	switch {
	case fi.IsDir():
		kind = "d"
	case fi.Mode()&os.ModeSymlink != 0:
		kind = "l"
	}
	t := fi.ModTime().In(loc)
	when := t.Format("Jan _2 15:04")
	if age := time.Since(t); age < 0 || age > 180*24*time.Hour {
		when = t.Format("Jan _2  2006")
	}
	return kind, when
}

func (s *Server) quirks() *Quirks {
	if s.opts.Quirks == nil {
		return &Quirks{}
	}
	return s.opts.Quirks
}

// transferDone is the final reply of a transfer: 226, or 250 with Reply250.
func (s *Server) transferDone() int {
	if s.quirks().Reply250 {
		return 250
	}
	return 226
}

// listLine formats one LIST line.
func (s *Server) listLine(fi os.FileInfo) string {
	q := s.quirks()
	loc := q.ListZone
	if loc == nil {
		loc = time.UTC
	}
	if q.ListLine != nil {
		return q.ListLine(fi, loc)
	}
	if loc != time.UTC {
		kind, when := lsKindWhen(fi, loc)
		return fmt.Sprintf("%s%s 1 test test %12d %s %s\r\n", kind, fi.Mode().Perm().String()[1:], fi.Size(), when, fi.Name())
	}
	return lsLine(fi)
}

// mlsdQuirkLine formats one MLSD entry with the quirks that concern it,
// or "" to use mlsdLine.
func (s *Server) mlsdQuirkLine(dir string, fi os.FileInfo) string {
	q := s.quirks()
	if !q.MLSDSymlinks && !q.UnixMode {
		return ""
	}
	typ, size := "file", fi.Size()
	if fi.IsDir() {
		typ = "dir"
	}
	if q.MLSDSymlinks && fi.Mode()&os.ModeSymlink != 0 {
		target, err := s.fs.root.Readlink(rel(path.Join(dir, fi.Name())))
		if err == nil {
			typ, size = "OS.unix=slink:"+target, int64(len(target))
		}
	}
	line := fmt.Sprintf("type=%s;modify=%s;size=%d;", typ, fi.ModTime().UTC().Format("20060102150405"), size)
	if q.UnixMode {
		line += fmt.Sprintf("UNIX.mode=0%o;", fi.Mode().Perm())
	}
	return line + " " + fi.Name() + "\r\n"
}

// cmdSite serves SITE CHMOD and SITE SYMLINK where the quirks allow them.
func (s *Server) cmdSite(c *ctrlConn, sess *server.Session, param string) {
	q := s.quirks()
	verb, rest, _ := strings.Cut(param, " ")
	switch strings.ToUpper(verb) {
	case "CHMOD":
		if !q.SiteChmod {
			break
		}
		modeS, p, ok := strings.Cut(rest, " ")
		var mode uint32
		if _, err := fmt.Sscanf(modeS, "%o", &mode); err != nil || !ok {
			sess.WriteMessage(501, "SITE CHMOD: bad arguments")
			return
		}
		if err := s.fs.root.Chmod(rel(sess.BuildPath(p)), os.FileMode(mode&0o777)); err != nil {
			sess.WriteMessage(550, "SITE CHMOD: "+err.Error())
			return
		}
		sess.WriteMessage(200, "SITE CHMOD command successful")
		return
	case "SYMLINK":
		if !q.SiteSymlink {
			break
		}
		target, p, ok := strings.Cut(rest, " ")
		if !ok {
			sess.WriteMessage(501, "SITE SYMLINK: bad arguments")
			return
		}
		if err := s.fs.root.Symlink(target, rel(sess.BuildPath(p))); err != nil {
			sess.WriteMessage(550, "SITE SYMLINK: "+err.Error())
			return
		}
		sess.WriteMessage(200, "SITE SYMLINK command successful")
		return
	}
	sess.WriteMessage(500, "SITE "+verb+" not understood")
}

// caseClash tells whether renaming onto to would clash, ignoring case,
// with an existing entry (the source itself included).
func (f *fsys) caseClash(to string) bool {
	fis, err := f.entries(path.Dir(to))
	if err != nil {
		return false
	}
	for _, fi := range fis {
		if strings.EqualFold(fi.Name(), path.Base(to)) {
			return true
		}
	}
	return false
}
