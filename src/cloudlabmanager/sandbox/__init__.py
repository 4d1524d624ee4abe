"""The sandbox cloud: a local Vultr API v2 and Cloudflare API v4 that a CloudLab can run against.

It owns the fake cloud's state (instances, SSH keys, DNS zones and records in
`<state_dir>/state.json`), the instances' loopback addresses, disks
(`<state_dir>/instances/<id>`) and processes, and the fault switch
(`CLM_SANDBOX_FAULTS`). See README.md in this directory.
"""

from .app import create_sandbox_app, sandbox_environment, serve
from .faults import Faults, parse_faults
from .processes import stop_all_processes

__all__ = [
    "Faults",
    "create_sandbox_app",
    "parse_faults",
    "sandbox_environment",
    "serve",
    "stop_all_processes",
]
