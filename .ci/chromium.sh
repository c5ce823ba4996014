#!/usr/bin/env bash
# Install Chromium and its driver from Debian's packages for the tutor's browser test (run as root).
# Nothing is downloaded by the test itself: Selenium drives /usr/bin/chromium through
# /usr/bin/chromedriver. Safe to run again.
set -euo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
echo "chromium.sh: installing chromium and chromium-driver from Debian packages" >&2
# The package lists are fresh when .ci/postgres.sh ran just before: update only when they are not.
apt-get install -y -qq chromium chromium-driver >&2 || { apt-get update -qq >&2 && apt-get install -y -qq chromium chromium-driver >&2; }
