#!/usr/bin/env bash
# Installs Debian's Prometheus, Alertmanager and VictoriaMetrics for the end-to-end and metrics
# suites, as root on Debian 12. Idempotent and instant when the binaries are there. Nothing is
# started here: the tests run each binary on loopback with their own config and data directory
# (test/helpers/prometheus.ts, test/helpers/alertmanager.ts); the packages' own services are
# neither needed nor started (a policy-rc.d refusal, or no systemd, is fine).
set -euo pipefail

log() { echo "[ci] $*"; }
die() { echo "[ci] ERROR: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (installs packages)"
export DEBIAN_FRONTEND=noninteractive

missing=()
[ -x /usr/bin/prometheus ] || missing+=(prometheus)
[ -x /usr/bin/prometheus-alertmanager ] || missing+=(prometheus-alertmanager)
[ -x /usr/bin/victoria-metrics ] || missing+=(victoria-metrics)
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]}"
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi
# The packages start their services where systemd runs them; the tests use their own instances.
for unit in prometheus prometheus-alertmanager; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$unit" 2>/dev/null; then systemctl stop "$unit" || true; fi
done
log "$(/usr/bin/prometheus --version 2>&1 | head -n1)"
log "$(/usr/bin/prometheus-alertmanager --version 2>&1 | head -n1)"
log "victoria-metrics $(dpkg-query -W -f='${Version}' victoria-metrics 2>/dev/null || echo present)"
