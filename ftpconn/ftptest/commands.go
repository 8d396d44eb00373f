package ftptest

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	server "goftp.io/server/v2"
)

// command adapts a function to goftp.io's Command interface. goftp.io has
// already checked login (all of these need it) and the parameter.
type command struct {
	s         *Server
	extend    bool // listed in FEAT
	needParam bool
	run       func(c *ctrlConn, sess *server.Session, param string)
}

func (x command) IsExtend() bool     { return x.extend }
func (x command) RequireParam() bool { return x.needParam }
func (x command) RequireAuth() bool  { return true }

func (x command) Execute(sess *server.Session, param string) {
	c := x.s.lookup(sess)
	if c == nil {
		sess.WriteMessage(421, "Session state lost")
		return
	}
	x.run(c, sess, param)
}

// commands is goftp.io's command table with every data-connection command
// replaced (see pasv), active mode removed, SIZE made to answer 550, and
// RMD made to leave the working directory alone.
func (s *Server) commands() map[string]server.Command {
	m := maps.Clone(server.DefaultCommands()) // never modify the shared map
	delete(m, "PORT")
	delete(m, "EPRT")
	delete(m, "LPRT")
	set := func(name string, extend, needParam bool, run func(*ctrlConn, *server.Session, string)) {
		m[name] = command{s: s, extend: extend, needParam: needParam, run: run}
	}
	set("PASV", false, false, s.cmdPasv)
	set("EPSV", true, false, s.cmdPasv)
	set("REST", false, true, s.cmdRest)
	set("RETR", false, true, s.cmdRetr)
	set("STOR", false, true, s.cmdStor)
	set("APPE", false, true, s.cmdStor)
	set("LIST", false, false, s.cmdList)
	set("NLST", false, false, s.cmdList)
	set("MLSD", false, false, s.cmdList)
	set("SIZE", false, true, s.cmdSize)
	set("RMD", false, true, s.cmdRmd)
	set("SITE", false, true, s.cmdSite)
	set("XRMD", false, true, s.cmdRmd)
	if s.opts.NoMLSD {
		delete(m, "MLSD")
		delete(m, "MLST") // also drops MLST from FEAT
	}
	return m
}

// cmdPasv serves PASV and EPSV (goftp.io does not pass the verb to
// Execute; ctrlConn remembers it) with a new listener on 127.0.0.1.
func (s *Server) cmdPasv(c *ctrlConn, sess *server.Session, _ string) {
	if c.data != nil {
		s.closePasv(c.data)
		c.data = nil
	}
	p, err := s.listenPasv()
	if err != nil {
		sess.WriteMessage(425, "Can't open passive connection: "+err.Error())
		return
	}
	c.data = p
	port := p.port()
	if c.lastVerb == "PASV" {
		sess.WriteMessage(227, fmt.Sprintf("Entering Passive Mode (127,0,0,1,%d,%d).", port>>8, port&0xff))
	} else {
		sess.WriteMessage(229, fmt.Sprintf("Entering Extended Passive Mode (|||%d|)", port))
	}
}

func (s *Server) cmdRest(c *ctrlConn, sess *server.Session, param string) {
	n, err := strconv.ParseInt(param, 10, 64)
	if err != nil || n < 0 {
		sess.WriteMessage(501, "Invalid REST parameter")
		return
	}
	c.rest, c.hasRest = n, true
	sess.WriteMessage(350, fmt.Sprintf("Restarting at %d. Send STOR or RETR.", n))
}

// takeRest returns the REST offset and whether there was one, and forgets it.
func (c *ctrlConn) takeRest() (off int64, ok bool) {
	off, ok = c.rest, c.hasRest
	c.rest, c.hasRest = 0, false
	return off, ok
}

// openData replies 150 and returns the client's data connection, or
// replies 425 and returns nil. The caller must call s.closePasv(p).
func (s *Server) openData(c *ctrlConn, sess *server.Session, what string) (net.Conn, *pasv) {
	p := c.data
	c.data = nil
	if p == nil {
		sess.WriteMessage(425, "Use PASV or EPSV first")
		return nil, nil
	}
	conn, err := p.wait()
	if err != nil {
		s.closePasv(p)
		sess.WriteMessage(425, "Can't open data connection")
		return nil, nil
	}
	sess.WriteMessage(150, "Opening BINARY mode data connection for "+what)
	return conn, p
}

