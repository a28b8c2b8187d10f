#!/usr/bin/env bash
# Install the TeX packages the paper needs from Debian, only if latexmk is missing.
set -euo pipefail
if command -v latexmk >/dev/null 2>&1 && command -v pdflatex >/dev/null 2>&1; then
    exit 0
fi
packages="latexmk texlive-latex-base texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y --no-install-recommends $packages \
    || { $sudo apt-get update && $sudo apt-get install -y --no-install-recommends $packages; }
