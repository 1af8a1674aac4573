#!/usr/bin/env bash
# Install Debian's headless Chromium for the browser tests when it is missing.
# Without root or apt-get it only reports; the browser tests then skip with a message.
set -u
if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "chromium is missing and cannot be installed here (needs root and apt-get);" \
         "the browser tests will be skipped. Install it with: apt-get install chromium" >&2
    exit 0
fi
echo "Installing Debian's chromium for the browser tests..." >&2
apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
    || echo "apt-get could not install chromium; the browser tests will be skipped." >&2
exit 0
