# One image for every Python subgraph; docker-compose and Kubernetes pick the subgraph by command.
# Pinned to an exact Python release (and uv's), so that a rebuild gets the same interpreter.
FROM python:3.11.11-slim-bookworm
ENV PYTHONUNBUFFERED=1 UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/venv
RUN pip install --no-cache-dir uv==0.13.8
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
COPY alembic.ini ./
COPY subgraphs ./subgraphs
COPY deploy/entrypoint.sh ./deploy/
# Compiled now: the root filesystem is read-only in Kubernetes, so nothing could be cached at run time.
RUN python -m compileall -q subgraphs
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1
RUN groupadd --gid 10001 app && useradd --create-home --uid 10001 --gid 10001 app \
    && mkdir -p /data && chown app /data
# By number, so that Kubernetes' runAsNonRoot can check it (deploy/kubernetes runs it as 10001 too).
USER 10001:10001
# Usage: docker run IMAGE NAME, NAME a subgraph of subgraphs/registry.py (migrates its database, then serves
# subgraphs.NAME.app on $PORT), docker run IMAGE migrate [NAME] (migrates every subgraph's database, or NAME's,
# then exits), or docker run IMAGE serve NAME (serves without migrating; Kubernetes migrates in an init
# container). Each database is named by its <NAME>_DATABASE_URL.
ENTRYPOINT ["sh", "/app/deploy/entrypoint.sh"]
