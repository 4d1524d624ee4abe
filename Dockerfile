# syntax=docker/dockerfile:1
# CloudLab Manager: the server, Ansible (with the vultr.cloud collection) and the
# tools real CloudLab playbooks call (git, ssh, sshpass).
FROM python:3.11-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends git openssh-client sshpass ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir . && rm -rf /src

# Who runs the server: an unprivileged user, not root.
# Real CloudLab playbooks hard-code /services, /init_playbook, … (SPEC section 2). Those
# links need root only to be *created* in /, so they are made here, at build time,
# pointing at the checkout the server keeps in the data volume (/data/lab). At run
# time CLM_LINK_ROOT=true finds them "already ours" and writes nothing to /. The
# entrypoint starts as root only to hand /data (often a fresh root-owned bind mount)
# to that user, then drops every privilege with setpriv before the server starts.
# A lab given as a local directory elsewhere (CLM_LAB=/some/dir) does not match these
# links: step 6 then logs which links it skipped; mount such a lab at /data/lab
# instead, or run the container with `user: root` to let step 6 relink.
RUN useradd --system --create-home --home-dir /home/clm --uid 10001 --user-group clm \
 && mkdir -p /app /data \
 && chown clm:clm /app /data \
 && for name in services init_playbook scripts inventory inputs outputs config.yml; do \
      ln -s "/data/lab/$name" "/$name"; \
    done

RUN cat > /usr/local/bin/clm-entrypoint <<'SH' && chmod 0755 /usr/local/bin/clm-entrypoint
#!/bin/sh
set -eu
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$CLM_DATA_DIR"
  if [ "$(stat -c %u "$CLM_DATA_DIR")" != "$(id -u clm)" ]; then
    chown -R clm:clm "$CLM_DATA_DIR"
  fi
  exec setpriv --reuid=clm --regid=clm --init-groups --inh-caps=-all -- "$@"
fi
exec "$@"
SH

ENV CLM_DATA_DIR=/data \
    CLM_LINK_ROOT=true \
    CLM_STARTUP_DIR=/app \
    HOME=/home/clm \
    PYTHONUNBUFFERED=1

WORKDIR /app
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/auth/status', timeout=4)"

ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/clm-entrypoint"]
CMD ["cloudlabmanager", "serve", "--host", "0.0.0.0", "--port", "8000"]