// dropData discards the data connection when a command fails before 150.
func (s *Server) dropData(c *ctrlConn) {
	if c.data != nil {
		s.closePasv(c.data)
		c.data = nil
	}
}

func (s *Server) cmdRetr(c *ctrlConn, sess *server.Session, param string) {
	p := sess.BuildPath(param)
	off, _ := c.takeRest() // 0 without REST
	f, err := s.fs.openRead(p, off)
	if err != nil {
		s.dropData(c)
		sess.WriteMessage(550, err.Error())
		return
	}
	defer f.Close()
	var r io.Reader = f
	if n, ok := s.shortRead(p); ok {
		r = io.LimitReader(f, n)
	}
	conn, dp := s.openData(c, sess, p)
	if conn == nil {
		return
	}
	n, err := io.Copy(conn, r)
	s.closePasv(dp) // close before 226: the client has all bytes when it reads 226
	if err != nil {
		sess.WriteMessage(426, "Connection closed; transfer aborted.")
		return
	}
	sess.WriteMessage(s.transferDone(), fmt.Sprintf("Transfer complete, %d bytes sent.", n))
}

// cmdStor serves STOR and APPE (told apart by the session's last verb).
func (s *Server) cmdStor(c *ctrlConn, sess *server.Session, param string) {
	p := sess.BuildPath(param)
	off, rest := c.takeRest()
	mode := writeTruncate
	switch {
	case c.lastVerb == "APPE":
		mode = writeAppend
	case rest:
		mode = writeAt
	}
	f, err := s.fs.openWrite(p, mode, off)
	if err != nil {
		s.dropData(c)
		if errors.Is(err, errBadRest) {
			sess.WriteMessage(554, "Invalid REST parameter: "+err.Error())
		} else {
			sess.WriteMessage(550, err.Error())
		}
		return
	}
	conn, dp := s.openData(c, sess, p)
	if conn == nil {
		f.Close()
		return
	}
	n, err := io.Copy(f, conn)
	s.closePasv(dp)
	if cerr := f.Close(); err == nil && cerr != nil {
		sess.WriteMessage(451, "Write failed: "+cerr.Error())
		return
	}
	if err != nil {
		sess.WriteMessage(426, "Connection closed; transfer aborted.")
		return
	}
	if fail := s.failUpload(p); fail != "" {
		_ = c.reply(fail)
		return
	}
	sess.WriteMessage(s.transferDone(), fmt.Sprintf("Transfer complete, %d bytes received.", n))
}

