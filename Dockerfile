# slotwise: the web app and the worker in one small image, run as a non-root user.
#   docker build -t slotwise .
#   docker run --env-file slotwise.env slotwise            # the web app on :8000
#   docker run --env-file slotwise.env slotwise worker     # the background worker
# compose.yaml runs both with PostgreSQL and Redis.

FROM python:3.13-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # caldav's urllib3-future must not replace urllib3 (see the Makefile).
    URLLIB3_NO_OVERRIDE=1
RUN python -m venv /opt/slotwise
COPY requirements.production.lock /tmp/
RUN /opt/slotwise/bin/pip install --no-binary urllib3-future --require-hashes \
        -r /tmp/requirements.production.lock \
    && /opt/slotwise/bin/python -c 'import urllib3, importlib.metadata as m; \
        assert urllib3.__version__ == m.version("urllib3"), "urllib3 was replaced"'
COPY pyproject.toml README.md /src/
COPY src /src/src
RUN /opt/slotwise/bin/pip install --no-deps /src
# Static files collected and compressed once, at build time, with a throwaway
# configuration: nothing of it stays in the image but the files.
RUN SLOTWISE_ENV=production SLOTWISE_SECRET_KEY=build-only-build-only-build-only-build-only-build-only \
    SLOTWISE_ALLOWED_HOSTS=build SLOTWISE_DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    SLOTWISE_SMTP_URL=smtp://build SLOTWISE_VAR_DIR=/var/lib/slotwise \
    /opt/slotwise/bin/slotwise manage collectstatic --no-input --verbosity 0

FROM python:3.13-slim-bookworm
# pg_dump and pg_restore for `slotwise backup` and `slotwise restore`.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/slotwise --shell /usr/sbin/nologin slotwise
COPY --from=build /opt/slotwise /opt/slotwise
COPY --from=build --chown=slotwise:slotwise /var/lib/slotwise /var/lib/slotwise
ENV PATH=/opt/slotwise/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    SLOTWISE_ENV=production SLOTWISE_VAR_DIR=/var/lib/slotwise
USER slotwise
WORKDIR /var/lib/slotwise
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)" || exit 1
ENTRYPOINT ["slotwise"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
