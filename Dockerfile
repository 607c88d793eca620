# The worker image: this project on the CUDA build of the tested torch. The same image runs the
# one-shot study creation and the workers (ENTRYPOINT: python -m search.run); the dashboard has a
# slim image of its own (deploy/dashboard.Dockerfile). See docker-compose.yml and deploy/k8s/.
# The Python the tests ran on; torch's Linux wheel on PyPI brings its CUDA libraries, and the
# NVIDIA container runtime the driver.
FROM python:3.11.7-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HOME=/cache/hf \
    RE_SEARCH_CACHE=/cache/re-search \
    TOKENIZERS_PARALLELISM=false \
    CUDA_DEVICE_ORDER=PCI_BUS_ID

WORKDIR /opt/re-search
COPY pyproject.toml README.md deploy/constraints.txt ./
COPY common ./common
COPY objectives ./objectives
COPY search ./search
COPY storage ./storage
# The versions the tests ran with (deploy/constraints.txt, generated from the tested
# environment), torch included: its pin there has no local label, so the CUDA wheel meets it.
# The check fails the build if a CPU-only build was installed instead.
RUN pip install -c constraints.txt torch ".[s3]" \
    && python -c "import torch, search.run; assert torch.version.cuda, 'torch lost its CUDA build'"

# Named volumes mounted on these directories start with the image's owner, so the non-root
# user can write to them.
RUN useradd --create-home --uid 1000 --shell /usr/sbin/nologin re \
    && mkdir -p /cache/hf /cache/re-search /runs \
    && chown -R re:re /cache /runs
USER re
# Relative outputs (reports/, logs) land in the shared runs volume, not in the image.
WORKDIR /runs

ENTRYPOINT ["python", "-m", "search.run"]
CMD ["--help"]
