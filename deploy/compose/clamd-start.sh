#!/bin/sh
# Starts clamd in the compose stack: a first signature download (clamd refuses to start without
# a database), freshclam as a daemon checking 12 times a day, then clamd in the foreground.
set -eu
if ! ls /var/lib/clamav/*.c[lv]d >/dev/null 2>&1; then
  freshclam --stdout --foreground
fi
freshclam --stdout --daemon --checks=12
exec clamd --foreground
