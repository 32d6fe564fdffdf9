# The console's image: one image, four commands (README, "Running in production"). This project's
# machines have no container runtime, so it is never built there: it runs only what CI runs, `make
# install` and the make targets that tests/test_production.py starts (collectstatic is the release
# step's third part).
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    VAR_DIR=/var/lib/console \
    PORT=8000

RUN apt-get update \
    && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /home/console console \
    && install -d -o console -g console /app /var/lib/console

WORKDIR /app
USER console

# The dependencies first, so that a change of code reuses this layer.
COPY --chown=console:console requirements.txt requirements-test.txt Makefile ./
RUN make install

COPY --chown=console:console . .
# The static files in the image itself, so that every web container serves them; the release step's
# collectstatic then finds them unchanged. A secret only for this command: loading the settings needs one.
RUN SECRET_KEY=collectstatic-only-not-a-secret .venv/bin/python manage.py collectstatic --noinput -v 0

EXPOSE 8000
# web by default; compose.yaml (or the platform) runs the same image as `make worker`, `make beat` and
# `make release`. make passes a SIGTERM on to the process, which stops gracefully.
CMD ["make", "web"]
