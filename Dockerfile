# syntax=docker/dockerfile:1
# Framing classifier API. Build stage: build wheels and train the default model
# from the bundled corpus. Runtime stage: the package (with Dask, so the same
# image runs the compose scheduler and workers) and the model, nothing else.
ARG BASE_IMAGE=python:3.12-slim

FROM ${BASE_IMAGE} AS build
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml setup.cfg README.md ./
COPY model/ model/
COPY training/ training/
COPY service/ service/
COPY batch/ batch/
COPY labeling/ labeling/
COPY report/ report/
RUN python3 -m venv /opt/build \
    && /opt/build/bin/pip install --upgrade pip wheel \
    && /opt/build/bin/pip wheel --wheel-dir /wheels ".[train,dask]" \
    && /opt/build/bin/pip install --no-index --find-links /wheels "framing-classifier[train]"
RUN /opt/build/bin/framing-train --quiet --no-dev --out /opt/model \
    && rm -f /opt/model/*.png

FROM ${BASE_IMAGE} AS runtime
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH \
    FRAMING_MODEL_DIR=/opt/model \
    FRAMING_DATA_DIR=/var/lib/framing \
    HOST=0.0.0.0 \
    PORT=8000
COPY --from=build /wheels /wheels
RUN python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-index --find-links /wheels "framing-classifier[dask]" \
    && rm -rf /wheels \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin framing \
    && mkdir -p /var/lib/framing && chown 10001 /var/lib/framing
COPY --from=build /opt/model /opt/model
WORKDIR /app
COPY gunicorn.conf.py /app/gunicorn.conf.py
USER 10001
# The default SQLite label database lives here: mount a volume to keep it, or
# set FRAMING_DATABASE_URL to a PostgreSQL database.
VOLUME ["/var/lib/framing"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python3", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status == 200 else 1)"]
CMD ["gunicorn", "-c", "gunicorn.conf.py"]
