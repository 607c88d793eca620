# The worker image: this project on a CUDA build of torch. The same image runs the one-shot
# study creation and the workers (ENTRYPOINT: python -m search.run); the dashboard has a slim
# image of its own (deploy/dashboard.Dockerfile). See docker-compose.yml and deploy/k8s/.
ARG BASE_IMAGE=pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime
FROM ${BASE_IMAGE}

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
# environment). The base image's torch satisfies torch>=2.4, so pip keeps it; the check fails
# the build if a dependency ever replaced it with a CPU-only build.
RUN pip install -c constraints.txt ".[s3]" \
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
