#!/bin/sh
# The subgraph image's entrypoint (Dockerfile).
#   migrate   migrate every subgraph's database (subgraphs/registry.py), then exit
#   NAME      migrate subgraph NAME's database (a no-op once `migrate` ran), then serve it on $PORT
set -eu
case "${1:-}" in
    migrate)
        for name in $(python -c 'from subgraphs.registry import NAMES; print(*NAMES)'); do
            echo "migrating $name"
            alembic -n "$name" upgrade head
        done
        ;;
    "" | -*)
        echo "usage: migrate | SUBGRAPH (one of subgraphs/registry.py)" >&2
        exit 64
        ;;
    *)
        alembic -n "$1" upgrade head
        # Metrics in multiprocess mode sum every file of the folder: none may be left from an earlier start.
        if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
            mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
            rm -f "$PROMETHEUS_MULTIPROC_DIR"/*.db
        fi
        exec uvicorn "subgraphs.$1.app:create_app" --factory --host 0.0.0.0 --port "${PORT:-8000}"
        ;;
esac
