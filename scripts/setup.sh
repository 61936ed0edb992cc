#!/usr/bin/env bash
# Prepare a fresh Debian machine for psq: PostGIS for the installed PostgreSQL,
# (with --browser) Chromium for the browser tests, the .venv with the project,
# then start the embedded database and migrate it.
# Installs only what is missing, so a second run takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

want_browser=0
[ "${1:-}" = "--browser" ] && want_browser=1

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

apt_install() {
  if [ "$(id -u)" -eq 0 ]; then
    say "Installing with apt: $*"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    say "Installing with sudo apt: $*"
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  else
    echo "Missing system packages: $*. Install them as root (apt-get install $*) and run this again." >&2
    exit 1
  fi
}

# 1. System packages, only when missing.
missing=()
if [ -z "${DATABASE_URL:-}" ]; then
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$pg_bin" ]; then
    echo "No PostgreSQL server found in /usr/lib/postgresql: install Debian's postgresql package, or set DATABASE_URL." >&2
    exit 1
  fi
  pg_major=$(basename "$(dirname "$pg_bin")")
  [ -f "/usr/share/postgresql/$pg_major/extension/postgis.control" ] || missing+=("postgresql-$pg_major-postgis-3")
fi
if [ "$want_browser" -eq 1 ] && [ ! -x /usr/bin/chromium ]; then
  missing+=(chromium)
fi
# WeasyPrint (the PDF meeting file) needs Pango and a font; Debian's python3 image may lack them.
for pkg in libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt_install "${missing[@]}"
fi

# 2. The virtual environment, reinstalled only when pyproject.toml changes.
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  say "Creating .venv"
  "$python" -m venv .venv
fi
stamp=".venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  say "Installing the project and its dependencies into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[test]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# 3. The database: started (unless DATABASE_URL is set) and migrated.
.venv/bin/psq db start
.venv/bin/psq db migrate
