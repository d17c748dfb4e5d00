#!/bin/bash
# The official postgres image's entrypoint contract, reduced to what it documents
# (https://hub.docker.com/_/postgres, "Environment Variables" and "Initialization scripts").
set -Eeo pipefail
if [ "${1:0:1}" = '-' ]; then set -- postgres "$@"; fi

if [ "$1" = postgres ]; then
  if [ "$(id -u)" = 0 ]; then
    # As root (plain docker run): own the data folder, then run as postgres, like the official image.
    mkdir -p "$PGDATA"
    find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
  fi
  mkdir -p "$PGDATA"
  chmod 700 "$PGDATA" 2>/dev/null || true
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    user="${POSTGRES_USER:-postgres}"
    db="${POSTGRES_DB:-$user}"
    if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "${POSTGRES_HOST_AUTH_METHOD:-}" != trust ]; then
      echo "Error: database is uninitialized and superuser password is not specified. Set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust)." >&2
      exit 1
    fi
    # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of options, as in the official image
    initdb --username="$user" --pwfile=<(printf '%s\n' "${POSTGRES_PASSWORD:-}") ${POSTGRES_INITDB_ARGS:-}
    printf '\nhost all all all %s\n' "${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >> "$PGDATA/pg_hba.conf"
    printf "listen_addresses = '*'\n" >> "$PGDATA/postgresql.conf"
    # A socket-only server for the database and the init scripts, as the official image does.
    pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -c unix_socket_directories=/var/run/postgresql" -w start
    export PGPASSWORD="${POSTGRES_PASSWORD:-}" PGHOST=/var/run/postgresql PGUSER="$user"
    psql=(psql -v ON_ERROR_STOP=1 --no-password --no-psqlrc)
    if [ "$db" != postgres ]; then "${psql[@]}" --dbname postgres -c "CREATE DATABASE \"$db\""; fi
    for f in /docker-entrypoint-initdb.d/*; do
      case "$f" in
        *.sh) if [ -x "$f" ]; then "$f"; else . "$f"; fi ;;
        *.sql) "${psql[@]}" --dbname "$db" -f "$f" ;;
        *.sql.gz) gunzip -c "$f" | "${psql[@]}" --dbname "$db" ;;
        *) [ -e "$f" ] && echo "ignoring $f" ;;
      esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop
    unset PGPASSWORD PGHOST PGUSER
  fi
fi
exec "$@"
