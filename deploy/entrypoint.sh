#!/bin/sh
# The subgraph image's entrypoint (Dockerfile).
#   migrate        migrate every subgraph's database (subgraphs/registry.py), then exit
#   migrate NAME   migrate subgraph NAME's database, then exit (a Kubernetes pod's init container)
#   serve NAME     serve subgraph NAME on $PORT without migrating (Kubernetes: its init container migrated, and a
#                  pod of an older release restarted during a rollout must not run its migrations again)
#   NAME           migrate subgraph NAME's database (a no-op once `migrate` ran), then serve it on $PORT
set -eu

serve() {
    # Metrics in multiprocess mode sum every file of the folder: none may be left from an earlier start.
    if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
        mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
        rm -f "$PROMETHEUS_MULTIPROC_DIR"/*.db
    fi
    # Keep-alive longer than the router's idle connections (uvicorn's 5 s races them: "socket hang up").
    exec uvicorn "subgraphs.$1.app:create_app" --factory --host 0.0.0.0 --port "${PORT:-8000}" \
        --timeout-keep-alive 30
}

usage() {
    echo "usage: migrate [SUBGRAPH] | serve SUBGRAPH | SUBGRAPH (one of subgraphs/registry.py)" >&2
    exit 64
}

case "${1:-}" in
    migrate)
        if [ -n "${2:-}" ]; then
            alembic -n "$2" upgrade head
            exit
        fi
        for name in $(python -c 'from subgraphs.registry import NAMES; print(*NAMES)'); do
            echo "migrating $name"
            alembic -n "$name" upgrade head
        done
        ;;
    serve)
        [ -n "${2:-}" ] || usage
        serve "$2"
        ;;
    "" | -*)
        usage
        ;;
    *)
        alembic -n "$1" upgrade head
        serve "$1"
        ;;
esac
