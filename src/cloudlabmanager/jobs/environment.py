"""The environment a job step gets: the minimum Ansible needs, nothing of the server's.

The server's own secrets (signing key, database URL, secret key) never reach a
child; only what a lab needs (its cloud credentials, the sandbox endpoints).
"""

from __future__ import annotations

from cloudlabmanager.context import AppContext

PASSED_THROUGH = (
    "HOME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "USER",
    "LOGNAME",
    "TMPDIR",
    "SSH_AUTH_SOCK",
)


def step_environment(ctx: AppContext, *, script: bool) -> dict[str, str]:
    settings = ctx.settings
    host_env = settings.host_environment()
    env = {key: host_env[key] for key in PASSED_THROUGH if key in host_env}
    env.update({k: v for k, v in host_env.items() if k.startswith("ANSIBLE_")})
    env["PATH"] = settings.job_path()
    env.setdefault("HOME", str(settings.data_dir))
    env["PYTHONUNBUFFERED"] = "1"
    env["ANSIBLE_FORCE_COLOR"] = "true"
    env["ANSIBLE_NOCOLOR"] = "false"
    env["ANSIBLE_RETRY_FILES_ENABLED"] = "false"
    env["ANSIBLE_LOCALHOST_WARNING"] = "false"
    # Init playbooks run on the implicit localhost: the "no inventory" warning is noise.
    env["ANSIBLE_INVENTORY_UNPARSED_WARNING"] = "false"
    if settings.vultr_api_key is not None:
        env["VULTR_API_KEY"] = settings.vultr_api_key.get_secret_value()
    if settings.cloudflare_api_token is not None:
        env["CLOUDFLARE_API_TOKEN"] = settings.cloudflare_api_token.get_secret_value()
    env.update(ctx.step_env)
    if script and ctx.vault_file is not None:
        env["ANSIBLE_VAULT_PASSWORD_FILE"] = str(ctx.vault_file)
    return env


def known_secrets(ctx: AppContext) -> list[str]:
    """Every secret a job might print: masked before a line is stored or sent."""
    from cloudlabmanager.lab.vault import known_vault_password

    settings = ctx.settings
    found = [known_vault_password(ctx)]
    for secret in (settings.vultr_api_key, settings.cloudflare_api_token, settings.vault_password):
        if secret is not None:
            found.append(secret.get_secret_value())
    return [s for s in found if s]
