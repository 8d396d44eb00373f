#!/usr/bin/env bash
# Installs what ftpmount's tests and demo need on Debian 12, and the local FTP test user.
# Idempotent and silent when everything is already there; needs root only when something is missing.
# Works with no stdin (CI).
set -euo pipefail

# fuse3: fusermount3; vsftpd + python3-pyftpdlib: the servers the tests and the demo run;
# gcc + libc6-dev: `go test -race` needs cgo.
packages=(fuse3 vsftpd python3-pyftpdlib curl rsync git gcc libc6-dev)

# The FTP account the integration tests log in with (integration/vsftpd_test.go has the same values).
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
