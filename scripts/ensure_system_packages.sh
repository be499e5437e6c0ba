#!/usr/bin/env bash
# Debian packages the test suite needs beyond Python: Chromium for the browser tests,
# nginx with the RTMP module and ffmpeg for the real video tests, docker-compose to validate
# docker-compose.yml (no engine needed).
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v nginx >/dev/null || need+=(nginx)
[ -e /usr/lib/nginx/modules/ngx_rtmp_module.so ] || need+=(libnginx-mod-rtmp)
command -v ffmpeg >/dev/null || need+=(ffmpeg)
command -v msgfmt >/dev/null || need+=(gettext)
command -v docker-compose >/dev/null || need+=(docker-compose)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "==> apt-get install ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
else
  echo "!! Missing Debian packages: ${need[*]}" >&2
  echo "   Install them with: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
