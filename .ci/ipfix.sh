#!/usr/bin/env bash
# Installs the IPFIX collectors that tests/ipfix_collectors.rs exports to: nfdump's
# nfcapd/nfdump (Debian 12: 1.7.1) and pmacct's nfacctd (1.7.7, built with the pgsql
# plugin), plus psql to read what nfacctd stored. Idempotent; run as root on Debian 12.
# The tests start the collectors themselves on free loopback ports; the PostgreSQL test
# also needs CLEANPATH_TEST_PG (exported by .ci/postgres.sh).
set -euo pipefail

need=()
command -v nfcapd >/dev/null 2>&1 || need+=(nfdump)
command -v nfdump >/dev/null 2>&1 || need+=(nfdump)
[ -x /usr/sbin/nfacctd ] || command -v nfacctd >/dev/null 2>&1 || need+=(pmacct)
command -v psql >/dev/null 2>&1 || need+=(postgresql-client)

if [ "${#need[@]}" -gt 0 ]; then
  # Packages must not start their own daemons (nfdump's package enables nfcapd on 9995).
  policy_added=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    policy_added=1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    $(printf '%s\n' "${need[@]}" | sort -u) >/dev/null
  if [ "$policy_added" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
fi

echo "ipfix collectors: $(nfcapd -V 2>&1 | head -n1); $(nfacctd -V 2>&1 | head -n1); $(psql --version)"
test -f /usr/share/doc/pmacct/sql/pmacct-create-table_v9.pgsql
