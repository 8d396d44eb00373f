#!/usr/bin/env bash
# Installs what ftpmount's tests and demo need on Debian 12, and the local FTP test user.
# Idempotent and silent when everything is already there; needs root only when something is missing.
# Works with no stdin (CI).
set -euo pipefail

# fuse3: fusermount3; vsftpd + python3-pyftpdlib: servers the tests and the demo run (proftpd and
# pure-ftpd are unpacked below); python3-openssl: pyftpdlib's TLS; openssl: the FTPS tests make
# their CA and server certificates with it; gcc + libc6-dev: `go test -race` needs cgo, and the
# pure-ftpd tests build a small syslog shim with it; restic + borgbackup: the backup tools the
# data-safety tests keep repositories on the mount with; ucspi-tcp: tcpserver, the super-server
# that runs the inetd-style servers below (inetutils and netkit ftpd) on a port, handing each the
# client's socket; vim: a user's editor writing the same file twice (its "changed since reading"
# check against the times the mount shows).
packages=(fuse3 vsftpd python3-pyftpdlib python3-openssl openssl curl rsync git gcc libc6-dev restic borgbackup ucspi-tcp vim)

# The FTP account the integration tests log in with (integration/harness/account.go has the same values).
user=ftpmounttest
home=/srv/ftpmounttest
# The password is ftpmounttest-pw; this is its SHA-512 crypt with a fixed salt, so that an existing
# account can be checked without rewriting /etc/shadow on every run. Made with:
#   openssl passwd -6 -salt ftpmounttestsalt ftpmounttest-pw
pwhash='$6$ftpmounttestsalt$ELiBG2NE2XA/kNIwDD1fjJvnVDHv9yc7QbVgi2JqdwKBI6jUR7xAgREsti/jC1aEOplLsqGZAiK81IZT/H6Ew1'
shell=/bin/bash

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: $1; run this script as root" >&2
		exit 1
	fi
}

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -gt 0 ]; then
	need_root "missing packages: ${missing[*]}"
	echo "install-deps: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq </dev/null
	apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
fi

# proftpd and pure-ftpd conflict with vsftpd as packages (ftp-server): their .debs are unpacked
# under $servers instead, with the libraries proftpd needs that Debian 12 lacks by default, and the
# tests run them from there (integration/harness/proftpd.go, pureftpd.go and inetd.go know these paths).
# proftpd-mod-crypto brings mod_tls. A directory is complete once its .installed file lists exactly
# the packages below; a change to a list unpacks that directory again.
servers=/opt/ftpmount-servers
proftpd_debs=(proftpd-core proftpd-mod-crypto libhiredis0.14 libmemcached11 libmemcachedutil2 libhashkit2 libpcre2-posix3)
pureftpd_debs=(pure-ftpd)
# GNU inetutils ftpd and netkit ftpd (Debian's ftpd-ssl: netkit's with TLS patches; "ftpd" is a
# transitional package for it): old Unix servers that do not chroot, LIST only. Both conflict with
# vsftpd as packages too.
inetutils_debs=(inetutils-ftpd)
netkit_debs=(ftpd-ssl)

