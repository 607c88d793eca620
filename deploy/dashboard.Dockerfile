# optuna-dashboard for a search (python -m search.dashboard): a slim Python image with optuna,
# optuna-dashboard, the Postgres driver and boto3, and no torch or CUDA. The versions are the
# tested ones (deploy/constraints.txt). Build from the repository root:
#   docker build -f deploy/dashboard.Dockerfile -t re-search-dashboard .
FROM python:3.11.7-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/re-search
COPY pyproject.toml README.md deploy/constraints.txt ./
COPY common ./common
COPY objectives ./objectives
COPY search ./search
COPY storage ./storage
# The project itself without its training dependencies: the dashboard command imports neither
# torch nor transformers.
RUN pip install -c constraints.txt optuna optuna-dashboard sqlalchemy "psycopg[binary]" boto3 \
    && pip install --no-deps . \
    && python -c "import sys, search.dashboard; assert 'torch' not in sys.modules"

RUN useradd --create-home --uid 1000 --shell /usr/sbin/nologin re
USER re
WORKDIR /home/re
EXPOSE 8080
ENTRYPOINT ["python", "-m", "search.dashboard"]
CMD ["--help"]
