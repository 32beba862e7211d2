FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    EWSDASH_VAR_DIR=/var/lib/ewsdash
RUN apt-get update \
    && apt-get install -y --no-install-recommends git openssh-client gnupg bubblewrap \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 ewsdash
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# collectstatic needs settings that parse, not the real secret.
RUN DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p /var/lib/ewsdash && chown -R ewsdash /var/lib/ewsdash /app
USER ewsdash
EXPOSE 8000
CMD ["gunicorn", "ewsdash.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
