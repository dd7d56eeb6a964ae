# One image for every Python subgraph; docker-compose picks the subgraph by command.
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/venv
RUN pip install --no-cache-dir uv==0.13.8
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
COPY alembic.ini ./
COPY subgraphs ./subgraphs
ENV PATH=/opt/venv/bin:$PATH
RUN useradd --create-home --uid 10001 app && mkdir -p /data && chown app /data
USER app
# Usage: docker run IMAGE NAME, NAME a subgraph of subgraphs/registry.py (migrates its database, then serves
# subgraphs.NAME.app on $PORT)
ENTRYPOINT ["sh", "-c", "alembic -n \"$0\" upgrade head && exec uvicorn \"subgraphs.$0.app:create_app\" --factory --host 0.0.0.0 --port \"${PORT:-8000}\""]
