#!/bin/sh
# The official redis image's entrypoint contract: options are passed to redis-server; started as
# root it takes ownership of /data and drops to the redis user.
set -e
case "$1" in -*|*.conf) set -- redis-server "$@";; esac
if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
  find . \! -user redis -exec chown redis '{}' +
  exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi
# Debian's redis-server defaults to protected mode off only with a config; match the image (listen everywhere).
if [ "$1" = redis-server ]; then
  shift
  set -- redis-server --bind '* -::*' --protected-mode no "$@"
fi
exec "$@"