# unpack DIR BINARY PACKAGE... downloads the packages with apt-get and unpacks them into DIR, then
# checks that DIR/BINARY finds all its libraries (with DIR's own on LD_LIBRARY_PATH, as the tests do).
unpack() {
	local dir=$1 bin=$2
	shift 2
	if [ -f "$dir/.installed" ] && [ "$(head -n1 "$dir/.installed")" = "$*" ]; then
		return
	fi
	need_root "$dir is missing or incomplete"
	echo "install-deps: unpacking $* into $dir" >&2
	local tmp out
	tmp=$(mktemp -d)
	# apt-get download drops privileges to _apt, which must be able to write the directory.
	if id _apt >/dev/null 2>&1; then chown _apt "$tmp"; fi
	if ! out=$(cd "$tmp" && apt-get download -q "$@" </dev/null 2>&1); then
		apt-get update -qq </dev/null
		if ! out=$(cd "$tmp" && apt-get download -q "$@" </dev/null 2>&1); then
			echo "install-deps: apt-get download $*: $out" >&2
			rm -rf "$tmp"
			exit 1
		fi
	fi
	rm -rf "$dir.new"
	mkdir -p "$dir.new"
	local deb
	for deb in "$tmp"/*.deb; do
		dpkg -x "$deb" "$dir.new"
	done
	if out=$(LD_LIBRARY_PATH="$dir.new/usr/lib/x86_64-linux-gnu" ldd "$dir.new/$bin" 2>&1 | grep 'not found'); then
		echo "install-deps: $dir.new/$bin lacks libraries:" >&2
		echo "$out" >&2
		rm -rf "$tmp"
		exit 1
	fi
	{
		echo "$*"
		for deb in "$tmp"/*.deb; do
			dpkg-deb -W "$deb"
		done
	} >"$dir.new/.installed"
	rm -rf "$tmp" "$dir"
	mv "$dir.new" "$dir"
}
unpack "$servers/proftpd" usr/sbin/proftpd "${proftpd_debs[@]}"
unpack "$servers/pure-ftpd" usr/sbin/pure-ftpd "${pureftpd_debs[@]}"
unpack "$servers/inetutils-ftpd" usr/sbin/ftpd "${inetutils_debs[@]}"
unpack "$servers/netkit-ftpd" usr/sbin/in.ftpd "${netkit_debs[@]}"
# netkit ftpd checks passwords with PAM service "ftp", which only its package installs: the
# unpacked copy of that file (deny /etc/ftpusers, pam_ftp for anonymous, common-auth, shells).
if [ ! -f /etc/pam.d/ftp ]; then
	need_root "/etc/pam.d/ftp is missing"
	install -m 0644 "$servers/netkit-ftpd/etc/pam.d/ftp" /etc/pam.d/ftp
fi
# The FTPS tests load proftpd's mod_tls (from proftpd-mod-crypto), which needs the system's libssl.
if out=$(LD_LIBRARY_PATH="$servers/proftpd/usr/lib/x86_64-linux-gnu" ldd "$servers/proftpd/usr/lib/proftpd/mod_tls.so" 2>&1 | grep 'not found'); then
	echo "install-deps: $servers/proftpd/usr/lib/proftpd/mod_tls.so lacks libraries:" >&2
	echo "$out" >&2
	exit 1
fi

# pyftpdlib is a Debian package for Debian's python: another python3 first on PATH may not have it.
if ! /usr/bin/python3 -c 'import pyftpdlib' 2>/dev/null; then
	echo "install-deps: /usr/bin/python3 cannot import pyftpdlib (python3-pyftpdlib is installed)" >&2
	exit 1
fi
# pyftpdlib's TLS_FTPHandler (the pyftpdlib-tls tests) needs pyOpenSSL.
if ! /usr/bin/python3 -c 'import OpenSSL' 2>/dev/null; then
	echo "install-deps: /usr/bin/python3 cannot import OpenSSL (python3-openssl is installed)" >&2
	exit 1
fi

# vsftpd refuses to start without its secure_chroot_dir.
if [ ! -d /var/run/vsftpd/empty ]; then
	need_root "/var/run/vsftpd/empty is missing"
	mkdir -p /var/run/vsftpd/empty
fi

if ! id "$user" >/dev/null 2>&1; then
	need_root "user $user is missing"
	useradd -M -d "$home" -s "$shell" "$user"
fi
if [ ! -d "$home" ]; then
	need_root "$home is missing"
	mkdir -p "$home"
	chown "$user:" "$home"
	chmod 755 "$home"
fi

# The rest reads /etc/shadow and PAM's lists: only root can check (and fix) it.
[ "$(id -u)" -eq 0 ] || exit 0

if [ "$(getent shadow "$user" | cut -d: -f2)" != "$pwhash" ]; then
	printf '%s:%s\n' "$user" "$pwhash" | chpasswd -e
fi

# Debian's /etc/pam.d/vsftpd denies users listed in /etc/ftpusers (pam_listfile) and users whose shell
# is not in /etc/shells (pam_shells).
if [ "$(getent passwd "$user" | cut -d: -f7)" != "$shell" ]; then
	usermod -s "$shell" "$user"
fi
if ! grep -qx "$shell" /etc/shells 2>/dev/null; then
	echo "$shell" >>/etc/shells
fi
if [ -f /etc/ftpusers ] && grep -qx "$user" /etc/ftpusers; then
	sed -i "/^${user}\$/d" /etc/ftpusers
fi
