#!/bin/sh
# The user list PgBouncer checks clients against (and logs in to PostgreSQL with).
set -eu
umask 077
printf '"%s" "%s"\n' "$POSTGRES_USER" "$POSTGRES_PASSWORD" > /tmp/userlist.txt
exec pgbouncer /etc/pgbouncer/pgbouncer.ini
