# One image for every Python subgraph; docker-compose picks the subgraph by command.
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/venv
RUN pip install --no-cache-dir uv==0.13.8
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
COPY alembic.ini ./
COPY subgraphs ./subgraphs
COPY deploy/entrypoint.sh ./deploy/
ENV PATH=/opt/venv/bin:$PATH
RUN useradd --create-home --uid 10001 app && mkdir -p /data && chown app /data
USER app
# Usage: docker run IMAGE NAME, NAME a subgraph of subgraphs/registry.py (migrates its database, then serves
# subgraphs.NAME.app on $PORT), or docker run IMAGE migrate (migrates every subgraph's database, then exits).
# Each database is named by its <NAME>_DATABASE_URL.
ENTRYPOINT ["sh", "/app/deploy/entrypoint.sh"]
