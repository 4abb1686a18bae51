# The connector as a container: `serve` (the webhook server, the default command) or any other command,
# e.g. the scheduled job: `docker run --env-file .env -v helpdesk-data:/data helpdesk-kpi run`. The same
# image runs on AWS Lambda (template.yaml): there `awslambdaric`, AWS's runtime interface client, calls
# the handler instead of the CLI.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HELPDESK_DATABASE_URL=sqlite:////data/helpdesk.db

WORKDIR /app
COPY pyproject.toml README.md ./
COPY connector ./connector
COPY adapters ./adapters
RUN pip install ".[postgres]" "awslambdaric>=3" \
    && useradd --system --create-home --uid 10001 connector \
    && mkdir /data && chown connector /data

USER connector
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"]
ENTRYPOINT ["helpdesk-kpi"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
