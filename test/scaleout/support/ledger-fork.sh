# fork-mode fixture for the chaos soak: one process per call (classic watchdog), appends
# "start <call id> <ms>" and "end <call id> <ms>" to the file in env LEDGER, echoes stdin to stdout.
# bash, not node: a shell starts in about a millisecond, so a soak at hundreds of calls a second
# measures faasq and NATS rather than process start-up. EPOCHREALTIME needs no fork of date.
id="${Http_X_Call_Id:-none}"
if [ -n "$LEDGER" ]; then t="${EPOCHREALTIME/./}"; printf 'start %s %s\n' "$id" "${t:0:-3}" >> "$LEDGER"; fi
cat
if [ -n "$LEDGER" ]; then t="${EPOCHREALTIME/./}"; printf 'end %s %s\n' "$id" "${t:0:-3}" >> "$LEDGER"; fi
