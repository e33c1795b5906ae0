#!/bin/sh
# cleanpath-nightly.sh: the nightly Clean Path report over yesterday's captures.
#
# Reads the JSON lines that `cleanpath analyze --json` wrote into $CLEANPATH_JSONL_DIR,
# reports the previous UTC day (capture time) in HTML, text and JSON into
# $CLEANPATH_REPORT_DIR, marks what is new since the previous night, keeps the last
# $CLEANPATH_KEEP reports, and on a violation mails the text report (mail or sendmail, when
# $CLEANPATH_MAIL_TO is set and one of them is installed) or prints it (cron mails output).
# Exits with the report's code: 0 clean, 1 violations, 2 error, so that cron, systemd
# (the unit fails) and monitoring notice.
#
# Settings (environment):
#   CLEANPATH            the binary                          (default: cleanpath)
#   CLEANPATH_JSONL_DIR  where analyze writes *.jsonl[.gz]   (default: /var/lib/cleanpath/flows)
#   CLEANPATH_REPORT_DIR where reports go                    (default: /var/lib/cleanpath/reports)
#   CLEANPATH_KEEP       reports (days) to keep              (default: 30)
#   CLEANPATH_MAIL_TO    mail address for violations         (default: unset = print)
#   CLEANPATH_DAY        the day to report, YYYY-MM-DD UTC   (default: yesterday; for backfills)
#   CLEANPATH_ARGS       extra report arguments, e.g. "--sensor edge-1"
set -u

CLEANPATH=${CLEANPATH:-cleanpath}
JSONL_DIR=${CLEANPATH_JSONL_DIR:-/var/lib/cleanpath/flows}
REPORT_DIR=${CLEANPATH_REPORT_DIR:-/var/lib/cleanpath/reports}
KEEP=${CLEANPATH_KEEP:-30}
MAIL_TO=${CLEANPATH_MAIL_TO:-}
DAY=${CLEANPATH_DAY:-$(date -u -d yesterday +%F)}
NEXT=$(date -u -d "$DAY + 1 day" +%F) || { echo "cleanpath-nightly: bad day '$DAY'" >&2; exit 2; }
STATE="$REPORT_DIR/state"
HOST=$(uname -n)

mkdir -p "$REPORT_DIR" "$STATE" || exit 2

# Inputs: every JSON lines file written since the day before $DAY (a file written earlier
# holds no capture of $DAY); the report's period then picks the flows of $DAY exactly.
SINCE=$(date -u -d "$DAY - 1 day" +%F)
set --
for f in $(find "$JSONL_DIR" -maxdepth 1 -type f \( -name '*.jsonl' -o -name '*.jsonl.gz' \) \
             -newermt "$SINCE" 2>/dev/null | sort); do
  set -- "$@" --jsonl "$f"
done
if [ $# -eq 0 ]; then
  echo "cleanpath-nightly: no JSON lines written since $SINCE in $JSONL_DIR: nothing was analysed" >&2
  exit 2
fi

base="$REPORT_DIR/cleanpath-report-$DAY"
rc=0
for fmt in json html text; do
  ext=$fmt; [ "$fmt" = text ] && ext=txt
  # shellcheck disable=SC2086 # CLEANPATH_ARGS is split on purpose
  "$CLEANPATH" report "$@" --from "$DAY" --to "$NEXT" --state-dir "$STATE" \
      --format "$fmt" -o "$base.$ext" ${CLEANPATH_ARGS:-}
  rc=$?
  [ $rc -ge 2 ] && { echo "cleanpath-nightly: report failed (exit $rc)" >&2; exit 2; }
done

# Keep the last $KEEP days of reports and state.
for pattern in "$REPORT_DIR/cleanpath-report-*" "$STATE/cleanpath-report-*.json"; do
  dir=$(dirname "$pattern")
  ls -1 "$dir" 2>/dev/null | grep '^cleanpath-report-' | sed 's/\.[a-z]*$//' | sort -u \
    | head -n "-$KEEP" | while read -r old; do rm -f "$dir/$old".*; done
done

if [ $rc -eq 1 ]; then
  subject="cleanpath: Clean Path VIOLATION on $HOST for $DAY"
  if [ -n "$MAIL_TO" ] && command -v mail >/dev/null 2>&1; then
    mail -s "$subject" "$MAIL_TO" < "$base.txt"
  elif [ -n "$MAIL_TO" ] && command -v sendmail >/dev/null 2>&1; then
    { printf 'To: %s\nSubject: %s\nContent-Type: text/plain; charset=utf-8\n\n' "$MAIL_TO" "$subject"
      cat "$base.txt"; } | sendmail -t
  else
    echo "$subject"
    cat "$base.txt"
  fi
  echo "cleanpath-nightly: violations on $DAY; reports in $base.{html,txt,json}" >&2
fi
exit $rc