// cmdList serves LIST, NLST and MLSD. LIST and NLST of a file list that
// file; MLSD of a file is an error.
func (s *Server) cmdList(c *ctrlConn, sess *server.Session, param string) {
	verb := c.lastVerb
	q := s.quirks()
	flags := strings.HasPrefix(param, "-")
	if verb == "LIST" && flags && q.DashA == "refuse" {
		s.dropData(c)
		sess.WriteMessage(550, "-a: No such file or directory")
		return
	}
	if verb == "LIST" && flags && q.DashA == "pattern" {
		// "-a" taken as a name pattern that matches nothing.
		if conn, dp := s.openData(c, sess, "LIST "+param); conn != nil {
			s.closePasv(dp)
			sess.WriteMessage(s.transferDone(), "Transfer complete.")
		}
		return
	}
	if verb != "MLSD" {
		param = skipFlags(param)
	}
	if verb == "LIST" && q.ListIgnoresPath {
		param = ""
	}
	p := sess.BuildPath(param)
	fi, err := s.fs.Stat(nil, p)
	var fis []os.FileInfo
	switch {
	case err != nil:
	case fi.IsDir():
		fis, err = s.fs.entries(p)
	case verb == "MLSD":
		err = fmt.Errorf("%s: not a directory", p)
	default:
		fis = []os.FileInfo{fi}
	}
	if err == nil && fi.IsDir() && len(fis) == 0 && q.EmptyDir550 {
		err = errors.New("No files found")
	}
	if err != nil {
		s.dropData(c)
		sess.WriteMessage(550, err.Error())
		return
	}
	done := "Transfer complete."
	if q.ListLimit > 0 && len(fis) > q.ListLimit {
		fis = fis[:q.ListLimit]
		done = fmt.Sprintf("Output truncated to %d matches", q.ListLimit)
	}
	var b strings.Builder
	switch verb {
	case "MLSD":
		if s.opts.ListDots {
			b.WriteString(mlsdLine("cdir", fi, "."))
			if up, err := s.fs.Stat(nil, p+"/.."); err == nil {
				b.WriteString(mlsdLine("pdir", up, ".."))
			}
		}
		for _, fi := range fis {
			if line := s.mlsdQuirkLine(p, fi); line != "" {
				b.WriteString(line)
				continue
			}
			b.WriteString(mlsdLine("", fi, fi.Name()))
		}
		if fi.IsDir() {
			for _, l := range q.ExtraListLines {
				b.WriteString(l + "\r\n")
			}
		}
	case "NLST":
		for _, fi := range fis {
			b.WriteString(fi.Name() + "\r\n")
		}
	default:
		for _, fi := range fis {
			b.WriteString(s.listLine(fi))
		}
		if fi.IsDir() {
			for _, l := range q.ExtraListLines {
				b.WriteString(l + "\r\n")
			}
		}
	}
	conn, dp := s.openData(c, sess, verb+" "+p)
	if conn == nil {
		return
	}
	_, err = io.WriteString(conn, b.String())
	s.closePasv(dp)
	if err != nil {
		sess.WriteMessage(426, "Connection closed; transfer aborted.")
		return
	}
	if done == "Transfer complete." {
		sess.WriteMessage(s.transferDone(), done)
	} else {
		sess.WriteMessage(226, done)
	}
}

// skipFlags drops leading "-la"-style options from a LIST/NLST parameter.
func skipFlags(param string) string {
	for strings.HasPrefix(param, "-") {
		_, param, _ = strings.Cut(param, " ")
	}
	return strings.TrimLeft(param, " ")
}

// mlsdLine formats one RFC 3659 entry: Type, Modify (UTC), Size; name.
func mlsdLine(typ string, fi os.FileInfo, name string) string {
	if typ == "" {
		typ = "file"
		if fi.IsDir() {
			typ = "dir"
		}
	}
	return fmt.Sprintf("Type=%s;Modify=%s;Size=%d; %s\r\n",
		typ, fi.ModTime().UTC().Format("20060102150405"), fi.Size(), name)
}

// lsLine formats one entry like `ls -l` (UTC), the format every LIST
// parser understands.
func lsLine(fi os.FileInfo) string {
	kind := "-"
	switch {
	case fi.IsDir():
		kind = "d"
	case fi.Mode()&os.ModeSymlink != 0:
		kind = "l"
	}
	t := fi.ModTime().UTC()
	when := t.Format("Jan _2 15:04")
	if age := time.Since(t); age < 0 || age > 180*24*time.Hour {
		when = t.Format("Jan _2  2006")
	}
	return fmt.Sprintf("%s%s 1 test test %12d %s %s\r\n",
		kind, fi.Mode().Perm().String()[1:], fi.Size(), when, fi.Name())
}

func (s *Server) cmdSize(c *ctrlConn, sess *server.Session, param string) {
	p := sess.BuildPath(param)
	fi, err := s.fs.Stat(nil, p)
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s: not a plain file", p)
	}
	if err != nil {
		sess.WriteMessage(550, err.Error())
		return
	}
	sess.WriteMessage(213, strconv.FormatInt(fi.Size(), 10))
}

// cmdRmd replaces goftp.io's RMD, which sets the working directory to the
// parent of its argument whenever the argument starts with the working
// directory (so "RMD /a/b" from "/" moves to "/a"), even when it fails.
func (s *Server) cmdRmd(c *ctrlConn, sess *server.Session, param string) {
	p := sess.BuildPath(param)
	if p == "/" {
		sess.WriteMessage(550, "Directory / cannot be deleted")
		return
	}
	if err := s.fs.DeleteDir(nil, p); err != nil {
		sess.WriteMessage(550, "Directory delete failed: "+err.Error())
		return
	}
	sess.WriteMessage(250, "Directory deleted")
}
