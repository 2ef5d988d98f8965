#!/usr/bin/env bash
# Print the path of a Python interpreter of the given version (e.g. 3.10), or fail.
# Tries PATH, then pyenv's installed versions (whose shims refuse versions not selected).
set -u
version="$1"
for candidate in "python${version}" "$HOME/.pyenv/versions/${version}"*/bin/"python${version}" \
                 "/usr/local/bin/python${version}" "/usr/bin/python${version}"; do
  path=$(command -v "$candidate" 2>/dev/null) || continue
  if "$path" -c "import sys; assert sys.version_info[:2] == tuple(map(int, '${version}'.split('.')))" 2>/dev/null; then
    echo "$path"
    exit 0
  fi
done
if command -v pyenv >/dev/null 2>&1; then
  prefix=$(pyenv prefix "$version" 2>/dev/null) && [ -x "$prefix/bin/python${version}" ] && {
    echo "$prefix/bin/python${version}"; exit 0; }
fi
echo "Python ${version} not found: install it (e.g. 'pyenv install ${version}')" >&2
exit 1
