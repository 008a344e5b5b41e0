#!/usr/bin/env bash
# Installs what @nabla/backend-webgpu's tests need on a fresh Debian machine without a GPU:
# the Vulkan loader and SwiftShader's software Vulkan driver (shipped by Debian's chromium;
# bookworm's own lavapipe is too old for current Dawn). Prints the VK_ICD_FILENAMES to export.
# Usage: packages/backend-webgpu/scripts/ci-setup.sh && export VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json
set -euo pipefail

ICD=/usr/lib/chromium/vk_swiftshader_icd.json
if [ -f "$ICD" ] && ldconfig -p | grep -q 'libvulkan.so.1'; then
  echo "webgpu ci-setup: SwiftShader Vulkan driver already present ($ICD)"
else
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends chromium libvulkan1 >/dev/null
fi
test -f "$ICD" || { echo "webgpu ci-setup: $ICD is missing after install" >&2; exit 1; }
echo "export VK_ICD_FILENAMES=$ICD"
