package integration

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// pure-ftpd 1.0.50 from Debian's .deb, unpacked by scripts/install-deps.sh (it conflicts with
// vsftpd as a package).
const (
	pureftpdDir = serversDir + "/pure-ftpd"
	pureftpdBin = pureftpdDir + "/usr/sbin/pure-ftpd"
	purePwBin   = pureftpdDir + "/usr/bin/pure-pw"
)

// syslogShim is preloaded into pure-ftpd, which logs only through syslog(3) (and this machine has
// no /dev/log): it writes each message as one line to stderr instead, which goes to a file. With
// -d -d, pure-ftpd logs every command and reply.
const syslogShim = `#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static void emit(const char *fmt, va_list ap) {
	char buf[4096];
	struct timeval tv;
	struct tm tm;
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	int n = (int)strftime(buf, sizeof buf, "%H:%M:%S", &tm);
	n += snprintf(buf + n, sizeof buf - n, ".%03ld [%d] ", (long)tv.tv_usec / 1000, (int)getpid());
	if (n < (int)sizeof buf)
		n += vsnprintf(buf + n, sizeof buf - n, fmt, ap);
	if (n > (int)sizeof buf - 1)
		n = (int)sizeof buf - 1;
	buf[n++] = '\n';
	(void)!write(2, buf, n);
}

/* Read the time zone before pure-ftpd chroots. */
__attribute__((constructor)) static void init(void) { tzset(); }

void openlog(const char *ident, int option, int facility) { (void)ident; (void)option; (void)facility; }
void closelog(void) {}
void vsyslog(int pri, const char *fmt, va_list ap) { (void)pri; emit(fmt, ap); }
void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap) { (void)pri; (void)flag; emit(fmt, ap); }
void syslog(int pri, const char *fmt, ...) { va_list ap; (void)pri; va_start(ap, fmt); emit(fmt, ap); va_end(ap); }
void __syslog_chk(int pri, int flag, const char *fmt, ...) { va_list ap; (void)pri; (void)flag; va_start(ap, fmt); emit(fmt, ap); va_end(ap); }
`

// startPureftpdProcess writes a puredb with the FTP user (a virtual user with the FTP user's uid
// and gid, jailed in the data directory; SHA-512 crypt, since the default argon2 costs seconds per
// login) and runs pure-ftpd on fresh ports until it greets with 220 (see serverStarters).
func startPureftpdProcess(t *testing.T, s *ftpServer) error {
	t.Helper()
	port, err := freePort()
	if err != nil {
		return err
	}
	lo, hi, err := freePortRange(50)
	if err != nil {
		return err
	}
	dir := t.TempDir()
	passwdFile := filepath.Join(dir, "pureftpd.passwd")
	db := filepath.Join(dir, "pureftpd.pdb")
	line := fmt.Sprintf("%s:%s:%d:%d::%s/./::::::::::::\n", s.User, ftpPasswordHash, s.cred.Uid, s.cred.Gid, s.DataDir)
	if err := os.WriteFile(passwdFile, []byte(line), 0o600); err != nil {
		return err
	}
	if r := command(cmdTimeout, dir, nil, purePwBin, "mkdb", db, "-f", passwdFile); r.err != nil {
		return fmt.Errorf("pure-pw: %v", r)
	}
	serverLog := filepath.Join(dir, "server.log")
	out, err := openLog(serverLog)
	if err != nil {
		return err
	}
	defer out.Close()
	cmd := exec.Command(pureftpdBin,
		"-S", "127.0.0.1,"+strconv.Itoa(port),
		"-p", fmt.Sprintf("%d:%d", lo, hi),
		"-P", "127.0.0.1",
		"-l", "puredb:"+db,
		"-E",       // no anonymous logins
		"-H",       // no reverse DNS
		"-d", "-d", // log commands and replies
	)
	if s.TLS {
		// -Y 3: TLS required for the control connection (so for the login) and for data
		// connections. It logs each handshake's version and cipher.
		cmd.Args = append(cmd.Args, "-Y", "3", "-2", s.cert.Combined)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if shim, err := buildSyslogShim(dir); err == nil {
		cmd.Env = append(os.Environ(), "LD_PRELOAD="+shim)
	} else {
		fmt.Fprintf(out, "(no protocol log: %v)\n", err)
	}
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	s.logFiles = []string{serverLog}
	return s.launch(t, cmd, serverLog, db)
}

// buildSyslogShim compiles syslogShim into dir and returns the library's path.
func buildSyslogShim(dir string) (string, error) {
	src := filepath.Join(dir, "syslogshim.c")
	lib := filepath.Join(dir, "syslogshim.so")
	if err := os.WriteFile(src, []byte(syslogShim), 0o644); err != nil {
		return "", err
	}
	if r := command(cmdTimeout, dir, nil, "gcc", "-shared", "-fPIC", "-O2", "-o", lib, src); r.err != nil {
		return "", fmt.Errorf("building the syslog shim: %v", r)
	}
	return lib, nil
}
