package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// pure-ftpd 1.0.50 from Debian's .deb, unpacked by scripts/install-deps.sh (it conflicts with
// vsftpd as a package). Its user is a virtual one in a puredb, with the FTP user's uid and gid,
// jailed in the data directory (SHA-512 crypt, since the default argon2 costs seconds per login).
const (
	pureftpdDir = ServersDir + "/pure-ftpd"
	pureftpdBin = pureftpdDir + "/usr/sbin/pure-ftpd"
	purePwBin   = pureftpdDir + "/usr/bin/pure-pw"
)

var pureftpd = &program{
	tools:   []string{pureftpdBin, purePwBin},
	passive: true,
	output:  "server.log",
	command: pureftpdCommand,
}

// toolTimeout bounds the helper commands a server's set-up runs (pure-pw, gcc).
const toolTimeout = time.Minute

func pureftpdCommand(l *launch) (*exec.Cmd, error) {
	passwdFile := filepath.Join(l.Dir, "pureftpd.passwd")
	db := filepath.Join(l.Dir, "pureftpd.pdb")
	line := fmt.Sprintf("%s:%s:%d:%d::%s/./::::::::::::\n", l.User, PasswordHash, l.Cred.Uid, l.Cred.Gid, l.DataDir)
	if err := os.WriteFile(passwdFile, []byte(line), 0o600); err != nil {
		return nil, err
	}
	if r := RunTimeout(toolTimeout, l.Dir, nil, purePwBin, "mkdb", db, "-f", passwdFile); r.Err != nil {
		return nil, fmt.Errorf("pure-pw: %v", r)
	}
	cmd := exec.Command(pureftpdBin,
		"-S", "127.0.0.1,"+strconv.Itoa(l.Port),
		"-p", fmt.Sprintf("%d:%d", l.PasvLo, l.PasvHi),
		"-P", "127.0.0.1",
		"-l", "puredb:"+db,
		"-E",       // no anonymous logins
		"-H",       // no reverse DNS
		"-d", "-d", // log commands and replies
	)
	if l.TLS {
		// -Y 3: TLS required for the control connection (so for the login) and for data
		// connections. It logs each handshake's version and cipher.
		cmd.Args = append(cmd.Args, "-Y", "3", "-2", l.cert.Combined)
	}
	if shim, err := buildSyslogShim(l.Dir); err == nil {
		cmd.Env = append(os.Environ(), "LD_PRELOAD="+shim)
	} else {
		fmt.Fprintf(l.out, "(no protocol log: %v)\n", err)
	}
	l.LogFiles = []string{filepath.Join(l.Dir, "server.log")}
	l.match = db
	return cmd, nil
}

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

// buildSyslogShim compiles syslogShim into dir and returns the library's path.
func buildSyslogShim(dir string) (string, error) {
	src := filepath.Join(dir, "syslogshim.c")
	lib := filepath.Join(dir, "syslogshim.so")
	if err := os.WriteFile(src, []byte(syslogShim), 0o644); err != nil {
		return "", err
	}
	if r := RunTimeout(toolTimeout, dir, nil, "gcc", "-shared", "-fPIC", "-O2", "-o", lib, src); r.Err != nil {
		return "", fmt.Errorf("building the syslog shim: %v", r)
	}
	return lib, nil
}
