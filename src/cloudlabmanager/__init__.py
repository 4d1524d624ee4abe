"""CloudLab Manager: a web control plane for Ansible-driven cloud labs."""

__version__ = "0.1.0"
