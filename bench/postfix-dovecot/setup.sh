#!/usr/bin/env bash
# Installs what bench/postfix-dovecot/run.ts needs: Postfix and Dovecot's LMTP server (dovecot-core and dovecot-imapd are
# usually there already). Postfix is preseeded to "No configuration", so no /etc/postfix/main.cf is written: the
# benchmark runs private instances with their own configuration in a temp dir. Services apt may have started are
# stopped and disabled, so nothing system-wide listens on port 25 or holds Dovecot's default sockets. Idempotent.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "run as root (apt-get install)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
packages=(postfix dovecot-core dovecot-lmtpd)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  echo "postfix postfix/mailname string bench.invalid" | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
fi

# Private instances only: stop and disable the system services if apt started them. `systemctl disable` works without a
# running systemd (it removes the unit's symlinks); update-rc.d covers SysV init.
for svc in postfix dovecot; do
  if command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
    systemctl stop "$svc" 2>/dev/null || true
  else
    service "$svc" stop >/dev/null 2>&1 || true
  fi
  if command -v systemctl >/dev/null; then systemctl disable --quiet "$svc" 2>/dev/null || true; fi
  update-rc.d "$svc" disable >/dev/null 2>&1 || true
done
# Anything still running from the system configuration (pid files of the default instances).
if [ -f /var/spool/postfix/pid/master.pid ] && kill -0 "$(tr -d ' ' </var/spool/postfix/pid/master.pid)" 2>/dev/null; then
  /usr/sbin/postfix stop 2>/dev/null || kill "$(tr -d ' ' </var/spool/postfix/pid/master.pid)" || true
fi
if [ -f /run/dovecot/master.pid ] && kill -0 "$(cat /run/dovecot/master.pid)" 2>/dev/null; then
  kill "$(cat /run/dovecot/master.pid)" || true
fi

for f in /usr/sbin/postfix /usr/sbin/postconf /usr/sbin/postmap /usr/sbin/dovecot /usr/lib/dovecot/lmtp; do
  [ -x "$f" ] || { echo "missing $f after install" >&2; exit 1; }
done
echo "postfix $(dpkg-query -W -f='${Version}' postfix), dovecot $(dovecot --version): ready"
