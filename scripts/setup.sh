#!/usr/bin/env bash
# Set up vrplayer on a Debian (or Ubuntu) machine: system packages when missing, then a virtual environment in
# .venv with vrplayer installed (editable) and its Python dependencies. Safe to run again: it only does what is missing.
#   scripts/setup.sh          player only
#   scripts/setup.sh --test   also what the test suite needs (Xvfb, PulseAudio, ffmpeg, tesseract, mosquitto, chromium, pytest)
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=0
[[ "${1:-}" == "--test" ]] && want_tests=1

say() { echo "setup: $*" >&2; }

# -- system packages ------------------------------------------------------------------------------------------
# Noto fonts: every script vrplayer writes (fonts-noto-core: Latin, Greek, Cyrillic, Arabic, Hebrew, the Indic
# scripts, Thai; fonts-noto-cjk: Chinese, Japanese, Korean).
packages=(libegl1 libegl-mesa0 libgl1-mesa-dri libgles2 libportaudio2 libxrandr2 libxinerama1 libxcursor1 libxi6 libmysofa1
          fonts-noto-core fonts-noto-cjk)
if ((want_tests)); then
  packages+=(ffmpeg xvfb xauth xdotool pulseaudio pulseaudio-utils libasound2-plugins mkvtoolnix)
  # Rendered text is read back by OCR, in the scripts the subtitle tests write.
  packages+=(tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim tesseract-ocr-rus tesseract-ocr-ara tesseract-ocr-hin)
  # A screening room's tests run their own broker (and openssl makes its TLS certificates); the operator's page is
  # looked at in a real headless browser.
  packages+=(mosquitto openssl chromium chromium-driver)
fi
python_bin=""
for candidate in python3 python3.13 python3.12 python3.11; do
  if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] < (3, 14)))' 2>/dev/null; then
    python_bin=$candidate
    break
  fi
done
if [[ -z "$python_bin" ]]; then
  packages+=(python3 python3-venv)
elif ! "$python_bin" -c 'import ensurepip, venv' 2>/dev/null; then
  packages+=(python3-venv)
fi

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if ! command -v apt-get >/dev/null; then
    say "missing system packages (${missing[*]}) and no apt-get here: install them with your package manager"
    exit 1
  fi
  sudo=""
  ((EUID == 0)) || sudo="sudo"
  say "installing system packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
[[ -n "$python_bin" ]] || python_bin=python3

# -- Python environment ---------------------------------------------------------------------------------------
stamp=".venv/.vrplayer-setup"
extras=""
((want_tests)) && extras="[test]"
fingerprint="$(sha256sum pyproject.toml | cut -c1-16)$extras"
if [[ ! -x .venv/bin/python ]]; then
  say "creating .venv with $("$python_bin" --version)"
  "$python_bin" -m venv .venv
fi
if [[ ! -f "$stamp" ]] || ! grep -qx -- "$fingerprint" "$stamp"; then
  say "installing vrplayer and its Python dependencies into .venv"
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e ".$extras"
  echo "$fingerprint" >"$stamp"
fi
